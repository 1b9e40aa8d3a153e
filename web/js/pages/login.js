// `/login`: e-mail and password. `?next=/path` is where to go afterwards (only a path of
// this site, never another origin).

import { codeText, mutate } from '../api.js';
import { field, form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDate, has, setLanguage, t } from '../i18n.js';
import { navigate, route } from '../router.js';
import { setViewer, VIEWER_FIELDS } from '../session.js';

addMessages({
  ru: {
    'login.title': 'Вход в личный кабинет',
    'login.email': 'Электронная почта',
    'login.password': 'Пароль',
    'login.submit': 'Войти',
    'login.forgot': 'Забыли пароль или нет доступа к почте?',
    'login.register': 'Нет кабинета? Зарегистрируйтесь',
    'login.guestPay': 'Оплатить без входа',
    'login.guestReading': 'Передать показания без входа',
    'login.INVALID_CREDENTIALS': 'Неверная почта или пароль. Проверьте раскладку клавиатуры и Caps Lock.',
    'login.CABINET_FROZEN':
      'Кабинет заморожен по вашей просьбе («это был не я»). Специалист свяжется с вами; позвонить нам можно по телефону поддержки.',
    'login.TOO_MANY_ATTEMPTS':
      'Слишком много неудачных попыток входа. Повторите {retryAfter} или восстановите пароль.',
    'login.ended.EXPIRED': 'Сеанс истёк: вас давно не было. Войдите снова.',
    'login.ended.REVOKED': 'Сеанс завершён: выход на другом устройстве или смена пароля. Войдите снова.',
    'login.ended.INVALID': 'Сеанс недействителен. Войдите снова.',
    'login.ended.DELETION_REQUESTED':
      'Кабинет будет удалён {date}, все входы завершены. Передумали — войдите и нажмите «Сохранить кабинет».',
  },
  en: {
    'login.title': 'Log in to your cabinet',
    'login.email': 'E-mail',
    'login.password': 'Password',
    'login.submit': 'Log in',
    'login.forgot': 'Forgot the password or lost the mailbox?',
    'login.register': 'No cabinet yet? Register',
    'login.guestPay': 'Pay without logging in',
    'login.guestReading': 'Submit a reading without logging in',
    'login.INVALID_CREDENTIALS': 'Wrong e-mail or password. Check the keyboard layout and Caps Lock.',
    'login.CABINET_FROZEN':
      'The cabinet is frozen at your request ("this wasn\'t me"). A specialist will contact you; you can also call support.',
    'login.TOO_MANY_ATTEMPTS': 'Too many failed attempts. Try again {retryAfter}, or reset your password.',
    'login.ended.EXPIRED': 'Your session expired after a long pause. Please log in again.',
    'login.ended.REVOKED': 'Your session was ended: logged out elsewhere or the password changed. Please log in again.',
    'login.ended.INVALID': 'Your session is not valid. Please log in again.',
    'login.ended.DELETION_REQUESTED':
      'The cabinet will be deleted on {date} and every login has ended. Changed your mind? Log in and choose “Keep my cabinet”.',
  },
});

const LOGIN = gql`mutation Login($input: LoginInput!) {
  login(input: $input) {
    user { ...ViewerFields }
    userErrors { field message code retryAfter }
  }
}
${VIEWER_FIELDS}`;

// Where to go after logging in: a path on this site, else the start page.
export function safeNext(query) {
  const next = query.get('next') || '/';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

// Why the last session ended, when the app came here because it did (router.js).
function endedNotice(query) {
  const reason = query.get('ended');
  const on = query.get('on'); // when a deletion asked for will happen
  const date = on && !Number.isNaN(new Date(on).getTime()) ? formatDate(on) : '';
  return reason && has(`login.ended.${reason}`) ? notice(t(`login.ended.${reason}`, { date })) : null;
}

function render({ query }) {
  return page(
    t('login.title'),
    endedNotice(query),
    form({
      label: t('login.title'),
      submit: t('login.submit'),
      fields: [
        field({ name: 'email', label: t('login.email'), type: 'email', autocomplete: 'username', inputmode: 'email' }),
        field({ name: 'password', label: t('login.password'), type: 'password', autocomplete: 'current-password' }),
      ],
      onSubmit: async (values, node) => {
        const payload = await mutate('login', LOGIN, { email: values.email.trim(), password: values.password });
        if (payload.userErrors.length) {
          showErrors(node, payload.userErrors, codeText('login'));
          return;
        }
        setViewer(payload.user);
        setLanguage(payload.user.language); // the cabinet's language (its mail's) from now on
        await navigate(safeNext(query), { replace: true });
      },
    }),
    h(
      'ul',
      { class: 'links' },
      h('li', {}, h('a', { href: '/forgot-password' }, t('login.forgot'))),
      h('li', {}, h('a', { href: '/register' }, t('login.register'))),
      h('li', {}, h('a', { href: '/pay' }, t('login.guestPay'))),
      h('li', {}, h('a', { href: '/submit-reading' }, t('login.guestReading'))),
    ),
  );
}

route('/login', render, { auth: 'guest', title: 'login.title' });
