// `/readings`: submitting a meter reading, checked while it is typed, and the account's
// reading history.
//
// While the values are typed, previewMeterReading runs every check of the submission and
// prices the consumption, storing nothing: its refusals appear under the zone they are
// about. The sentences are the server's (in the page's language): they carry the numbers
// and dates the customer needs (the last accepted value, the usual consumption, the next
// window); a consumption far above the usual reveals the "the value is right" checkbox
// (confirmUnusual). submitMeterReading carries an idempotencyKey made once per submission.

import { codeText, graphql, mutate } from '../api.js';
import { clearErrors, field, fill, form, formValues, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDate, formatMoney, formatNumber, language, t } from '../i18n.js';
import { navigate, route } from '../router.js';
import {
  accountPicker,
  ACCOUNT_FIELDS,
  chosenAccount,
  growingList,
  loadAccounts,
  METER_FIELDS,
  Submission,
} from './account-common.js';

addMessages({
  ru: {
    'readings.title': 'Показания счётчиков',
    'readings.meter': 'Счётчик № {serial}',
    'readings.meterNo': '№ {serial}',
    'readings.takenOn': 'Дата снятия показаний',
    'readings.zone': '{name}, кВт·ч',
    'readings.zoneHint': 'Цифры до запятой и, если есть, после. Последнее принятое: {value} ({date}).',
    'readings.zoneHintFirst': 'Цифры до запятой и, если есть, после.',
    'readings.confirm': 'Показание верное, расход действительно необычный',
    'readings.confirmHint': 'Чтобы подтвердить, отметьте ниже «Показание верное».',
    'readings.submit': 'Передать показания',
    'readings.usage': 'Расход с прошлых показаний: {usage}.',
    'readings.charge': 'Ориентировочно к оплате: {amount} (по тарифам последней квитанции).',
    'readings.review': 'Показания будут переданы специалисту на проверку.',
    'readings.accepted': 'Показания счётчика № {serial} на {date} приняты.',
    'readings.acceptedReview': 'Показания счётчика № {serial} на {date} переданы специалисту на проверку.',
    'readings.history': 'История показаний',
    'readings.caption': 'Показания по счёту № {number}, сначала новые',
    'readings.date': 'Дата',
    'readings.values': 'Показания',
    'readings.status': 'Статус',
    'readings.empty': 'Показаний по этому счёту пока нет.',
    'readings.noMeters': 'У этого лицевого счёта нет счётчиков.',
    'readings.source.CUSTOMER': 'передали вы',
    'readings.source.INSPECTOR': 'снял контролёр',
    'readings.source.ESTIMATED': 'расчётные',
    'readings.source.BILLING': 'от поставщика',
    'readings.source.GUEST': 'переданы без входа в кабинет',
    'readings.status.ACCEPTED': 'Приняты',
    'readings.status.REVIEW': 'На проверке',
    'readings.status.REJECTED': 'Отклонены',
    'readings.status.REPLACED': 'Заменены',
    'reading.NOT_FOUND': 'Этого счётчика нет в вашем кабинете. Обновите страницу.',
    'reading.INVALID_IDEMPOTENCY_KEY': 'Не удалось отправить показания. Обновите страницу и повторите.',
    'reading.IDEMPOTENCY_KEY_REUSED': 'Не удалось отправить показания. Обновите страницу и повторите.',
  },
  en: {
    'readings.title': 'Meter readings',
    'readings.meter': 'Meter No. {serial}',
    'readings.meterNo': 'No. {serial}',
    'readings.takenOn': 'Date of the reading',
    'readings.zone': '{name}, kWh',
    'readings.zoneHint': 'The digits before the point and, if any, after it. Last accepted: {value} ({date}).',
    'readings.zoneHintFirst': 'The digits before the point and, if any, after it.',
    'readings.confirm': 'The value is right; the consumption really is unusual',
    'readings.confirmHint': 'To confirm it, tick “The value is right” below.',
    'readings.submit': 'Submit the reading',
    'readings.usage': 'Consumption since the last reading: {usage}.',
    'readings.charge': 'Estimated charge: {amount} (at the rates of the latest bill).',
    'readings.review': 'The reading will go to a specialist for review.',
    'readings.accepted': 'The reading of meter No. {serial} on {date} is accepted.',
    'readings.acceptedReview': 'The reading of meter No. {serial} on {date} went to a specialist for review.',
    'readings.history': 'Reading history',
    'readings.caption': 'Readings of account No. {number}, newest first',
    'readings.date': 'Date',
    'readings.values': 'Values',
    'readings.status': 'Status',
    'readings.empty': 'No readings of this account yet.',
    'readings.noMeters': 'This account has no meters.',
    'readings.source.CUSTOMER': 'sent by you',
    'readings.source.INSPECTOR': 'taken by an inspector',
    'readings.source.ESTIMATED': 'estimated',
    'readings.source.BILLING': 'from the supplier',
    'readings.source.GUEST': 'sent without logging in',
    'readings.status.ACCEPTED': 'Accepted',
    'readings.status.REVIEW': 'Under review',
    'readings.status.REJECTED': 'Rejected',
    'readings.status.REPLACED': 'Replaced',
    'reading.NOT_FOUND': 'This meter is not in your cabinet. Reload the page.',
    'reading.INVALID_IDEMPOTENCY_KEY': 'The reading could not be sent. Reload the page and try again.',
    'reading.IDEMPOTENCY_KEY_REUSED': 'The reading could not be sent. Reload the page and try again.',
  },
});

