// Menu entries for the account pages that are still to come. A page module that takes
// one of these paths replaces its line here (remove it, then import the new module in
// app.js): the first registration of a path wins.

import { h, page } from '../dom.js';
import { addMessages, t } from '../i18n.js';
import { route } from '../router.js';

addMessages({
  ru: {
    'nav.dashboard': 'Главная',
    'nav.readings': 'Показания',
    'nav.payments': 'Платежи',
    'nav.receipts': 'Квитанции',
    'nav.questions': 'Вопросы',
    'nav.sessions': 'Сеансы',
    'placeholder.text': 'Этот раздел скоро появится.',
  },
  en: {
    'nav.dashboard': 'Overview',
    'nav.readings': 'Readings',
    'nav.payments': 'Payments',
    'nav.receipts': 'Bills',
    'nav.questions': 'Questions',
    'nav.sessions': 'Sessions',
    'placeholder.text': 'This section is coming soon.',
  },
});

const PAGES = [
  ['/questions', 'nav.questions', 50],
  ['/sessions', 'nav.sessions', 60],
];

for (const [path, label, order] of PAGES) {
  route(path, () => page(t(label), h('p', {}, t('placeholder.text'))), {
    auth: true,
    title: label,
    nav: { label, order },
  });
}
