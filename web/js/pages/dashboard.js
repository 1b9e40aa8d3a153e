// `/dashboard`: every account of the cabinet with its balance, meters and last readings,
// the ways to the other pages, and linking another account (number + a payment amount).

import { codeText, mutate } from '../api.js';
import { field, form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDate, formatNumber, language, t } from '../i18n.js';
import { navigate, route } from '../router.js';
import { ACCOUNT_FIELDS, balanceKind, balanceText, loadAccounts, METER_FIELDS } from './account-common.js';
import { payOffer } from './auth-fields.js';
import { paymentOptions, paymentReturnNotice } from './payments.js';
import { deletionBanner } from './privacy.js';

addMessages({
  ru: {
    'dashboard.title': 'Мои лицевые счета',
    'dashboard.account': 'Лицевой счёт № {number}',
    'dashboard.holder': 'Владелец',
    'dashboard.address': 'Адрес',
    'dashboard.tariff': 'Тариф',
    'dashboard.meter': 'Счётчик № {serial}',
    'dashboard.zones': 'Зоны: {zones}',
    'dashboard.lastReading': 'Последние показания {date}:',
    'dashboard.noReading': 'Показаний пока нет.',
    'dashboard.verification': 'Следующая поверка: {date}',
    'dashboard.pay': 'Оплатить',
    'dashboard.howToPay': 'Как оплатить',
    'dashboard.submitReading': 'Передать показания',
    'dashboard.receipts': 'Квитанции и расход',
    'dashboard.linkTitle': 'Подключить ещё один лицевой счёт',
    'dashboard.linkIntro':
      'Чтобы подтвердить, что счёт ваш, укажите его номер из квитанции и сумму любого платежа по нему за последний год.',
    'dashboard.accountNumber': 'Номер лицевого счёта',
    'dashboard.accountNumberHint': 'Только цифры, как в квитанции, например 001234567890.',
    'dashboard.paymentAmount': 'Сумма одного из платежей, ₽',
    'dashboard.paymentAmountHint': 'Например 1500 или 1 234,56.',
    'dashboard.link': 'Подключить',
    'dashboard.linked': 'Лицевой счёт № {number} подключён к кабинету.',
    'dashboard.linkHeld':
      'Платёж, которым вы подтвердили владение, внесён недавно, поэтому счёт № {number} появится в кабинете {until}.',
    'link.INVALID_ACCOUNT_NUMBER': 'Номер лицевого счёта — это только цифры (до 20), как в квитанции.',
    'link.INVALID_AMOUNT': 'Укажите сумму в рублях и копейках, например 1234,56.',
    'link.INVALID_PROOF':
      'Номер счёта и сумма платежа не совпадают с нашими данными. Проверьте номер по квитанции и укажите сумму любого платежа за последний год, до копейки.',
    'link.TOO_MANY_ATTEMPTS':
      'Слишком много неудачных попыток для этого счёта. Повторите {retryAfter}.',
    'link.ALREADY_LINKED': 'Этот лицевой счёт уже есть в вашем кабинете.',
    'link.ALREADY_REGISTERED':
      'Этот лицевой счёт подключён к другому личному кабинету. Если это ваш кабинет, войдите в него или восстановите доступ.',
  },
  en: {
    'dashboard.title': 'My accounts',
    'dashboard.account': 'Account No. {number}',
    'dashboard.holder': 'Holder',
    'dashboard.address': 'Address',
    'dashboard.tariff': 'Tariff',
    'dashboard.meter': 'Meter No. {serial}',
    'dashboard.zones': 'Zones: {zones}',
    'dashboard.lastReading': 'Last reading on {date}:',
    'dashboard.noReading': 'No readings yet.',
    'dashboard.verification': 'Next verification: {date}',
    'dashboard.pay': 'Pay',
    'dashboard.howToPay': 'How to pay',
    'dashboard.submitReading': 'Submit a reading',
    'dashboard.receipts': 'Bills and consumption',
    'dashboard.linkTitle': 'Link another account',
    'dashboard.linkIntro':
      'To prove the account is yours, enter its number from the bill and the amount of any payment to it in the last year.',
    'dashboard.accountNumber': 'Account number',
    'dashboard.accountNumberHint': 'Digits only, as on the bill, e.g. 001234567890.',
    'dashboard.paymentAmount': 'Amount of one of the payments, RUB',
    'dashboard.paymentAmountHint': 'E.g. 1500 or 1 234.56.',
    'dashboard.link': 'Link the account',
    'dashboard.linked': 'Account No. {number} is now in your cabinet.',
    'dashboard.linkHeld':
      'The payment you proved ownership with was made recently, so account No. {number} joins your cabinet on {until}.',
    'link.INVALID_ACCOUNT_NUMBER': 'An account number has digits only (up to 20), as printed on the bill.',
    'link.INVALID_AMOUNT': 'Enter an amount in roubles and kopecks, e.g. 1234.56.',
    'link.INVALID_PROOF':
      'The account number and the payment amount do not match our records. Check the number on the bill and enter the amount of any payment in the last year, to the kopeck.',
    'link.TOO_MANY_ATTEMPTS': 'Too many failed attempts for this account. Try again {retryAfter}.',
    'link.ALREADY_LINKED': 'This account is already in your cabinet.',
    'link.ALREADY_REGISTERED':
      'This account belongs to another cabinet. If that cabinet is yours, log in to it or recover access.',
  },
});

