// The app's entry point: the pages it has, then the frame and the router.
//
// To add a page: write a module under pages/ that calls route(...) (and addMessages for
// its texts), and import it in the list below. Nothing else needs to change: the server
// answers index.html for any path that is not the API's (routes/web.py).

import { h } from './dom.js';
import { addMessages, t } from './i18n.js';
import { setNotFound, start } from './router.js';
import { startLayout } from './layout.js';

// ---- the pages -------------------------------------------------------------------
import './pages/home.js';
import './pages/login.js';
import './pages/register.js';
import './pages/verify-email.js';
import './pages/forgot-password.js';
import './pages/recover.js';
import './pages/set-password.js';
import './pages/dashboard.js';
import './pages/readings.js';
import './pages/payments.js';
import './pages/receipts.js';
import './pages/questions.js';
import './pages/sessions.js';
import './pages/guest-pay.js';
import './pages/guest-reading.js';
import './pages/security-log.js';
import './pages/settings.js';
import './pages/console.js';
// ----------------------------------------------------------------------------------

addMessages({
  ru: {
    'notFound.title': 'Страница не найдена',
    'notFound.text': 'Такой страницы в личном кабинете нет.',
    'notFound.home': 'На главную',
  },
  en: {
    'notFound.title': 'Page not found',
    'notFound.text': 'There is no such page in the cabinet.',
    'notFound.home': 'Go to the start page',
  },
});

setNotFound(() =>
  h(
    'section',
    { class: 'page' },
    h('h1', { tabindex: '-1' }, t('notFound.title')),
    h('p', {}, t('notFound.text')),
    h('p', {}, h('a', { href: '/' }, t('notFound.home'))),
  ),
);

await startLayout();
await start();
