// `/pay`: paying into an account without logging in, by the number on its bill.
//   1. the account number -> payableAccount shows the payee (masked holder, street);
//   2. amount, e-mail for the receipt, method -> payAsGuest -> the acquirer's page;
//   3. back from the acquirer at `/pay?status=<token>` -> guestPayment shows how it ended.
// `?account=N&amount=X` fill the form in (NO_RECENT_PAYMENTS links here with both).

import { codeText, describeError, graphql, mutate } from '../api.js';
import { field, fill, form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatMoney, language, t } from '../i18n.js';
import { onNavigate, refresh, route } from '../router.js';
import { Submission } from './account-common.js';
import { emailField } from './auth-fields.js';

addMessages({
  ru: {
    'guestPay.title': 'Оплата без входа в кабинет',
    'guestPay.intro':
      'Оплатить электроэнергию можно и без личного кабинета: нужен только номер лицевого счёта из квитанции.',
    'guestPay.accountNumber': 'Номер лицевого счёта',
    'guestPay.accountNumberHint': 'Указан в квитанции, например 001234567890.',
    'guestPay.find': 'Продолжить',
    'guestPay.notFound': 'Лицевой счёт с таким номером не найден. Проверьте номер по квитанции.',
    'guestPay.payee': 'Получатель платежа',
    'guestPay.holder': 'Владелец счёта',
    'guestPay.street': 'Адрес',
    'guestPay.due': 'К оплате',
    'guestPay.check': 'Проверьте, что это ваш счёт, прежде чем платить.',
    'guestPay.amount': 'Сумма, ₽',
    'guestPay.amountHint': 'От {min} до {max}.',
    'guestPay.email': 'Электронная почта для чека',
    'guestPay.pay': 'Перейти к оплате',
    'guestPay.other': 'Другой лицевой счёт',
    'guestPay.PENDING': 'Платёж {amount} по счёту {number} ещё обрабатывается.',
    'guestPay.SUCCEEDED': 'Платёж {amount} по счёту {number} прошёл. Чек отправлен на вашу почту.',
    'guestPay.CANCELED': 'Платёж {amount} по счёту {number} отменён.',
    'guestPay.FAILED': 'Платёж {amount} по счёту {number} не прошёл.',
    'guestPay.REFUNDED': 'Платёж {amount} по счёту {number} возвращён.',
    'guestPay.checkAgain': 'Проверить ещё раз',
    'guestPay.unknown': 'Ссылка на платёж повреждена или устарела.',
    'guestPay.again': 'Оплатить ещё',
    'guestPay.login': 'Войти в личный кабинет',
    'guestPay.INVALID_ACCOUNT_NUMBER': 'Номер лицевого счёта состоит только из цифр (до 20), как в квитанции.',
    'guestPay.TOO_MANY_ATTEMPTS': 'Слишком много попыток. Повторите {retryAfter}.',
  },
  en: {
    'guestPay.title': 'Pay without logging in',
    'guestPay.intro': 'You can pay for electricity without a cabinet: all it takes is the account number from the bill.',
    'guestPay.accountNumber': 'Account number',
    'guestPay.accountNumberHint': 'As printed on your bill, e.g. 001234567890.',
    'guestPay.find': 'Continue',
    'guestPay.notFound': 'There is no account with this number. Check the number on your bill.',
    'guestPay.payee': 'Payee',
    'guestPay.holder': 'Account holder',
    'guestPay.street': 'Address',
    'guestPay.due': 'Amount due',
    'guestPay.check': 'Check that this is your account before you pay.',
    'guestPay.amount': 'Amount, RUB',
    'guestPay.amountHint': 'From {min} to {max}.',
    'guestPay.email': 'E-mail for the receipt',
    'guestPay.pay': 'Go to payment',
    'guestPay.other': 'Another account',
    'guestPay.PENDING': 'The payment of {amount} to account {number} is still being processed.',
    'guestPay.SUCCEEDED': 'The payment of {amount} to account {number} went through. The receipt is in your mailbox.',
    'guestPay.CANCELED': 'The payment of {amount} to account {number} was canceled.',
    'guestPay.FAILED': 'The payment of {amount} to account {number} did not go through.',
    'guestPay.REFUNDED': 'The payment of {amount} to account {number} was refunded.',
    'guestPay.checkAgain': 'Check again',
    'guestPay.unknown': 'The link to the payment is damaged or out of date.',
    'guestPay.again': 'Make another payment',
    'guestPay.login': 'Log in to the cabinet',
    'guestPay.INVALID_ACCOUNT_NUMBER': 'An account number has digits only (up to 20), as printed on the bill.',
    'guestPay.TOO_MANY_ATTEMPTS': 'Too many attempts. Try again {retryAfter}.',
  },
});

const LOOKUP = gql`query PayableAccount($accountNumber: String!) {
  payableAccount(accountNumber: $accountNumber) { number holder street amountDue minimalAmount maximalAmount }
}`;

const PAY = gql`mutation PayAsGuest($input: PayAsGuestInput!) {
  payAsGuest(input: $input) {
    payment { id status confirmationUrl }
    statusToken
    userErrors { field message code retryAfter }
  }
}`;

const STATUS = gql`query GuestPayment($statusToken: String!) {
  guestPayment(statusToken: $statusToken) { status amount accountNumber failureReason }
}`;

const METHODS = ['CARD', 'SBP', 'SBERPAY'];
const POLL_MS = 3000;
const POLL_TIMES = 10;

let payee = null; // the account found in step 1, while step 2 is shown
const submission = new Submission();
onNavigate((path) => {
  if (path !== '/pay') payee = null;
});

function typed(amount) {
  return language() === 'ru' ? amount.replace('.', ',') : amount;
}

