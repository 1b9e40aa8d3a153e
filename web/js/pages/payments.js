// `/payments`: paying online into an account, and its payment history.
//
// Paying: the customer may choose the method (card, SBP, SberPay: payBill's `method`, so the
// acquirer's page opens on it) or leave the choice to the acquirer's page.
// payBill gives a PENDING payment and the acquirer's page (`confirmationUrl`);
// the app goes there, remembering the payment's id in sessionStorage too. The acquirer (the
// sandbox too) sends the customer back to `/payments?payment=<id>`; there (and on the
// dashboard, for a customer who comes back another way) `paymentReturnNotice()` asks
// onlinePayment(id) for the status and, while it is PENDING (the acquirer's webhook may
// come later), listens for its change on the onlinePaymentUpdated subscription (live.js);
// when the socket is refused or drops, it asks again every two seconds instead.
//
// A deployment may take no payments online (PAYMENT_PROVIDER=none): `paymentOptions`
// says so, and then the page shows no pay form, only where else to pay (`otherWays`, the
// bill's bank details, written by the server in the customer's language).
//
// Autopay: with a monthly limit, enableAutopay gives the first payment (which saves the
// method) and its page, as payBill does; once it succeeds the section shows the saved
// method and a button that turns autopay off in one step (disableAutopay).

import { codeText, graphql, mutate } from '../api.js';
import { subscribe } from '../live.js';
import { button, field, fill, form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDateTime, formatMoney, language, t } from '../i18n.js';
import { navigate, route } from '../router.js';
import {
  accountPicker,
  balanceKind,
  balanceText,
  chosenAccount,
  growingList,
  loadAccounts,
  Submission,
} from './account-common.js';

