// The app's only way to the server: POST /graphql, like any other client.
//
//   const data = await graphql(VIEWER);   // a gql`query Viewer { me { email } }` (gql.js)
//   const payload = await mutate('login', LOGIN, { email, password });
//   if (payload.userErrors.length) showErrors(form, payload.userErrors, codeText('login'));
//
// The session is the HttpOnly cookie the server sets at login (same origin, so
// `credentials: 'same-origin'` sends it); JavaScript never sees the token. Top-level
// errors (network, not logged in, rate limited, a masked server error) are thrown as
// ApiError with the code from `extensions.code`; expected refusals come back in the
// payload's userErrors, one sentence each via codeText(prefix). A session that died (the
// server answers UNAUTHENTICATED with `extensions.reason` EXPIRED, REVOKED or INVALID, and
// deletes the cookie) is told to the app as UNAUTHENTICATED_EVENT with that reason; the
// router then goes to the login page, which says why.

import { addMessages, has, language, t } from './i18n.js';

addMessages({
  ru: {
    'api.NETWORK': 'Нет связи с сервером. Проверьте подключение к интернету и повторите.',
    'api.UNAUTHENTICATED': 'Сеанс закончился. Войдите снова.',
    'api.FORBIDDEN': 'Это действие вам недоступно.',
    'api.RATE_LIMITED': 'Слишком много запросов. Подождите минуту и повторите.',
    'api.UNEXPECTED': 'Что-то пошло не так на нашей стороне. Повторите чуть позже.',
    'api.TOO_MANY_ATTEMPTS': 'Слишком много попыток. Повторите {retryAfter}.',
    'api.later': 'позже',
  },
  en: {
    'api.NETWORK': 'The server cannot be reached. Check your connection and try again.',
    'api.UNAUTHENTICATED': 'Your session has ended. Please log in again.',
    'api.FORBIDDEN': 'You are not allowed to do this.',
    'api.RATE_LIMITED': 'Too many requests. Wait a minute and try again.',
    'api.UNEXPECTED': 'Something went wrong on our side. Please try again a little later.',
    'api.TOO_MANY_ATTEMPTS': 'Too many attempts. Try again {retryAfter}.',
    'api.later': 'later',
  },
});

export class ApiError extends Error {
  constructor(code, message, errors = [], reason = null) {
    super(message || code);
    this.code = code;
    this.errors = errors;
    this.reason = reason; // with UNAUTHENTICATED: why a session presented is over
  }
}

// Fired on window when the server says the session is gone (session.js and router.js
// listen); `event.detail.reason` is set when a session the request presented died.
export const UNAUTHENTICATED_EVENT = 'kabinet:unauthenticated';

export async function graphql(query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/graphql-response+json, application/json',
        'Accept-Language': language(),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('NETWORK');
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(response.status === 429 ? 'RATE_LIMITED' : 'UNEXPECTED');
  }
  if (body.errors && body.errors.length) {
    const [first] = body.errors;
    const code = (first.extensions && first.extensions.code) || 'UNEXPECTED';
    const reason = (code === 'UNAUTHENTICATED' && first.extensions.reason) || null;
    if (code === 'UNAUTHENTICATED') {
      window.dispatchEvent(new CustomEvent(UNAUTHENTICATED_EVENT, { detail: { reason } }));
    }
    throw new ApiError(code, first.message, body.errors, reason);
  }
  return body.data;
}

// Run a mutation whose document takes `$input` and return its payload (data[field]).
export async function mutate(field, document, input) {
  const data = await graphql(document, { input });
  return data[field];
}

// "in 15 minutes" / "через 15 минут" for a retryAfter date-time.
export function retryText(retryAfter) {
  if (!retryAfter) return t('api.later');
  const minutes = Math.max(1, Math.ceil((new Date(retryAfter) - Date.now()) / 60000));
  const relative = new Intl.RelativeTimeFormat(language(), { numeric: 'auto' });
  return minutes < 90 ? relative.format(minutes, 'minute') : relative.format(Math.round(minutes / 60), 'hour');
}

// The sentence for one userError: the page's own text for `${prefix}.${code}` when it has
// one (with {retryAfter} and any `params`; several prefixes are tried in order), else the
// server's message (localized by Accept-Language), so a code the page does not know yet
// still reads well.
export function userErrorText(prefixes, error, params = {}) {
  const values = { ...params, retryAfter: retryText(error.retryAfter) };
  for (const prefix of [prefixes].flat()) {
    if (has(`${prefix}.${error.code}`)) return t(`${prefix}.${error.code}`, values);
  }
  if (error.code === 'TOO_MANY_ATTEMPTS') return t('api.TOO_MANY_ATTEMPTS', values);
  return error.message;
}

// `codeText('login')`, `codeText(['register', 'proof'])` -> a function for showErrors.
export function codeText(prefixes, params = {}) {
  return (error) => userErrorText(prefixes, error, params);
}

// The sentence for anything thrown (an ApiError, or a bug).
export function describeError(error) {
  const code = error instanceof ApiError ? error.code : 'UNEXPECTED';
  return has(`api.${code}`) ? t(`api.${code}`) : t('api.UNEXPECTED');
}
