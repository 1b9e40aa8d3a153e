// `/submit-reading`: a meter reading without logging in, by the account number and the
// meter's serial from the bill (submitGuestMeterReading). The answer tells only whether
// it was accepted: a guest never sees the meter's history.

import { codeText, mutate } from '../api.js';
import { field, form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDate, t } from '../i18n.js';
import { onNavigate, refresh, route } from '../router.js';
import { Submission } from './account-common.js';

addMessages({
  ru: {
    'guestReading.title': 'Передать показания без входа в кабинет',
    'guestReading.intro':
      'Номер лицевого счёта и заводской номер счётчика указаны в квитанции. Показания принимаются в дни, указанные в квитанции.',
    'guestReading.accountNumber': 'Номер лицевого счёта',
    'guestReading.meterSerial': 'Заводской номер счётчика',
    'guestReading.takenOn': 'Дата снятия показаний',
    'guestReading.t1': 'Показание T1 (день или единственная зона), кВт·ч',
    'guestReading.t2': 'Показание T2 (ночь), кВт·ч',
    'guestReading.t3': 'Показание T3 (полупик), кВт·ч',
    'guestReading.zoneHint': 'Только для многотарифного счётчика.',
    'guestReading.submit': 'Передать показания',
    'guestReading.done': 'Показания счётчика {serial} на {date} приняты. Спасибо!',
    'guestReading.another': 'Передать другие показания',
    'guestReading.login': 'Войти в личный кабинет',
    'guestReading.NOT_FOUND': 'Счётчик с таким номером на этом лицевом счёте не найден. Проверьте оба номера по квитанции.',
    'guestReading.INVALID_ACCOUNT_NUMBER': 'Номер лицевого счёта состоит только из цифр (до 20), как в квитанции.',
    'guestReading.TOO_MANY_ATTEMPTS': 'Слишком много попыток. Повторите {retryAfter}.',
  },
  en: {
    'guestReading.title': 'Submit a reading without logging in',
    'guestReading.intro':
      'The account number and the meter’s serial number are on your bill. Readings are accepted on the days the bill names.',
    'guestReading.accountNumber': 'Account number',
    'guestReading.meterSerial': 'Meter serial number',
    'guestReading.takenOn': 'Date of the reading',
    'guestReading.t1': 'T1 (day, or the only zone), kWh',
    'guestReading.t2': 'T2 (night), kWh',
    'guestReading.t3': 'T3 (semi-peak), kWh',
    'guestReading.zoneHint': 'Multi-zone meters only.',
    'guestReading.submit': 'Submit the reading',
    'guestReading.done': 'The reading of meter {serial} on {date} is accepted. Thank you!',
    'guestReading.another': 'Submit another reading',
    'guestReading.login': 'Log in to the cabinet',
    'guestReading.NOT_FOUND': 'There is no meter with this serial on this account. Check both numbers on your bill.',
    'guestReading.INVALID_ACCOUNT_NUMBER': 'An account number has digits only (up to 20), as printed on the bill.',
    'guestReading.TOO_MANY_ATTEMPTS': 'Too many attempts. Try again {retryAfter}.',
  },
});

const SUBMIT = gql`mutation SubmitGuestMeterReading($input: SubmitGuestMeterReadingInput!) {
  submitGuestMeterReading(input: $input) {
    reading { meterSerial takenOn status }
    userErrors { field message code retryAfter }
  }
}`;

let accepted = null; // the reading just accepted, while its notice is shown
const submission = new Submission();
onNavigate((path) => {
  if (path !== '/submit-reading') accepted = null;
});

function today() {
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

function zoneField(zone) {
  return field({
    name: `values.${zone - 1}.value`,
    label: t(`guestReading.t${zone}`),
    hint: zone > 1 ? t('guestReading.zoneHint') : null,
    required: zone === 1,
    inputmode: 'decimal',
    autocomplete: 'off',
  });
}

function render({ query }) {
  const links = h('ul', { class: 'links' }, h('li', {}, h('a', { href: '/login' }, t('guestReading.login'))));
  if (accepted) {
    return page(
      t('guestReading.title'),
      notice(t('guestReading.done', { serial: accepted.meterSerial, date: formatDate(accepted.takenOn) }), 'ok'),
      h('p', {}, h('button', {
        type: 'button',
        onclick: async () => {
          accepted = null;
          await refresh();
        },
      }, t('guestReading.another'))),
      links,
    );
  }
  return page(
    t('guestReading.title'),
    h('p', {}, t('guestReading.intro')),
    form({
      label: t('guestReading.title'),
      submit: t('guestReading.submit'),
      fields: [
        field({
          name: 'accountNumber',
          label: t('guestReading.accountNumber'),
          inputmode: 'numeric',
          autocomplete: 'off',
          maxlength: 24,
          value: query.get('account') || '',
        }),
        field({ name: 'meterSerial', label: t('guestReading.meterSerial'), autocomplete: 'off', maxlength: 32 }),
        field({ name: 'takenOn', label: t('guestReading.takenOn'), type: 'date', value: today() }),
        zoneField(1),
        zoneField(2),
        zoneField(3),
      ],
      onSubmit: async (values, node) => {
        const zones = [1, 2, 3]
          .map((zone) => ({ zone, value: (values[`values.${zone - 1}.value`] || '').trim() }))
          .filter((v) => v.value !== '');
        const input = {
          accountNumber: values.accountNumber.trim(),
          meterSerial: values.meterSerial.trim(),
          takenOn: values.takenOn,
          values: zones,
        };
        const payload = await mutate('submitGuestMeterReading', SUBMIT, {
          ...input,
          idempotencyKey: submission.keyFor(input),
        });
        submission.done();
        if (payload.userErrors.length) {
          // The server points at ['values', i, 'value'] by the index into what was sent.
          const errors = payload.userErrors.map((e) =>
            e.field && e.field[0] === 'values' && e.field.length === 3
              ? { ...e, field: ['values', String(zones[Number(e.field[1])].zone - 1), 'value'] }
              : e,
          );
          showErrors(node, errors, codeText('guestReading'));
          return;
        }
        accepted = payload.reading;
        await refresh();
      },
    }),
    links,
  );
}

route('/submit-reading', render, { title: 'guestReading.title' });