addMessages({
  ru: {
    'payments.title': 'Оплата и платежи',
    'payments.payTitle': 'Оплатить онлайн',
    'payments.amount': 'Сумма, ₽',
    'payments.amountHint': 'Например 1500 или 1 234,56.',
    'payments.method': 'Способ оплаты',
    'payments.methodHint': 'Оплата на странице платёжного сервиса: картой, через СБП или SberPay.',
    'payments.methodAny': 'Выбрать на странице оплаты',
    'payments.methodCARD': 'Банковская карта',
    'payments.methodSBP': 'СБП (Система быстрых платежей)',
    'payments.methodSBERPAY': 'SberPay',
    'payments.pay': 'Перейти к оплате',
    'payments.history': 'История платежей',
    'payments.date': 'Дата',
    'payments.sum': 'Сумма',
    'payments.channel': 'Способ',
    'payments.empty': 'Платежей по этому счёту пока нет.',
    'payments.caption': 'Платежи по счёту № {number}, сначала новые',
    'payments.PENDING': 'Платёж на {amount} по счёту № {number} ещё обрабатывается. Статус обновится сам.',
    'payments.SUCCEEDED': 'Платёж на {amount} по счёту № {number} прошёл. Спасибо!',
    'payments.CANCELED': 'Платёж на {amount} по счёту № {number} отменён, деньги не списаны.',
    'payments.REFUNDED': 'Платёж на {amount} по счёту № {number} возвращён вам полностью.',
    'payments.FAILED':
      'Платёж на {amount} по счёту № {number} не прошёл. Деньги не списаны; попробуйте ещё раз или оплатите другим способом.',
    'payments.checkAgain': 'Проверить ещё раз',
    'payments.otherTitle': 'Как оплатить',
    'autopay.title': 'Автоплатёж',
    'autopay.on': 'Новые счета оплачиваются автоматически на следующий день: {method}, не больше {max} в месяц.',
    'autopay.waiting': 'Автоплатёж включится, когда пройдёт первый платёж.',
    'autopay.off':
      'Новые счета будут оплачиваться автоматически на следующий день после выставления. Сначала оплатите текущую задолженность (не меньше 1 ₽): способ оплаты сохранится для автоплатежа.',
    'autopay.max': 'Не больше, ₽ в месяц',
    'autopay.maxHint': 'Счёт больше этой суммы оплачен не будет, мы пришлём письмо.',
    'autopay.enable': 'Включить автоплатёж',
    'autopay.disable': 'Отключить автоплатёж',
    'autopay.disabled': 'Автоплатёж отключён.',
    'pay.NOT_FOUND': 'Этого лицевого счёта нет в вашем кабинете. Обновите страницу.',
    'pay.INVALID_AMOUNT': 'Укажите сумму больше нуля в рублях и копейках, например 1500 или 1234,56.',
    'pay.PROVIDER_UNAVAILABLE': 'Платёжный сервис сейчас недоступен. Повторите через несколько минут.',
    'pay.PROVIDER_REFUSED': 'Платёжный сервис отклонил платёж. Попробуйте позже или оплатите по реквизитам квитанции.',
    'pay.INVALID_IDEMPOTENCY_KEY': 'Не удалось начать оплату. Обновите страницу и повторите.',
    'pay.IDEMPOTENCY_KEY_REUSED': 'Не удалось начать оплату. Обновите страницу и повторите.',
    'pay.PAYMENTS_UNAVAILABLE':
      'Оплата онлайн в личном кабинете не принимается. Оплатите счёт по QR-коду или реквизитам в квитанции.',
  },
  en: {
    'payments.title': 'Payments',
    'payments.payTitle': 'Pay online',
    'payments.amount': 'Amount, RUB',
    'payments.amountHint': 'E.g. 1500 or 1 234.56.',
    'payments.method': 'Payment method',
    'payments.methodHint': 'You pay on the payment service’s page: by card, SBP or SberPay.',
    'payments.methodAny': 'Choose on the payment page',
    'payments.methodCARD': 'Card',
    'payments.methodSBP': 'SBP (Faster Payments)',
    'payments.methodSBERPAY': 'SberPay',
    'payments.pay': 'Go to payment',
    'payments.history': 'Payment history',
    'payments.date': 'Date',
    'payments.sum': 'Amount',
    'payments.channel': 'Channel',
    'payments.empty': 'No payments to this account yet.',
    'payments.caption': 'Payments to account No. {number}, newest first',
    'payments.PENDING': 'The payment of {amount} to account No. {number} is being processed. The status updates by itself.',
    'payments.SUCCEEDED': 'The payment of {amount} to account No. {number} went through. Thank you!',
    'payments.CANCELED': 'The payment of {amount} to account No. {number} was cancelled; no money was taken.',
    'payments.REFUNDED': 'The payment of {amount} to account No. {number} was refunded to you in full.',
    'payments.FAILED':
      'The payment of {amount} to account No. {number} did not go through. No money was taken; try again or pay another way.',
    'payments.checkAgain': 'Check again',
    'payments.otherTitle': 'How to pay',
    'autopay.title': 'Autopay',
    'autopay.on': 'New bills are paid automatically on the next day: {method}, up to {max} a month.',
    'autopay.waiting': 'Autopay turns on once the first payment goes through.',
    'autopay.off':
      'New bills will be paid automatically on the day after they come. First pay what is owed now (at least 1 RUB): the payment method is saved for autopay.',
    'autopay.max': 'Up to, RUB a month',
    'autopay.maxHint': 'A bill above this is not paid; we e-mail you instead.',
    'autopay.enable': 'Turn autopay on',
    'autopay.disable': 'Turn autopay off',
    'autopay.disabled': 'Autopay is off.',
    'pay.NOT_FOUND': 'This account is not in your cabinet. Reload the page.',
    'pay.INVALID_AMOUNT': 'Enter an amount above zero in roubles and kopecks, e.g. 1500 or 1234.56.',
    'pay.PROVIDER_UNAVAILABLE': 'The payment service is unavailable now. Try again in a few minutes.',
    'pay.PROVIDER_REFUSED': 'The payment service refused the payment. Try later, or pay by the bank details on the bill.',
    'pay.INVALID_IDEMPOTENCY_KEY': 'The payment could not start. Reload the page and try again.',
    'pay.IDEMPOTENCY_KEY_REUSED': 'The payment could not start. Reload the page and try again.',
    'pay.PAYMENTS_UNAVAILABLE': 'The cabinet takes no payments online. Pay by the QR code or the bank details on your bill.',
  },
});

const PAYMENT_STORAGE_KEY = 'kabinet.payment';
const POLL_MS = 2000;
const POLL_TIMES = 30;

const PAY = gql`mutation PayBill($input: PayBillInput!) {
  payBill(input: $input) {
    payment { id status confirmationUrl }
    userErrors { field message code }
  }
}`;

const STATUS = gql`query OnlinePayment($id: ID!) {
  onlinePayment(id: $id) { id status amount completedAt failureReason account { number } }
}`;

const PAYMENT_UPDATED = gql`subscription PaymentUpdated($id: ID!) {
  onlinePaymentUpdated(id: $id) { id status amount completedAt failureReason account { number } }
}`;

const PAYMENTS = gql`query Payments($account: ID!, $after: String) {
  account(id: $account) {
    payments(first: 20, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id amount paidAt channel }
    }
  }
}`;

