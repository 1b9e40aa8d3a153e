// The frame around every page: the company's name, the menu of the registered pages, the
// language switch and, for a logged-in cabinet, its address and "Log out".

import { button, fill, h } from './dom.js';
import { addMessages, language, onLanguageChange, setLanguage, t } from './i18n.js';
import { navigate, navigation, onNavigate } from './router.js';
import { logout, onViewerChange, viewer } from './session.js';

addMessages({
  ru: {
    'common.appName': 'Личный кабинет',
    'layout.skip': 'Перейти к содержанию',
    'layout.menu': 'Разделы кабинета',
    'layout.switchLanguage': 'English',
    'layout.switchLanguageLabel': 'Switch to English',
    'layout.logout': 'Выйти',
    'layout.loggedInAs': 'Вы вошли как {email}',
  },
  en: {
    'common.appName': 'Customer cabinet',
    'layout.skip': 'Skip to content',
    'layout.menu': 'Cabinet sections',
    'layout.switchLanguage': 'Русский',
    'layout.switchLanguageLabel': 'Перейти на русский язык',
    'layout.logout': 'Log out',
    'layout.loggedInAs': 'Logged in as {email}',
  },
});

let user = null;

function draw() {
  const header = document.getElementById('header');
  const here = location.pathname;
  const items = navigation(Boolean(user)).map((item) =>
    h(
      'li',
      {},
      h(
        'a',
        { href: item.path, 'aria-current': here === item.path || here.startsWith(`${item.path}/`) ? 'page' : null },
        item.label,
      ),
    ),
  );
  fill(
    header,
    h('a', { class: 'skip', href: '#main' }, t('layout.skip')),
    h(
      'div',
      { class: 'bar' },
      h('a', { class: 'brand', href: '/' }, t('common.appName')),
      h(
        'div',
        { class: 'tools' },
        button(t('layout.switchLanguage'), {
          class: 'link',
          lang: language() === 'ru' ? 'en' : 'ru',
          'aria-label': t('layout.switchLanguageLabel'),
          onclick: () => setLanguage(language() === 'ru' ? 'en' : 'ru'),
        }),
        user ? h('span', { class: 'who' }, t('layout.loggedInAs', { email: user.email })) : null,
        user
          ? button(t('layout.logout'), {
              class: 'link',
              onclick: async () => {
                await logout();
                navigate('/login');
              },
            })
          : null,
      ),
    ),
    items.length ? h('nav', { 'aria-label': t('layout.menu') }, h('ul', {}, items)) : null,
  );
}

export async function startLayout() {
  user = await viewer().catch(() => null);
  onViewerChange((value) => {
    user = value;
    draw();
  });
  onNavigate(draw);
  onLanguageChange(draw);
  draw();
}
