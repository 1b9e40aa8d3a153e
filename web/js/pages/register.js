// `/register`: a new cabinet, proven by an account number and a payment's amount. It
// ends with "check your mail": the link in the letter opens /verify-email.

import { codeText, graphql, mutate } from '../api.js';
import { form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, language, t } from '../i18n.js';
import { onNavigate, refresh, route } from '../router.js';
import { emailField, newPasswordField, payOffer, proofFields } from './auth-fields.js';

addMessages({
  ru: {
    'register.title': 'Регистрация',
    'register.intro':
      'Чтобы подтвердить, что счёт ваш, укажите его номер и сумму любого платежа по нему за последний год.',
    'register.submit': 'Зарегистрироваться',
    'register.haveCabinet': 'Уже есть кабинет? Войдите',
    'register.doneTitle': 'Проверьте почту',
    'register.done':
      'Кабинет создан. Мы отправили письмо на {email}: откройте ссылку из него, чтобы подтвердить адрес. Письмо может прийти через несколько минут; загляните и в папку «Спам».',
    'register.doneLogin': 'Войти в кабинет',
    'register.held':
      'Платёж, которым вы подтвердили владение, внесён недавно, поэтому лицевой счёт появится в кабинете {until}.',
    'register.ALREADY_REGISTERED':
      'К этому лицевому счёту уже подключён личный кабинет. Войдите в него или восстановите доступ по ссылке «Забыли пароль?».',
    'register.EMAIL_TAKEN': 'Этот адрес уже используется другим кабинетом. Укажите другой адрес или войдите.',
    'register.INVALID_EMAIL': 'Проверьте адрес электронной почты: похоже, в нём ошибка.',
    'register.privacy': 'Я ознакомился(-ась) с {link} и согласен(-на) на обработку моих персональных данных',
    'register.privacyLink': 'уведомлением об обработке персональных данных',
    'register.PRIVACY_NOTICE_NOT_ACCEPTED':
      'Чтобы создать кабинет, отметьте, что вы ознакомились с уведомлением об обработке персональных данных и согласны с ним.',
    // NO_RECENT_PAYMENTS and WEAK_PASSWORD: the server's sentence names the minimal payment
    // and what exactly is wrong with the password.
  },
  en: {
    'register.title': 'Register',
    'register.intro':
      'To prove the account is yours, enter its number and the amount of any payment to it in the last year.',
    'register.submit': 'Register',
    'register.haveCabinet': 'Have a cabinet? Log in',
    'register.doneTitle': 'Check your mail',
    'register.done':
      'Your cabinet is ready. We sent a letter to {email}: open the link in it to confirm the address. It may take a few minutes to arrive; check the spam folder too.',
    'register.doneLogin': 'Log in to the cabinet',
    'register.held':
      'The payment you proved ownership with was made recently, so the account joins your cabinet on {until}.',
    'register.ALREADY_REGISTERED':
      'This account already has a cabinet. Log in, or recover access with "Forgot the password?".',
    'register.EMAIL_TAKEN': 'This address is used by another cabinet. Enter another address, or log in.',
    'register.INVALID_EMAIL': 'Check the e-mail address: it seems to have a typo.',
    'register.privacy': 'I have read the {link} and consent to the processing of my personal data',
    'register.privacyLink': 'personal data notice',
    'register.PRIVACY_NOTICE_NOT_ACCEPTED':
      'To create a cabinet, confirm that you have read the personal data notice and accept it.',
  },
});

const REGISTER = gql`mutation Register($input: RegisterInput!) {
  register(input: $input) {
    user { email emailVerified }
    hold { until }
    userErrors { field message code retryAfter ... on RegisterError { minimalPayment payUrl } }
  }
}`;

const NOTICE = gql`query PrivacyNotice { privacyNotice { version url } }`;

let registered = null; // the address the letter went to, while its page is shown
let heldUntil = null; // when the account joins the cabinet, for a held registration
onNavigate((path) => {
  if (path !== '/register') registered = null;
});

// The consent checkbox: its value is the version of the notice its link shows, sent as
// acceptPrivacyNotice only when ticked (the server refuses a register without it).
function consentField(notice, lang) {
  const id = 'accept-privacy-notice';
  const link = h(
    'a',
    { href: `${notice.url}?lang=${lang}`, target: '_blank', rel: 'noopener' },
    t('register.privacyLink'),
  );
  const [before, after] = t('register.privacy', { link: '\u0000' }).split('\u0000');
  return h(
    'div',
    { class: 'field', 'data-field': 'acceptPrivacyNotice' },
    h(
      'div',
      { class: 'check' },
      h('input', {
        type: 'checkbox',
        id,
        name: 'acceptPrivacyNotice',
        value: notice.version,
        'aria-describedby': `${id}-error`,
      }),
      h('label', { for: id }, before, link, after),
    ),
    h('p', { class: 'error', id: `${id}-error`, hidden: true }),
  );
}

async function render() {
  if (registered) {
    return page(
      t('register.doneTitle'),
      notice(t('register.done', { email: registered }), 'ok'),
      heldUntil ? notice(t('register.held', { until: heldUntil }), 'ok') : null,
      h('p', {}, h('a', { href: '/login' }, t('register.doneLogin'))),
    );
  }
  const { privacyNotice } = await graphql(NOTICE);
  return page(
    t('register.title'),
    h('p', {}, t('register.intro')),
    form({
      label: t('register.title'),
      submit: t('register.submit'),
      fields: [
        ...proofFields(),
        emailField(),
        newPasswordField('password', t('auth.password')),
        consentField(privacyNotice, language()),
      ],
      onSubmit: async (values, node) => {
        const payload = await mutate('register', REGISTER, {
          accountNumber: values.accountNumber.trim(),
          paymentAmount: values.paymentAmount.trim(),
          email: values.email.trim(),
          password: values.password,
          acceptPrivacyNotice: values.acceptPrivacyNotice || null,
        });
        if (payload.userErrors.length) {
          showErrors(node, payload.userErrors, codeText(['register', 'proof']));
          payOffer(node, payload.userErrors);
          return;
        }
        registered = payload.user.email;
        heldUntil = payload.hold ? new Date(payload.hold.until).toLocaleString(language()) : null;
        await refresh();
      },
    }),
    h(
      'ul',
      { class: 'links' },
      h('li', {}, h('a', { href: '/login' }, t('register.haveCabinet'))),
      h('li', {}, h('a', { href: '/forgot-password' }, t('login.forgot'))),
    ),
  );
}

route('/register', render, { auth: 'guest', title: 'register.title' });
