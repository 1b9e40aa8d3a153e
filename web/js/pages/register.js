// `/register`: a new cabinet, proven by an account number and a payment's amount. It
// ends with "check your mail": the link in the letter opens /verify-email.

import { codeText, mutate } from '../api.js';
import { form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, t } from '../i18n.js';
import { onNavigate, refresh, route } from '../router.js';
import { emailField, newPasswordField, proofFields } from './auth-fields.js';

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
    'register.ALREADY_REGISTERED':
      'К этому лицевому счёту уже подключён личный кабинет. Войдите в него или восстановите доступ по ссылке «Забыли пароль?».',
    'register.EMAIL_TAKEN': 'Этот адрес уже используется другим кабинетом. Укажите другой адрес или войдите.',
    'register.INVALID_EMAIL': 'Проверьте адрес электронной почты: похоже, в нём ошибка.',
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
    'register.ALREADY_REGISTERED':
      'This account already has a cabinet. Log in, or recover access with "Forgot the password?".',
    'register.EMAIL_TAKEN': 'This address is used by another cabinet. Enter another address, or log in.',
    'register.INVALID_EMAIL': 'Check the e-mail address: it seems to have a typo.',
  },
});

const REGISTER = gql`mutation Register($input: RegisterInput!) {
  register(input: $input) {
    user { email emailVerified }
    userErrors { field message code retryAfter }
  }
}`;

let registered = null; // the address the letter went to, while its page is shown
onNavigate((path) => {
  if (path !== '/register') registered = null;
});

function render() {
  if (registered) {
    return page(
      t('register.doneTitle'),
      notice(t('register.done', { email: registered }), 'ok'),
      h('p', {}, h('a', { href: '/login' }, t('register.doneLogin'))),
    );
  }
  return page(
    t('register.title'),
    h('p', {}, t('register.intro')),
    form({
      label: t('register.title'),
      submit: t('register.submit'),
      fields: [...proofFields(), emailField(), newPasswordField('password', t('auth.password'))],
      onSubmit: async (values, node) => {
        const payload = await mutate('register', REGISTER, {
          accountNumber: values.accountNumber.trim(),
          paymentAmount: values.paymentAmount.trim(),
          email: values.email.trim(),
          password: values.password,
        });
        if (payload.userErrors.length) {
          showErrors(node, payload.userErrors, codeText(['register', 'proof']));
          return;
        }
        registered = payload.user.email;
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
