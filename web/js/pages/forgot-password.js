// `/forgot-password`: a reset link by e-mail, or - for a lost mailbox - the way to
// `/recover` (recovery by the account number and a payment).

import { codeText, mutate } from '../api.js';
import { form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, t } from '../i18n.js';
import { onNavigate, refresh, route } from '../router.js';
import { emailField } from './auth-fields.js';

addMessages({
  ru: {
    'forgot.title': 'Восстановление доступа',
    'forgot.byEmail': 'Ссылка на почту',
    'forgot.byEmailIntro': 'Укажите адрес, на который зарегистрирован кабинет: мы пришлём ссылку для нового пароля.',
    'forgot.submit': 'Прислать ссылку',
    'forgot.sent':
      'Если кабинет с адресом {email} существует, письмо со ссылкой уже в пути. Ссылка действует 1 час и только один раз. Не пришло за несколько минут — проверьте папку «Спам» и правильность адреса.',
    'forgot.noAccess': 'Нет доступа к почте',
    'forgot.noAccessIntro':
      'Если вы не можете открыть почтовый ящик кабинета, докажите, что счёт ваш, номером лицевого счёта и суммой платежа, и укажите новый адрес.',
    'forgot.noAccessLink': 'Восстановить без доступа к почте',
    'forgot.INVALID_EMAIL': 'Проверьте адрес электронной почты: похоже, в нём ошибка.',
    'forgot.TOO_MANY_ATTEMPTS': 'Слишком много запросов для этого адреса. Повторите {retryAfter}.',
  },
  en: {
    'forgot.title': 'Recover access',
    'forgot.byEmail': 'A link by e-mail',
    'forgot.byEmailIntro': "Enter your cabinet's address: we will send a link to set a new password.",
    'forgot.submit': 'Send the link',
    'forgot.sent':
      'If a cabinet uses {email}, a letter with the link is on its way. The link works once, for 1 hour. Nothing after a few minutes? Check the spam folder and the address.',
    'forgot.noAccess': 'No access to e-mail',
    'forgot.noAccessIntro':
      "If you cannot open the cabinet's mailbox, prove the account is yours with its number and a payment's amount, and give a new address.",
    'forgot.noAccessLink': 'Recover without the mailbox',
    'forgot.INVALID_EMAIL': 'Check the e-mail address: it seems to have a typo.',
    'forgot.TOO_MANY_ATTEMPTS': 'Too many requests for this address. Try again {retryAfter}.',
  },
});

const RESET = gql`mutation RequestPasswordReset($input: RequestPasswordResetInput!) {
  requestPasswordReset(input: $input) {
    accepted
    userErrors { field message code retryAfter }
  }
}`;

let sentTo = null;
onNavigate((path) => {
  if (path !== '/forgot-password') sentTo = null;
});

function render() {
  const byEmail = sentTo
    ? notice(t('forgot.sent', { email: sentTo }), 'ok')
    : form({
        label: t('forgot.byEmail'),
        submit: t('forgot.submit'),
        fields: [emailField('email', 'username')],
        onSubmit: async (values, node) => {
          const payload = await mutate('requestPasswordReset', RESET, { email: values.email.trim() });
          if (payload.userErrors.length) {
            showErrors(node, payload.userErrors, codeText('forgot'));
            return;
          }
          sentTo = values.email.trim();
          await refresh();
        },
      });
  return page(
    t('forgot.title'),
    h('h2', {}, t('forgot.byEmail')),
    sentTo ? null : h('p', {}, t('forgot.byEmailIntro')),
    byEmail,
    h('h2', {}, t('forgot.noAccess')),
    h('p', {}, t('forgot.noAccessIntro')),
    h('p', {}, h('a', { href: '/recover' }, t('forgot.noAccessLink'))),
  );
}

route('/forgot-password', render, { auth: 'guest', title: 'forgot.title' });