const READING_ACCOUNTS = gql`query ReadingAccounts { me { unreadAnswers accounts { ...AccountFields ...AccountMeters } } }
${ACCOUNT_FIELDS}
${METER_FIELDS}`;

const PREVIEW = gql`query PreviewMeterReading($input: PreviewMeterReadingInput!) {
  previewMeterReading(input: $input) { consumption { zone name kwh } estimatedCharge needsReview userErrors { field message code } }
}`;

const SUBMIT = gql`mutation SubmitMeterReading($input: SubmitMeterReadingInput!) {
  submitMeterReading(input: $input) {
    reading { id takenOn status }
    consumption { zone name kwh } estimatedCharge
    userErrors { field message code }
  }
}`;

const READINGS = gql`query Readings($account: ID!, $after: String) {
  account(id: $account) {
    readings(first: 10, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id takenOn source status meter { serial } values { zone name value } }
    }
  }
}`;

const PREVIEW_DELAY_MS = 400;
let flash = null; // the result of a submission, shown once the page is drawn again

// "25 окт. 2026 г." / "25 Oct 2026": narrow enough for a table on a phone.
function shortDate(value) {
  return new Intl.DateTimeFormat(language() === 'ru' ? 'ru-RU' : 'en-GB', { dateStyle: 'medium' }).format(
    new Date(`${value}T12:00:00`),
  );
}

function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function errorText(error) {
  const text = codeText('reading')(error);
  return error.code === 'IMPLAUSIBLE_VALUE' ? `${text} ${t('readings.confirmHint')}` : text;
}

// "День 120 кВт·ч, Ночь 40 кВт·ч. Ориентировочно к оплате: 1 234,56 ₽."
function estimateText(result) {
  const parts = [];
  if (result.consumption && result.consumption.length) {
    const usage = result.consumption.map((z) => `${z.name} ${formatNumber(z.kwh, 3)} ${t('unit.kwh')}`).join(', ');
    parts.push(t('readings.usage', { usage }));
  }
  if (result.estimatedCharge) parts.push(t('readings.charge', { amount: formatMoney(result.estimatedCharge) }));
  return parts.join(' ');
}

addMessages({
  ru: {
    'unit.kwh': 'кВт·ч',
  },
  en: {
    'unit.kwh': 'kWh',
  },
});

function readingInput(meter, node) {
  const values = formValues(node);
  return {
    meterId: meter.id,
    takenOn: values.takenOn,
    confirmUnusual: values.confirmUnusual === 'on',
    values: meter.zones.map((zone, i) => ({ zone: zone.number, value: (values[`values.${i}.value`] || '').trim() })),
  };
}

// The refusals under their fields. `typing`: the check ran while the customer types, so
// the cursor stays where it is (after a submission it goes to the first problem).
function showProblems(node, userErrors, { typing = false } = {}) {
  const active = document.activeElement;
  clearErrors(node);
  if (userErrors.some((e) => e.code === 'IMPLAUSIBLE_VALUE')) node.querySelector('.confirm-unusual').hidden = false;
  if (userErrors.length) showErrors(node, userErrors, errorText);
  if (typing && active && node.contains(active)) active.focus();
}

