// `/verify-email?token=...`: the link of the verification letter (after registering,
// after asking for a new link, after changing the address). The page asks for a click
// before it acts, as the server's own link pages do: mail scanners that open links
// change nothing. Once used, the token leaves the address bar.

import { mutate, userErrorText } from '../api.js';
import { form, h, notice, page } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, t } from '../i18n.js';
import { onNavigate, refresh, route } from '../router.js';
import { setViewer, viewer } from '../session.js';

addMessages({
  ru: {
    'verify.title': 'Подтверждение адреса',
    'verify.ask': 'Нажмите кнопку, чтобы подтвердить адрес электронной почты личного кабинета.',
    'verify.submit': 'Подтвердить адрес',
    'verify.done': 'Адрес {email} подтверждён. На него будут приходить уведомления и ссылки для входа.',
    'verify.toCabinet': 'Перейти в кабинет',
    'verify.toLogin': 'Войти в кабинет',
    'verify.noToken': 'В ссылке нет кода подтверждения. Откройте ссылку из письма целиком или скопируйте её в адресную строку.',
    'verify.INVALID_TOKEN':
      'Ссылка недействительна: она уже использована, заменена более новой или скопирована не полностью. Войдите в кабинет и запросите новое письмо.',
    'verify.EXPIRED_TOKEN': 'Срок действия ссылки истёк. Войдите в кабинет и запросите новое письмо.',
    'verify.EMAIL_TAKEN': 'Этот адрес тем временем занял другой кабинет. Войдите и укажите другой адрес.',
  },
  en: {
    'verify.title': 'Confirm the address',
    'verify.ask': "Press the button to confirm your cabinet's e-mail address.",
    'verify.submit': 'Confirm the address',
    'verify.done': 'The address {email} is confirmed. Notices and sign-in links will come to it.',
    'verify.toCabinet': 'Go to the cabinet',
    'verify.toLogin': 'Log in to the cabinet',
    'verify.noToken': 'The link has no confirmation code. Open the whole link from the letter, or paste it into the address bar.',
    'verify.INVALID_TOKEN':
      'This link is not valid: it was used already, replaced by a newer one, or not copied whole. Log in and ask for a new letter.',
    'verify.EXPIRED_TOKEN': 'This link has expired. Log in and ask for a new letter.',
    'verify.EMAIL_TAKEN': 'Another cabinet has taken this address meanwhile. Log in and give another address.',
  },
});

const VERIFY = gql`mutation VerifyEmail($input: VerifyEmailInput!) {
  verifyEmail(input: $input) {
    user { email emailVerified }
    userErrors { field message code }
  }
}`;

let outcome = null; // { email } or { error } once the button was pressed
onNavigate((path) => {
  if (path !== '/verify-email') outcome = null;
});

async function render({ query }) {
  if (outcome) {
    const user = await viewer();
    const next = user ? ['/', t('verify.toCabinet')] : ['/login', t('verify.toLogin')];
    return page(
      t('verify.title'),
      outcome.email
        ? notice(t('verify.done', { email: outcome.email }), 'ok')
        : notice(userErrorText('verify', outcome.error), 'error'),
      h('p', {}, h('a', { href: next[0] }, next[1])),
    );
  }
  const token = query.get('token');
  if (!token) return page(t('verify.title'), notice(t('verify.noToken'), 'error'));
  return page(
    t('verify.title'),
    h('p', {}, t('verify.ask')),
    form({
      label: t('verify.title'),
      submit: t('verify.submit'),
      onSubmit: async () => {
        const payload = await mutate('verifyEmail', VERIFY, { token });
        const [error] = payload.userErrors;
        outcome = error ? { error } : { email: payload.user.email };
        history.replaceState(null, '', '/verify-email'); // the token is spent (or dead)
        const user = await viewer();
        if (!error && user) setViewer({ ...user, email: payload.user.email, emailVerified: true });
        await refresh();
      },
    }),
  );
}

route('/verify-email', render, { title: 'verify.title' });
