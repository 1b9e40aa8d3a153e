// `/set-password?token=...`: the link of a password reset, of a recovery without e-mail
// and of a new specialist's invitation. setPassword ends every session of the cabinet,
// so whoever is logged in here is logged out, and logs in again with the new password.

import { codeText, mutate } from '../api.js';
import { form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, language, t } from '../i18n.js';
import { onNavigate, refresh, route } from '../router.js';
import { forgetViewer } from '../session.js';
import { newPasswordField } from './auth-fields.js';

addMessages({
  ru: {
    'setPassword.title': 'Новый пароль',
    'setPassword.intro': 'Придумайте новый пароль для личного кабинета. После этого войдите с ним заново на всех устройствах.',
    'setPassword.submit': 'Сохранить пароль',
    'setPassword.done': 'Пароль сохранён. Войдите в кабинет с адресом {email} и новым паролем.',
    'setPassword.login': 'Войти',
    'setPassword.noToken':
      'В ссылке нет кода. Откройте ссылку из письма целиком или скопируйте её в адресную строку.',
    'setPassword.again': 'Запросить новую ссылку',
    'setPassword.INVALID_TOKEN':
      'Ссылка недействительна: она уже использована, заменена более новой или скопирована не полностью. Запросите новую.',
    'setPassword.EXPIRED_TOKEN': 'Срок действия ссылки (1 час) истёк. Запросите новую.',
    'setPassword.EMAIL_TAKEN':
      'Новый адрес тем временем занял другой кабинет, поэтому восстановление не завершено. Начните его заново с другим адресом.',
    'setPassword.PROOF_NO_LONGER_HOLDS':
      'Лицевой счёт, которым вы подтвердили владение, больше не подключён к кабинету, поэтому восстановление не завершено. Начните его заново.',
    'setPassword.CABINET_FROZEN':
      'Кабинет заморожен по просьбе владельца, поэтому восстановление не завершено. Позвоните в поддержку.',
    'setPassword.held':
      'Пароль принят, но восстановление задержано до {until}: платёж, которым вы подтвердили владение, внесён недавно. Владельцу кабинета отправлено уведомление. Если его не отменят, кабинет перейдёт на новый адрес в указанное время, и вы войдёте с ним и новым паролем.',
    // WEAK_PASSWORD: the server's sentence says what exactly is wrong with it.
  },
  en: {
    'setPassword.title': 'New password',
    'setPassword.intro': 'Choose a new password for your cabinet. Then log in with it again on every device.',
    'setPassword.submit': 'Save the password',
    'setPassword.done': 'The password is saved. Log in with {email} and the new password.',
    'setPassword.login': 'Log in',
    'setPassword.noToken': 'The link has no code. Open the whole link from the letter, or paste it into the address bar.',
    'setPassword.again': 'Ask for a new link',
    'setPassword.INVALID_TOKEN':
      'This link is not valid: it was used already, replaced by a newer one, or not copied whole. Ask for a new one.',
    'setPassword.EXPIRED_TOKEN': 'This link (valid 1 hour) has expired. Ask for a new one.',
    'setPassword.EMAIL_TAKEN':
      'Another cabinet has taken the new address meanwhile, so the recovery is not complete. Start it again with another address.',
    'setPassword.PROOF_NO_LONGER_HOLDS':
      'The account you proved ownership with is no longer in the cabinet, so the recovery is not complete. Start it again.',
    'setPassword.CABINET_FROZEN':
      'The cabinet is frozen at its owner\'s request, so the recovery is not complete. Call support.',
    'setPassword.held':
      'The password is accepted, but the recovery is held until {until}: the payment you proved ownership with was made recently. The cabinet\'s address has been told. Unless it is canceled, the cabinet moves to the new address then, and you log in with it and the new password.',
  },
});

const SET_PASSWORD = gql`mutation SetPassword($input: SetPasswordInput!) {
  setPassword(input: $input) {
    user { email }
    hold { until }
    userErrors { field message code }
  }
}`;

let doneFor = null; // the cabinet's address once the password is set
let heldUntil = null; // when a held recovery completes
onNavigate((path) => {
  if (path !== '/set-password') doneFor = heldUntil = null;
});

function render({ query }) {
  if (heldUntil) {
    const until = new Date(heldUntil).toLocaleString(language());
    return page(t('setPassword.title'), notice(t('setPassword.held', { until }), 'ok'));
  }
  if (doneFor) {
    return page(
      t('setPassword.title'),
      notice(t('setPassword.done', { email: doneFor }), 'ok'),
      h('p', {}, h('a', { href: '/login' }, t('setPassword.login'))),
    );
  }
  const token = query.get('token');
  const again = h('p', {}, h('a', { href: '/forgot-password' }, t('setPassword.again')));
  if (!token) return page(t('setPassword.title'), notice(t('setPassword.noToken'), 'error'), again);
  return page(
    t('setPassword.title'),
    h('p', {}, t('setPassword.intro')),
    form({
      label: t('setPassword.title'),
      submit: t('setPassword.submit'),
      fields: [newPasswordField()],
      onSubmit: async (values, node) => {
        const payload = await mutate('setPassword', SET_PASSWORD, { token, password: values.password });
        if (payload.userErrors.length) {
          showErrors(node, payload.userErrors, codeText('setPassword'));
          return;
        }
        if (payload.hold) {
          heldUntil = payload.hold.until; // nothing changed yet: no session has ended
          history.replaceState(null, '', '/set-password');
          await refresh();
          return;
        }
        doneFor = payload.user.email;
        forgetViewer(); // every session of the cabinet has ended
        history.replaceState(null, '', '/set-password'); // the token is spent
        await refresh();
      },
    }),
    again,
  );
}

route('/set-password', render, { title: 'setPassword.title' });