function meterForm(meter, submission) {
  const last = meter.lastReading;
  const lastValue = (zone) => (last ? last.values.find((v) => v.zone === zone.number) : null);
  const estimate = h('p', { class: 'estimate', role: 'status' });
  const confirm = h(
    'div',
    { class: 'field checkbox confirm-unusual', 'data-field': 'confirmUnusual', hidden: true },
    h('label', {}, h('input', { type: 'checkbox', name: 'confirmUnusual' }), ' ', t('readings.confirm')),
  );
  let asked = 0;
  let timer = null;

  const node = form({
    label: t('readings.meter', { serial: meter.serial }),
    submit: t('readings.submit'),
    fields: [
      field({ name: 'takenOn', label: t('readings.takenOn'), type: 'date', value: today(), max: today() }),
      meter.zones.map((zone, i) => {
        const previous = lastValue(zone);
        return field({
          name: `values.${i}.value`,
          label: t('readings.zone', { name: zone.name }),
          hint: previous
            ? t('readings.zoneHint', { value: formatNumber(previous.value, 3), date: formatDate(last.takenOn) })
            : t('readings.zoneHintFirst'),
          inputmode: 'decimal',
          autocomplete: 'off',
        });
      }),
      confirm,
      estimate,
    ],
    onSubmit: async (values, f) => {
      clearTimeout(timer);
      asked += 1; // a preview still on its way must not overwrite the answer
      const input = readingInput(meter, f);
      const payload = await mutate('submitMeterReading', SUBMIT, { ...input, idempotencyKey: submission.keyFor(input) });
      submission.done();
      if (payload.userErrors.length) {
        fill(estimate);
        showProblems(f, payload.userErrors);
        return;
      }
      const key = payload.reading.status === 'REVIEW' ? 'readings.acceptedReview' : 'readings.accepted';
      flash = [t(key, { serial: meter.serial, date: formatDate(payload.reading.takenOn) }), estimateText(payload)]
        .filter(Boolean)
        .join(' ');
      await navigate(location.pathname + location.search, { replace: true });
    },
  });

  const check = async () => {
    const input = readingInput(meter, node);
    if (!input.takenOn || input.values.some((v) => !v.value)) return;
    const mine = ++asked;
    const data = await graphql(PREVIEW, { input }).catch(() => null);
    if (!data || mine !== asked) return; // offline or overtaken: the submission will say
    const result = data.previewMeterReading;
    showProblems(node, result.userErrors, { typing: true });
    fill(estimate, result.userErrors.length ? null : estimateText(result), result.needsReview ? ` ${t('readings.review')}` : null);
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(check, PREVIEW_DELAY_MS);
  };
  node.addEventListener('input', later);
  node.addEventListener('change', later);
  return node;
}

// Readings are taken in a window of days each month: say so before anything is typed.
async function windowNotice(meter) {
  const input = { meterId: meter.id, takenOn: today(), values: [] };
  const data = await graphql(PREVIEW, { input }).catch(() => null);
  const closed = data && data.previewMeterReading.userErrors.find((e) => e.code === 'OUTSIDE_WINDOW');
  return closed ? notice(errorText(closed), 'info') : null;
}

async function meterSection(meter) {
  const headingId = `meter-${meter.serial}`;
  return h(
    'section',
    { class: 'card meter-form', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, t('readings.meter', { serial: meter.serial }), meter.model ? ` (${meter.model})` : ''),
    await windowNotice(meter),
    meterForm(meter, new Submission()),
  );
}

function history(account) {
  return growingList({
    load: async (after) => (await graphql(READINGS, { account: account.id, after })).account.readings,
    table: [t('readings.date'), t('readings.values'), t('readings.status')],
    caption: t('readings.caption', { number: account.number }),
    empty: t('readings.empty'),
    item: (r) =>
      h(
        'tr',
        {},
        h('td', {}, shortDate(r.takenOn), h('br'), h('span', { class: 'hint' }, t('readings.meterNo', { serial: r.meter.serial }))),
        h('td', {}, r.values.map((v) => h('div', {}, `${v.name}: ${formatNumber(v.value, 3)}`))),
        h('td', {}, t(`readings.status.${r.status}`), h('br'), h('span', { class: 'hint' }, t(`readings.source.${r.source}`))),
      ),
  });
}

async function render({ query }) {
  const accounts = await loadAccounts(READING_ACCOUNTS);
  const account = chosenAccount(accounts, query);
  if (!account) return page(t('readings.title'), h('p', {}, t('account.none')));
  const shown = flash;
  flash = null;
  return page(
    t('readings.title'),
    shown ? notice(shown, 'ok') : null,
    accountPicker(accounts, account, '/readings'),
    account.meters.length
      ? await Promise.all(account.meters.map(meterSection))
      : h('p', {}, t('readings.noMeters')),
    h('section', { 'aria-labelledby': 'readings-history' }, h('h2', { id: 'readings-history' }, t('readings.history')), await history(account)),
  );
}

route('/readings', render, { auth: true, title: 'readings.title', nav: { label: 'nav.readings', order: 20 } });