const DASHBOARD = gql`query Dashboard { me { unreadAnswers accounts { ...AccountFields ...AccountMeters } } }
${ACCOUNT_FIELDS}
${METER_FIELDS}`;

const LINK = gql`mutation LinkAccount($input: LinkAccountInput!) {
  linkAccount(input: $input) {
    account { id number }
    hold { until }
    userErrors { field message code retryAfter ... on LinkAccountError { minimalPayment payUrl } }
  }
}`;

let flash = null; // the sentence to show once after the page is drawn again

function meterCard(meter) {
  const last = meter.lastReading;
  return h(
    'li',
    { class: 'meter' },
    h('p', { class: 'meter-name' }, t('dashboard.meter', { serial: meter.serial }), meter.model ? ` (${meter.model})` : ''),
    h('p', { class: 'hint' }, t('dashboard.zones', { zones: meter.zones.map((z) => z.name).join(', ') })),
    last
      ? h(
          'div',
          {},
          h('p', {}, t('dashboard.lastReading', { date: formatDate(last.takenOn) })),
          h(
            'ul',
            { class: 'zone-values' },
            last.values.map((v) => h('li', {}, `${v.name}: ${formatNumber(v.value, 3)}`)),
          ),
        )
      : h('p', {}, t('dashboard.noReading')),
    meter.nextVerificationOn
      ? h('p', { class: 'hint' }, t('dashboard.verification', { date: formatDate(meter.nextVerificationOn) }))
      : null,
  );
}

// `online`: payBill takes payments; else the link leads to where else to pay.
function accountCard(account, online) {
  const query = `?account=${encodeURIComponent(account.id)}`;
  const headingId = `account-${account.number}`;
  return h(
    'article',
    { class: 'card account', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, t('dashboard.account', { number: account.number })),
    h(
      'p',
      { class: `balance balance-${balanceKind(account.balance)}` },
      balanceText(account.balance),
      account.balanceOn ? h('span', { class: 'hint' }, ` ${t('account.balanceOn', { date: formatDate(account.balanceOn) })}`) : null,
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, t('dashboard.holder')),
      h('dd', {}, account.holderName),
      h('dt', {}, t('dashboard.address')),
      h('dd', {}, account.address),
      h('dt', {}, t('dashboard.tariff')),
      h('dd', {}, account.tariff),
    ),
    h('ul', { class: 'meters' }, account.meters.map(meterCard)),
    h(
      'ul',
      { class: 'quick-links' },
      online
        ? h('li', {}, h('a', { class: 'button primary', href: `/payments${query}` }, t('dashboard.pay')))
        : h('li', {}, h('a', { class: 'button', href: `/payments${query}` }, t('dashboard.howToPay'))),
      h('li', {}, h('a', { class: 'button', href: `/readings${query}` }, t('dashboard.submitReading'))),
      h('li', {}, h('a', { class: 'button', href: `/receipts${query}` }, t('dashboard.receipts'))),
    ),
  );
}

function linkForm() {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'link-title' },
    h('h2', { id: 'link-title' }, t('dashboard.linkTitle')),
    h('p', {}, t('dashboard.linkIntro')),
    form({
      label: t('dashboard.linkTitle'),
      submit: t('dashboard.link'),
      fields: [
        field({
          name: 'accountNumber',
          label: t('dashboard.accountNumber'),
          hint: t('dashboard.accountNumberHint'),
          inputmode: 'numeric',
          autocomplete: 'off',
        }),
        field({
          name: 'paymentAmount',
          label: t('dashboard.paymentAmount'),
          hint: t('dashboard.paymentAmountHint'),
          inputmode: 'decimal',
          autocomplete: 'off',
        }),
      ],
      onSubmit: async (values, node) => {
        const payload = await mutate('linkAccount', LINK, {
          accountNumber: values.accountNumber.trim(),
          paymentAmount: values.paymentAmount.trim(),
        });
        if (payload.userErrors.length) {
          showErrors(node, payload.userErrors, codeText('link'));
          payOffer(node, payload.userErrors);
          return;
        }
        if (payload.hold) {
          const until = new Date(payload.hold.until).toLocaleString(language());
          flash = t('dashboard.linkHeld', { number: values.accountNumber.trim(), until });
        } else {
          flash = t('dashboard.linked', { number: payload.account.number });
        }
        await navigate('/dashboard', { replace: true });
      },
    }),
  );
}

async function render() {
  const [accounts, options] = await Promise.all([
    loadAccounts(DASHBOARD),
    paymentOptions().catch(() => ({ online: true })), // payBill says so if it is not
  ]);
  const shown = flash;
  flash = null;
  return page(
    t('dashboard.title'),
    await deletionBanner(), // a deletion asked for: the way to keep the cabinet comes first
    await paymentReturnNotice().catch(() => null), // the dashboard shows without it
    shown ? notice(shown, 'ok') : null,
    accounts.length ? accounts.map((a) => accountCard(a, options.online)) : h('p', {}, t('account.none')),
    linkForm(),
  );
}

route('/dashboard', render, { auth: true, title: 'dashboard.title', nav: { label: 'nav.dashboard', order: 10 } });
