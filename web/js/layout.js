// The frame around every page: the company's name, the menu of the registered pages, the
// language switch and, for a logged-in cabinet, its address and "Log out".

import { codeText, describeError, mutate } from './api.js';
import { button, fill, h } from './dom.js';
import { gql } from './gql.js';
import { addMessages, language, onLanguageChange, setLanguage, t } from './i18n.js';
import { navigate, navigation, onNavigate } from './router.js';
import { logout, onViewerChange, refreshViewer, setViewer, viewer } from './session.js';

addMessages({
  ru: {
    'common.appName': 'Личный кабинет',
    'layout.skip': 'Перейти к содержанию',
    'layout.menu': 'Разделы кабинета',
    'layout.switchLanguage': 'English',
    'layout.switchLanguageLabel': 'Switch to English',
    'layout.logout': 'Выйти',
    'layout.loggedInAs': 'Вы вошли как {email}',
    'layout.unverified':
      'Адрес {email} ещё не подтверждён: откройте ссылку из письма, которое мы прислали. Пока адрес не подтверждён, мы не сможем помочь восстановить доступ по почте.',
    'layout.resend': 'Прислать письмо ещё раз',
    'layout.resent': 'Письмо отправлено на {email}.',
    'layout.ALREADY_VERIFIED': 'Адрес уже подтверждён.',
    'layout.TOO_MANY_ATTEMPTS': 'Письмо уже отправлялось недавно. Повторите {retryAfter}.',
    'layout.TOO_MANY_EMAILS': 'За последний час мы отправили вам много писем. Повторите {retryAfter}.',
    'privacy.changed': 'Мы обновили уведомление об обработке персональных данных (редакция от {version}). Пожалуйста, ознакомьтесь с ним.',
    'privacy.read': 'Прочитать уведомление',
    'privacy.accept': 'Ознакомился(-ась) и согласен(-на)',
    'privacy.PRIVACY_NOTICE_NOT_ACCEPTED': 'Уведомление только что изменилось: ознакомьтесь с новой редакцией.',
  },
  en: {
    'common.appName': 'Customer cabinet',
    'layout.skip': 'Skip to content',
    'layout.menu': 'Cabinet sections',
    'layout.switchLanguage': 'Русский',
    'layout.switchLanguageLabel': 'Перейти на русский язык',
    'layout.logout': 'Log out',
    'layout.loggedInAs': 'Logged in as {email}',
    'layout.unverified':
      'The address {email} is not confirmed yet: open the link in the letter we sent. Until it is, we cannot help you recover access by e-mail.',
    'layout.resend': 'Send the letter again',
    'layout.resent': 'The letter went to {email}.',
    'layout.ALREADY_VERIFIED': 'The address is confirmed already.',
    'layout.TOO_MANY_ATTEMPTS': 'A letter was sent a moment ago. Try again {retryAfter}.',
    'layout.TOO_MANY_EMAILS': 'We have sent you many letters in the last hour. Try again {retryAfter}.',
    'privacy.changed': 'We have updated our personal data notice (version of {version}). Please read it.',
    'privacy.read': 'Read the notice',
    'privacy.accept': 'I have read it and agree',
    'privacy.PRIVACY_NOTICE_NOT_ACCEPTED': 'The notice has just changed: please read the new version.',
  },
});

const RESEND = gql`mutation ResendVerification {
  resendVerification { sentTo userErrors { field message code retryAfter } }
}`;

const ACCEPT_NOTICE = gql`mutation AcceptPrivacyNotice($input: AcceptPrivacyNoticeInput!) {
  acceptPrivacyNotice(input: $input) {
    privacyNotice { version url accepted }
    userErrors { field message code }
  }
}`;

let user = null;

// A new version of the personal-data notice, shown on every page until the customer
// accepts it (the version they were shown: a newer one is refused and shown instead).
function privacyBanner(notice) {
  const status = h('p', { role: 'status' });
  const accept = async (event) => {
    event.target.disabled = true;
    try {
      const payload = await mutate('acceptPrivacyNotice', ACCEPT_NOTICE, { version: notice.version });
      const [error] = payload.userErrors;
      if (error) {
        await refreshViewer(); // the newer version, drawn in a new banner
        const shown = document.querySelector('[data-banner=privacy] [role=status]');
        if (shown) shown.textContent = codeText('privacy')(error);
        return;
      }
      setViewer({ ...user, privacyNotice: payload.privacyNotice });
    } catch (error) {
      status.textContent = describeError(error);
    } finally {
      event.target.disabled = false;
    }
  };
  return h(
    'div',
    { class: 'banner', 'data-banner': 'privacy' },
    h('p', {}, t('privacy.changed', { version: notice.version })),
    h(
      'p',
      {},
      h('a', { href: `${notice.url}?lang=${language()}`, target: '_blank', rel: 'noopener' }, t('privacy.read')),
    ),
    button(t('privacy.accept'), { class: 'primary', onclick: accept }),
    status,
  );
}

// For a cabinet whose address is not confirmed: a reminder, and a new letter on request.
function unverifiedBanner() {
  const status = h('p', { role: 'status' });
  const resend = async (event) => {
    event.target.disabled = true;
    try {
      const payload = await mutate('resendVerification', RESEND);
      const [error] = payload.userErrors;
      status.textContent = error ? codeText('layout')(error) : t('layout.resent', { email: payload.sentTo });
    } catch (error) {
      status.textContent = describeError(error);
    } finally {
      event.target.disabled = false;
    }
  };
  return h(
    'div',
    { class: 'banner' },
    h('p', {}, t('layout.unverified', { email: user.email })),
    button(t('layout.resend'), { onclick: resend }),
    status,
  );
}

function draw() {
  const header = document.getElementById('header');
  const here = location.pathname;
  const items = navigation(user).map((item) =>
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
                // Whatever the server said, this page forgets the cabinet (session.js).
                await logout().catch(() => {});
                navigate('/login');
              },
            })
          : null,
      ),
    ),
    items.length ? h('nav', { 'aria-label': t('layout.menu') }, h('ul', {}, items)) : null,
    user && !user.emailVerified ? unverifiedBanner() : null,
    user && user.privacyNotice && !user.privacyNotice.accepted ? privacyBanner(user.privacyNotice) : null,
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