const AUTOPAY_STATE = gql`fragment AutopayState on Account { autopay { active method maxAmount waiting } }`;

const AUTOPAY = gql`query Autopay($account: ID!) { account(id: $account) { id ...AutopayState } } ${AUTOPAY_STATE}`;

const ENABLE_AUTOPAY = gql`mutation EnableAutopay($input: EnableAutopayInput!) {
  enableAutopay(input: $input) {
    payment { id status confirmationUrl }
    userErrors { field message code }
  }
}`;

const DISABLE_AUTOPAY = gql`mutation DisableAutopay($input: DisableAutopayInput!) {
  disableAutopay(input: $input) { account { id ...AutopayState } userErrors { field message code } }
} ${AUTOPAY_STATE}`;

const OPTIONS = gql`query PaymentOptions { paymentOptions { online otherWays } }`;

// { online, otherWays }: whether payBill takes payments, and where else to pay.
export async function paymentOptions() {
  return (await graphql(OPTIONS)).paymentOptions;
}

const submission = new Submission();

// payBill's `method`: the acquirer's page opens on it; none: the page offers the choice.
const METHODS = ['CARD', 'SBP', 'SBERPAY'];

function remembered() {
  const returned = new URLSearchParams(window.location.search).get('payment');
  if (returned) return returned;
  try {
    return sessionStorage.getItem(PAYMENT_STORAGE_KEY);
  } catch {
    return null;
  }
}

function remember(id) {
  try {
    if (id) sessionStorage.setItem(PAYMENT_STORAGE_KEY, id);
    else sessionStorage.removeItem(PAYMENT_STORAGE_KEY);
  } catch {
    // storage off: the status is not shown on return, the history still has the payment
  }
}

function statusText(payment) {
  const text = t(`payments.${payment.status}`, {
    amount: formatMoney(payment.amount),
    number: payment.account ? payment.account.number : '',
  });
  // Why it did not go through (the acquirer's reason), in the page's language already.
  return payment.failureReason ? `${text} ${payment.failureReason}` : text;
}

const KIND = { SUCCEEDED: 'ok', PENDING: 'info', CANCELED: 'info', FAILED: 'error', REFUNDED: 'info' };

// The status of the payment the customer went to pay, once they are back; null if none.
export async function paymentReturnNotice() {
  const id = remembered();
  if (!id) return null;
  const { onlinePayment: payment } = await graphql(STATUS, { id });
  if (!payment) {
    remember(null);
    return null;
  }
  const box = h('div', { class: 'payment-status' });
  const show = (current) => {
    const again =
      current.status === 'PENDING'
        ? h('button', { type: 'button', onclick: () => check(0) }, t('payments.checkAgain'))
        : null;
    fill(box, h('div', { class: `notice notice-${KIND[current.status]}`, role: 'status' }, statusText(current)), again);
    if (current.status !== 'PENDING') remember(null);
  };
  const check = async (round) => {
    if (round > 0 && !box.isConnected) return;
    const data = await graphql(STATUS, { id }).catch(() => null);
    const current = data && data.onlinePayment;
    if (!current) return;
    show(current);
    if (current.status === 'PENDING' && round < POLL_TIMES) setTimeout(() => check(round + 1), POLL_MS);
  };
  show(payment);
  if (payment.status === 'PENDING') {
    // Told at once when the payment moves; polling only if the socket fails.
    let polling = false;
    let shown = false; // the box is on the page (the caller puts it there after this returns)
    const gone = () => {
      shown = shown || box.isConnected;
      return shown && !box.isConnected;
    };
    const stop = subscribe(PAYMENT_UPDATED, { id }, {
      next: (data) => {
        const current = data.onlinePaymentUpdated;
        if (current && !gone()) show(current);
        if (gone() || (current && current.status !== 'PENDING')) stop();
      },
      failed: () => {
        if (polling || gone()) return;
        polling = true;
        setTimeout(() => check(1), POLL_MS);
      },
    });
    // Leaving the page ends the subscription (checked locally, no request).
    const leave = setInterval(() => {
      if (gone()) {
        stop();
        clearInterval(leave);
      }
    }, POLL_MS);
  }
  return box;
}

