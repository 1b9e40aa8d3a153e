// Who is logged in, as far as the page knows: `me` asked once, then kept until a login,
// a logout or an UNAUTHENTICATED answer changes it.
//
//   const user = await viewer();   // { id, email, emailVerified, language, role, ... } or null
//   onViewerChange((user) => ...);

import { graphql, mutate, UNAUTHENTICATED_EVENT } from './api.js';
import { gql } from './gql.js';

export const VIEWER_FIELDS = gql`fragment ViewerFields on User {
  id email emailVerified language role displayName privacyNotice { version url accepted }
}`;
const VIEWER = gql`query Viewer { me { ...ViewerFields } } ${VIEWER_FIELDS}`;
const LOGOUT = gql`mutation Logout { logout { endedSessions userErrors { code } } }`;
const listeners = new Set();
let known; // undefined: not asked yet; null: nobody
let pending = null;

export async function viewer() {
  if (known !== undefined) return known;
  if (!pending) {
    pending = graphql(VIEWER)
      .then((data) => setViewer(data.me))
      .finally(() => {
        pending = null;
      });
  }
  return pending;
}

export function setViewer(user) {
  known = user || null;
  for (const listener of listeners) listener(known);
  return known;
}

// Ask the server again (something about the cabinet changed elsewhere).
export async function refreshViewer() {
  known = undefined;
  return viewer();
}

export function forgetViewer() {
  return setViewer(null);
}

export function onViewerChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export async function logout() {
  try {
    await mutate('logout', LOGOUT);
  } finally {
    forgetViewer();
  }
}

window.addEventListener(UNAUTHENTICATED_EVENT, () => {
  if (known) forgetViewer();
});
