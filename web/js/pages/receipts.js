// `/receipts`: the account's bills with their PDFs, the electronic receipt (bills by
// e-mail) and the consumption chart.
//
// A bill's PDF is `/receipts/<id>.pdf`, which the session cookie opens (the route checks
// the bill is the cabinet's); Receipt.pdfUrl's signed link is for apps that hand the file
// to a system viewer, and is not needed here.

import { codeText, graphql, mutate } from '../api.js';
import { button, field, form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDate, formatMoney, t } from '../i18n.js';
import { navigate, route } from '../router.js';
import { accountPicker, chosenAccount, growingList, loadAccounts } from './account-common.js';
import { consumptionChart, monthName } from './chart.js';

addMessages({
  ru: {
    'receipts.title': 'Квитанции',
    'receipts.list': 'Квитанции по счёту № {number}',
    'receipts.line': 'К оплате {due} до {dueOn}; начислено за месяц {charged}.',
    'receipts.lineCredit': 'Платить не нужно: переплата {credit}; начислено за месяц {charged}.',
    'receipts.download': 'Скачать PDF за {month}',
    'receipts.empty': 'Квитанций по этому счёту пока нет.',
    'receipts.consumption': 'Расход по месяцам',
    'ereceipt.title': 'Электронная квитанция',
    'ereceipt.on': 'Квитанции приходят на {email} в PDF (с {since}). Бумажную квитанцию можно не ждать.',
    'ereceipt.pending': 'Ждём подтверждения адреса {email}: откройте ссылку из письма, и квитанции начнут приходить туда.',
    'ereceipt.off':
      'Получайте квитанцию по электронной почте: каждая новая квитанция придёт в PDF, как только будет готова.',
    'ereceipt.email': 'Адрес для квитанций',
    'ereceipt.emailHint': 'Оставьте пустым, чтобы получать на адрес кабинета. На другой адрес придёт ссылка для подтверждения.',
    'ereceipt.subscribe': 'Получать по почте',
    'ereceipt.unsubscribe': 'Больше не присылать по почте',
    'ereceipt.subscribed': 'Готово: квитанции будут приходить на адрес кабинета.',
    'ereceipt.confirmationSent': 'На {email} отправлена ссылка: откройте её, чтобы квитанции приходили туда.',
    'ereceipt.unsubscribed': 'Квитанции больше не будут приходить по почте.',
    'ereceipt.NOT_FOUND': 'Этого лицевого счёта нет в вашем кабинете. Обновите страницу.',
    'ereceipt.INVALID_EMAIL': 'Проверьте адрес: он должен быть вида name@example.ru.',
    'ereceipt.TOO_MANY_ATTEMPTS': 'Письма с подтверждением отправлялись слишком часто. Повторите {retryAfter}.',
  },
  en: {
    'receipts.title': 'Bills',
    'receipts.list': 'Bills of account No. {number}',
    'receipts.line': 'To pay {due} by {dueOn}; charged for the month {charged}.',
    'receipts.lineCredit': 'Nothing to pay: in credit {credit}; charged for the month {charged}.',
    'receipts.download': 'Download the PDF for {month}',
    'receipts.empty': 'No bills for this account yet.',
    'receipts.consumption': 'Consumption per month',
    'ereceipt.title': 'Bills by e-mail',
    'ereceipt.on': 'Bills go to {email} as PDF (since {since}). No need to wait for the paper one.',
    'ereceipt.pending': 'Waiting for {email} to be confirmed: open the link in the letter, and the bills will go there.',
    'ereceipt.off': 'Get your bill by e-mail: each new bill comes as a PDF as soon as it is ready.',
    'ereceipt.email': 'Address for the bills',
    'ereceipt.emailHint': 'Leave empty to use the cabinet’s address. Another address gets a confirmation link first.',
    'ereceipt.subscribe': 'Send them by e-mail',
    'ereceipt.unsubscribe': 'Stop sending them by e-mail',
    'ereceipt.subscribed': 'Done: the bills will go to the cabinet’s address.',
    'ereceipt.confirmationSent': 'A link went to {email}: open it, and the bills will go there.',
    'ereceipt.unsubscribed': 'The bills will no longer come by e-mail.',
    'ereceipt.NOT_FOUND': 'This account is not in your cabinet. Reload the page.',
    'ereceipt.INVALID_EMAIL': 'Check the address: it should look like name@example.com.',
    'ereceipt.TOO_MANY_ATTEMPTS': 'Confirmation letters were sent too often. Try again {retryAfter}.',
  },
});

const ERECEIPT_STATE = gql`fragment EReceiptState on Account { eReceipt { enabled email since pendingEmail } }`;

const RECEIPTS_ACCOUNT = gql`query ReceiptsAccount($id: ID!) {
  account(id: $id) { id number ...EReceiptState consumption(months: 12) { month source kwh kwhYearAgo amount } }
}
${ERECEIPT_STATE}`;