function lookupStep(query) {
  return form({
    label: t('guestPay.title'),
    submit: t('guestPay.find'),
    fields: [
      field({
        name: 'accountNumber',
        label: t('guestPay.accountNumber'),
        hint: t('guestPay.accountNumberHint'),
        inputmode: 'numeric',
        autocomplete: 'off',
        maxlength: 24,
        value: query.get('account') || '',
      }),
    ],
    onSubmit: async (values, node) => {
      let found;
      try {
        found = (await graphql(LOOKUP, { accountNumber: values.accountNumber.trim() })).payableAccount;
      } catch (error) {
        if (error.code === 'TOO_MANY_ATTEMPTS') {
          const [first] = error.errors;
          showErrors(node, [{ code: error.code, message: first.message, retryAfter: first.extensions.retryAfter }], codeText('guestPay'));
          return;
        }
        throw error;
      }
      if (!found) {
        showErrors(node, [{ field: ['accountNumber'], code: 'NOT_FOUND', message: t('guestPay.notFound') }], (e) => e.message);
        return;
      }
      payee = found;
      await refresh();
    },
  });
}

function payeeCard() {
  const rows = [
    [t('guestPay.accountNumber'), payee.number],
    [t('guestPay.holder'), payee.holder],
    [t('guestPay.street'), payee.street],
  ];
  if (payee.amountDue !== null) rows.push([t('guestPay.due'), formatMoney(payee.amountDue)]);
  return h(
    'section',
    { class: 'payee', 'aria-label': t('guestPay.payee') },
    h('h2', {}, t('guestPay.payee')),
    h('dl', {}, rows.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
    h('p', { class: 'hint' }, t('guestPay.check')),
  );
}

function payStep(query) {
  const prefilled = query.get('amount') || (payee.amountDue && Number(payee.amountDue) > 0 ? payee.amountDue : '');
  return [
    payeeCard(),
    form({
      label: t('guestPay.title'),
      submit: t('guestPay.pay'),
      fields: [
        field({
          name: 'amount',
          label: t('guestPay.amount'),
          hint: t('guestPay.amountHint', { min: formatMoney(payee.minimalAmount), max: formatMoney(payee.maximalAmount) }),
          inputmode: 'decimal',
          autocomplete: 'transaction-amount',
          value: prefilled ? typed(prefilled) : '',
        }),
        emailField('email', 'email', t('guestPay.email')),
        field({
          name: 'method',
          label: t('payments.method'),
          hint: t('payments.methodHint'),
          type: 'select',
          required: false,
          options: [
            { value: '', label: t('payments.methodAny') },
            ...METHODS.map((m) => ({ value: m, label: t(`payments.method${m}`) })),
          ],
        }),
      ],
      onSubmit: async (values, node) => {
        const input = {
          accountNumber: payee.number,
          amount: values.amount.trim(),
          email: values.email.trim(),
          method: values.method || null,
        };
        const payload = await mutate('payAsGuest', PAY, { ...input, idempotencyKey: submission.keyFor(input) });
        submission.done();
        if (payload.userErrors.length) {
          showErrors(node, payload.userErrors, codeText('guestPay'));
          return;
        }
        window.location.assign(payload.payment.confirmationUrl);
      },
      extra: h('button', {
        type: 'button',
        onclick: async () => {
          payee = null;
          await refresh();
        },
      }, t('guestPay.other')),
    }),
  ];
}

const KIND = { SUCCEEDED: 'ok', PENDING: 'info', CANCELED: 'info', FAILED: 'error', REFUNDED: 'info' };

function statusNotice(payment) {
  const text = t(`guestPay.${payment.status}`, { amount: formatMoney(payment.amount), number: payment.accountNumber });
  const why = payment.failureReason ? ` ${payment.failureReason}` : '';
  return h('div', { class: `notice notice-${KIND[payment.status]}`, role: 'status' }, text + why);
}

async function returnPage(token) {
  const { guestPayment: payment } = await graphql(STATUS, { statusToken: token });
  const links = h(
    'ul',
    { class: 'links' },
    h('li', {}, h('a', { href: '/pay' }, t('guestPay.again'))),
    h('li', {}, h('a', { href: '/login' }, t('guestPay.login'))),
  );
  if (!payment) return page(t('guestPay.title'), notice(t('guestPay.unknown'), 'error'), links);
  const box = h('div', { class: 'payment-status' });
  const show = (current) => {
    const again =
      current.status === 'PENDING' ? h('button', { type: 'button', onclick: () => check(0) }, t('guestPay.checkAgain')) : null;
    fill(box, statusNotice(current), again);
  };
  const check = async (round) => {
    if (round > 0 && !box.isConnected) return;
    let current = null;
    try {
      current = (await graphql(STATUS, { statusToken: token })).guestPayment;
    } catch (error) {
      fill(box, notice(describeError(error), 'error'));
      return;
    }
    if (!current) return;
    show(current);
    if (current.status === 'PENDING' && round < POLL_TIMES) setTimeout(() => check(round + 1), POLL_MS);
  };
  show(payment);
  if (payment.status === 'PENDING') setTimeout(() => check(1), POLL_MS);
  return page(t('guestPay.title'), box, links);
}

async function render({ query }) {
  const token = query.get('status');
  if (token) return returnPage(token);
  if (payee) return page(t('guestPay.title'), payStep(query));
  return page(
    t('guestPay.title'),
    h('p', {}, t('guestPay.intro')),
    lookupStep(query),
    h('ul', { class: 'links' }, h('li', {}, h('a', { href: '/login' }, t('guestPay.login')))),
  );
}

route('/pay', render, { title: 'guestPay.title' });
