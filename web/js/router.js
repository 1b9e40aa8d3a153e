// Pages by path, with the history API. A page module registers its paths when imported:
//
//   route('/questions/:id', render, {
//     auth: true,                  // true: logged-in only (else to /login?next=...)
//                                  // 'guest': logged-out only (else to /); omitted: anyone
//     roles: ['CUSTOMER'],         // with auth: true, whose pages these are (the default:
//                                  // customers'); another role goes to the start page
//     title: 'questions.title',    // i18n key for document.title
//     nav: { label: 'nav.questions', order: 50 },  // an entry in the header's menu
//   });
//
// `render({ params, query, path })` returns a Node (or a Promise of one) that replaces
// the content of <main>; params are the `:name` parts, query the URLSearchParams. The
// page is drawn again when the language changes, so keep state that must survive a
// redraw (a step of a wizard) in the module, not only in the DOM.
//
// Same-origin links to a registered path are followed without reloading; any other
// link (a receipt's PDF, the payment page) is an ordinary navigation.

import { ApiError, describeError, UNAUTHENTICATED_EVENT } from './api.js';
import { h } from './dom.js';
import { onLanguageChange, t } from './i18n.js';
import { viewer } from './session.js';

const routes = [];
const listeners = new Set();
let notFound = () => document.createTextNode('404');
let generation = 0;
let drawn = false; // a page has been drawn since the document loaded

function compile(pattern) {
  const keys = [];
  const source = pattern
    .split('/')
    .map((part) => {
      if (part.startsWith(':')) {
        keys.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${source}/?$`), keys };
}

export function route(pattern, render, options = {}) {
  routes.push({ pattern, render, options, ...compile(pattern) });
}

export function setNotFound(render) {
  notFound = render;
}

export function match(pathname) {
  for (const entry of routes) {
    const found = entry.regex.exec(pathname);
    if (found) {
      const params = {};
      entry.keys.forEach((key, i) => {
        params[key] = decodeURIComponent(found[i + 1]);
      });
      return { entry, params };
    }
  }
  return null;
}

// Whose a logged-in-only page is: customers' unless it says (a specialist's console,
// the sessions page both have).
export function rolesOf(options) {
  return options.roles || ['CUSTOMER'];
}

// Menu entries of the registered pages, in order, for who is looking (the viewer or null).
export function navigation(user) {
  const loggedIn = Boolean(user);
  const mine = (r) => r.options.auth !== true || (loggedIn && rolesOf(r.options).includes(user.role));
  return routes
    .filter((r) => r.options.nav && mine(r) && (r.options.auth === true || r.options.auth !== 'guest' || !loggedIn))
    .sort((a, b) => (a.options.nav.order ?? 100) - (b.options.nav.order ?? 100))
    .map((r) => ({ path: r.pattern, label: t(r.options.nav.label) }));
}

export function navigate(to, { replace = false } = {}) {
  const url = new URL(to, location.href);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  return render();
}

// `fn(path)` after every page drawn (the header marks the current menu entry).
export function onNavigate(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export async function render() {
  const mine = ++generation;
  const url = new URL(location.href);
  const found = match(url.pathname);
  const main = document.getElementById('main');
  main.setAttribute('aria-busy', 'true');
  try {
    let node;
    if (!found) {
      node = await notFound({ params: {}, query: url.searchParams, path: url.pathname });
    } else {
      const { auth } = found.entry.options;
      if (auth !== undefined) {
        const user = await viewer();
        if (mine !== generation) return;
        if (auth === true && !user) {
          return navigate(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, { replace: true });
        }
        if (auth === 'guest' && user) return navigate('/', { replace: true });
        // a specialist never sees a customer's page, nor a customer the console
        if (auth === true && !rolesOf(found.entry.options).includes(user.role)) {
          return navigate('/', { replace: true });
        }
      }
      node = await found.entry.render({ params: found.params, query: url.searchParams, path: url.pathname });
    }
    if (mine !== generation) return;
    main.replaceChildren(node);
    const title = found && found.entry.options.title ? t(found.entry.options.title) : null;
    document.title = title ? `${title} — ${t('common.appName')}` : t('common.appName');
    if (drawn) {
      // after a navigation, not on the first load: there the skip link comes first
      (main.querySelector('h1') || main).focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
    drawn = true;
  } catch (error) {
    // The page could not get its data: a session that ended meanwhile goes to the login
    // page (and back here after it); anything else is said where the page would be.
    if (mine !== generation) return;
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
      if (error.reason) return; // a session that died: the listener below went to /login
      return navigate(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, { replace: true });
    }
    console.error(error);
    main.replaceChildren(h('div', { class: 'notice notice-error', role: 'alert' }, describeError(error)));
  } finally {
    if (mine === generation) main.removeAttribute('aria-busy');
  }
  for (const listener of listeners) listener(url.pathname);
}

// Draw the current page again (after a page changed its own state).
export function refresh() {
  return render();
}

function followLink(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || !match(url.pathname)) return;
  // a jump within the page (the skip link) is the browser's
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

// A session the page held died (expired, ended elsewhere, or damaged): to the login page,
// which says why, and back here after it. The server has deleted the cookie already. Heard
// from the first request on (the header asks who is logged in before the router starts);
// the navigation waits for the failed request to settle, so the login page asks afresh.
window.addEventListener(UNAUTHENTICATED_EVENT, (event) => {
  const reason = event.detail && event.detail.reason;
  if (!reason) return;
  const here = new URL(location.href);
  const next = here.pathname === '/login' ? here.searchParams.get('next') || '/' : here.pathname + here.search;
  const to = `/login?next=${encodeURIComponent(next)}&ended=${encodeURIComponent(reason)}`;
  setTimeout(() => navigate(to, { replace: true }), 0);
});

export function start() {
  window.addEventListener('popstate', () => render());
  document.addEventListener('click', followLink);
  onLanguageChange(() => render());
  return render();
}