const RECEIPTS = gql`query Receipts($account: ID!, $after: String) {
  account(id: $account) {
    receipts(first: 6, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id period dueOn charged amountDue }
    }
  }
}`;


const SUBSCRIBE = gql`mutation SubscribeEReceipt($input: SubscribeEReceiptInput!) {
  subscribeEReceipt(input: $input) { account { id ...EReceiptState } confirmationSentTo userErrors { field message code retryAfter } }
}
${ERECEIPT_STATE}`;

const UNSUBSCRIBE = gql`mutation UnsubscribeEReceipt($input: UnsubscribeEReceiptInput!) {
  unsubscribeEReceipt(input: $input) { account { id ...EReceiptState } userErrors { field message code } }
}
${ERECEIPT_STATE}`;

let flash = null;

export function pdfPath(receipt) {
  return `/receipts/${encodeURIComponent(receipt.id)}.pdf`;
}

async function redraw(text) {
  flash = text;
  await navigate(location.pathname + location.search, { replace: true });
}

function eReceiptSection(account) {
  const state = account.eReceipt;
  let body;
  if (state.enabled) {
    body = [
      h('p', {}, t('ereceipt.on', { email: state.email, since: formatDate(state.since) })),
      button(t('ereceipt.unsubscribe'), {
        onclick: async (event) => {
          event.target.disabled = true;
          try {
            const payload = await mutate('unsubscribeEReceipt', UNSUBSCRIBE, { accountId: account.id });
            const [error] = payload.userErrors;
            await redraw(error ? codeText('ereceipt')(error) : t('ereceipt.unsubscribed'));
          } finally {
            event.target.disabled = false;
          }
        },
      }),
    ];
  } else {
    body = [
      state.pendingEmail ? notice(t('ereceipt.pending', { email: state.pendingEmail })) : null,
      h('p', {}, t('ereceipt.off')),
      form({
        label: t('ereceipt.title'),
        submit: t('ereceipt.subscribe'),
        fields: [
          field({
            name: 'email',
            label: t('ereceipt.email'),
            hint: t('ereceipt.emailHint'),
            type: 'email',
            required: false,
            autocomplete: 'email',
          }),
        ],
        onSubmit: async (values, node) => {
          const email = values.email.trim();
          const payload = await mutate('subscribeEReceipt', SUBSCRIBE, { accountId: account.id, email: email || null });
          if (payload.userErrors.length) {
            showErrors(node, payload.userErrors, codeText('ereceipt'));
            return;
          }
          const sentTo = payload.confirmationSentTo;
          await redraw(sentTo ? t('ereceipt.confirmationSent', { email: sentTo }) : t('ereceipt.subscribed'));
        },
      }),
    ];
  }
  return h('section', { class: 'card', 'aria-labelledby': 'ereceipt' }, h('h2', { id: 'ereceipt' }, t('ereceipt.title')), body);
}

// One bill as a list item (a table would push the PDF link off a phone's screen).
function receiptItem(receipt) {
  const month = monthName(receipt.period);
  return h(
    'li',
    { class: 'receipt' },
    h('p', { class: 'receipt-month' }, month),
    h(
      'p',
      {},
      Number(receipt.amountDue) > 0
        ? t('receipts.line', {
            due: formatMoney(receipt.amountDue),
            dueOn: formatDate(receipt.dueOn),
            charged: formatMoney(receipt.charged),
          })
        : t('receipts.lineCredit', {
            credit: formatMoney(String(-Number(receipt.amountDue))),
            charged: formatMoney(receipt.charged),
          }),
    ),
    h(
      'a',
      { class: 'button', href: pdfPath(receipt), download: true }, // the server names the file
      t('receipts.download', { month }),
    ),
  );
}

async function render({ query }) {
  const accounts = await loadAccounts();
  const chosen = chosenAccount(accounts, query);
  if (!chosen) return page(t('receipts.title'), h('p', {}, t('account.none')));
  const { account } = await graphql(RECEIPTS_ACCOUNT, { id: chosen.id });
  const shown = flash;
  flash = null;
  const list = await growingList({
    load: async (after) => (await graphql(RECEIPTS, { account: account.id, after })).account.receipts,
    empty: t('receipts.empty'),
    item: receiptItem,
  });
  return page(
    t('receipts.title'),
    shown ? notice(shown, 'ok') : null,
    accountPicker(accounts, chosen, '/receipts'),
    h('section', { 'aria-labelledby': 'receipts-list' }, h('h2', { id: 'receipts-list' }, t('receipts.list', { number: account.number })), list),
    eReceiptSection(account),
    h(
      'section',
      { 'aria-labelledby': 'consumption' },
      h('h2', { id: 'consumption' }, t('receipts.consumption')),
      consumptionChart(account.consumption),
    ),
  );
}

route('/receipts', render, { auth: true, title: 'receipts.title', nav: { label: 'nav.receipts', order: 40 } });