function payForm(account) {
  const debt = Number(account.balance) > 0 ? account.balance : '';
  return form({
    label: t('payments.payTitle'),
    submit: t('payments.pay'),
    fields: [
      field({
        name: 'amount',
        label: t('payments.amount'),
        hint: t('payments.amountHint'),
        inputmode: 'decimal',
        autocomplete: 'transaction-amount',
        value: debt && language() === 'ru' ? debt.replace('.', ',') : debt,
      }),
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
      const input = { accountId: account.id, amount: values.amount.trim(), method: values.method || null };
      const payload = await mutate('payBill', PAY, { ...input, idempotencyKey: submission.keyFor(input) });
      submission.done();
      if (payload.userErrors.length) {
        showErrors(node, payload.userErrors, codeText('pay'));
        return;
      }
      remember(payload.payment.id);
      window.location.assign(payload.payment.confirmationUrl);
    },
  });
}

async function history(account) {
  return growingList({
    load: async (after) => (await graphql(PAYMENTS, { account: account.id, after })).account.payments,
    table: [t('payments.date'), t('payments.sum'), t('payments.channel')],
    caption: t('payments.caption', { number: account.number }),
    empty: t('payments.empty'),
    item: (p) =>
      h(
        'tr',
        {},
        h('td', {}, formatDateTime(p.paidAt)),
        h('td', { class: 'number' }, formatMoney(p.amount)),
        h('td', {}, p.channel),
      ),
  });
}

const autopaySubmission = new Submission();
let autopayFlash = null;

function autopayForm(account) {
  return form({
    label: t('autopay.title'),
    submit: t('autopay.enable'),
    fields: [
      field({ name: 'maxAmount', label: t('autopay.max'), hint: t('autopay.maxHint'), inputmode: 'decimal' }),
    ],
    onSubmit: async (values, node) => {
      const input = { accountId: account.id, maxAmount: values.maxAmount.trim() };
      const payload = await mutate('enableAutopay', ENABLE_AUTOPAY, {
        ...input,
        idempotencyKey: autopaySubmission.keyFor(input),
      });
      autopaySubmission.done();
      if (payload.userErrors.length) {
        showErrors(node, payload.userErrors, codeText('pay'));
        return;
      }
      remember(payload.payment.id);
      window.location.assign(payload.payment.confirmationUrl);
    },
  });
}

async function autopaySection(account) {
  const { autopay } = (await graphql(AUTOPAY, { account: account.id })).account;
  const shown = autopayFlash;
  autopayFlash = null;
  let body;
  if (autopay.active) {
    const max = formatMoney(autopay.maxAmount);
    body = [
      h('p', {}, t('autopay.on', { method: autopay.method, max })),
      button(t('autopay.disable'), {
        onclick: async (event) => {
          event.target.disabled = true;
          try {
            const payload = await mutate('disableAutopay', DISABLE_AUTOPAY, { accountId: account.id });
            const [error] = payload.userErrors;
            autopayFlash = error ? error.message : t('autopay.disabled');
            await navigate(location.pathname + location.search, { replace: true });
          } finally {
            event.target.disabled = false;
          }
        },
      }),
    ];
  } else {
    body = [autopay.waiting ? notice(t('autopay.waiting')) : null, h('p', {}, t('autopay.off')), autopayForm(account)];
  }
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'autopay' },
    h('h2', { id: 'autopay' }, t('autopay.title')),
    shown ? notice(shown) : null,
    body,
  );
}

function paySection(account, options) {
  if (!options.online) {
    return h(
      'section',
      { 'aria-labelledby': 'pay-title', class: 'pay-elsewhere' },
      h('h2', { id: 'pay-title' }, t('payments.otherTitle')),
      h('p', { class: 'notice notice-info' }, options.otherWays),
    );
  }
  return h('section', { 'aria-labelledby': 'pay-title' }, h('h2', { id: 'pay-title' }, t('payments.payTitle')), payForm(account));
}

async function render({ query }) {
  const [accounts, options] = await Promise.all([loadAccounts(), paymentOptions()]);
  const account = chosenAccount(accounts, query);
  if (!account) return page(t('payments.title'), h('p', {}, t('account.none')));
  return page(
    t('payments.title'),
    await paymentReturnNotice().catch(() => null),
    accountPicker(accounts, account, '/payments'),
    h('p', { class: `balance balance-${balanceKind(account.balance)}` }, balanceText(account.balance)),
    paySection(account, options),
    options.online ? await autopaySection(account) : null,
    h(
      'section',
      { 'aria-labelledby': 'history', class: 'history' },
      h('h2', { id: 'history', tabindex: '-1' }, t('payments.history')),
      await history(account),
    ),
  );
}

route('/payments', render, { auth: true, title: 'payments.title', nav: { label: 'nav.payments', order: 30 } });
