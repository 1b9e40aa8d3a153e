// `/settings`: unlinking an account (asked once more first), the language of the cabinet's letters (`setMailLanguage`; the client
// switches to it as well, and at every login), the cabinet's password (`changePassword`: the current one and a new one
// under the same rules as at registration; every other session ends) and its e-mail
// address (`changeEmail`: the change happens when the link sent to the new address is
// followed, /verify-email), and which notifications come by e-mail and by push
// (`setNotificationPreferences`; security notices stay on, shown checked and disabled).
// Every refusal is shown next to its field. The security log is its own page (/security).

import { codeText, describeError, graphql, mutate } from '../api.js';
import { button, field, form, h, notice, page, showErrors, uid } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, has, language, setLanguage, t } from '../i18n.js';
import { refresh, route } from '../router.js';
import { setViewer, viewer, VIEWER_FIELDS } from '../session.js';
import { emailField, newPasswordField } from './auth-fields.js';

addMessages({
  ru: {
    'nav.settings': 'Настройки',
    'settings.title': 'Настройки кабинета',
    'settings.password': 'Сменить пароль',
    'settings.currentPassword': 'Текущий пароль',
    'settings.changePassword': 'Сменить пароль',
    'settings.passwordChanged': 'Пароль изменён. На других устройствах нужно войти заново; мы отправили уведомление на почту.',
    'settings.email': 'Сменить адрес почты',
    'settings.newEmail': 'Новый адрес',
    'settings.passwordToConfirm': 'Пароль (для подтверждения)',
    'settings.changeEmail': 'Прислать ссылку на новый адрес',
    'settings.emailSent': 'Мы отправили ссылку на {email}. Адрес сменится, когда вы её откроете.',
    'settings.language': 'Язык писем',
    'settings.languageLabel': 'Письма и уведомления приходят',
    'settings.language.ru': 'на русском',
    'settings.language.en': 'на английском (English)',
    'settings.saveLanguage': 'Сохранить язык',
    'settings.languageSaved': 'Сохранено: письма будут приходить {language}.',
    'setMailLanguage.UNSUPPORTED_LANGUAGE': 'Письма можно получать только на русском или английском.',
    'settings.accounts': 'Лицевые счета кабинета',
    'settings.unlink': 'Отвязать счёт № {number}',
    'settings.unlinkConfirm': 'Счёт № {number} ({address}) исчезнет из кабинета вместе с его показаниями, платежами и квитанциями здесь. Вернуть его можно, добавив снова с суммой платежа.',
    'settings.unlinkYes': 'Да, отвязать № {number}',
    'settings.unlinkNo': 'Не отвязывать',
    'settings.unlinked': 'Счёт № {number} отвязан от кабинета.',
    'unlinkAccount.LAST_ACCOUNT': 'Это единственный счёт кабинета: его нельзя отвязать.',
    'unlinkAccount.NOT_FOUND': 'Этого счёта уже нет в кабинете.',
    'changePassword.WRONG_PASSWORD': 'Текущий пароль неверен.',
    'changePassword.TOO_MANY_ATTEMPTS': 'Слишком много попыток. Повторите {retryAfter}.',
    'changeEmail.WRONG_PASSWORD': 'Пароль неверен.',
    'changeEmail.INVALID_EMAIL': 'Проверьте адрес: он должен выглядеть как name@example.ru.',
    'changeEmail.SAME_EMAIL': 'Кабинет уже привязан к этому адресу.',
    'changeEmail.TOO_MANY_ATTEMPTS': 'Слишком много попыток. Повторите {retryAfter}.',
    'changeEmail.TOO_MANY_EMAILS': 'За последний час мы отправили вам много писем. Повторите {retryAfter}.',
    'settings.notifications': 'Уведомления',
    'settings.notificationsIntro': 'О чём сообщать по почте и push-уведомлением на телефон или в браузер.',
    'settings.billByEmail': 'Письмо о новом счёте — это электронная квитанция: её адрес задаётся для каждого лицевого счёта на странице',
    'settings.byEmail': 'По почте',
    'settings.byPush': 'Push-уведомлением',
    'settings.alwaysOn': 'Уведомление о безопасности: его нельзя отключить, чтобы вы сразу узнали о чужих действиях в кабинете.',
    'settings.saveNotifications': 'Сохранить уведомления',
    'settings.notificationsSaved': 'Сохранено.',
    'setNotificationPreferences.ALWAYS_ON': 'Это уведомление о безопасности: его нельзя отключить.',
    'setNotificationPreferences.CHANNEL_NOT_AVAILABLE': 'Это уведомление так не отправляется.',
    'notification.PAYMENT_SUCCEEDED': 'Платёж прошёл',
    'notification.PAYMENT_FAILED': 'Платёж не прошёл',
    'notification.QUESTION_ANSWERED': 'Специалист ответил на вопрос',
    'notification.NEW_LOGIN': 'Вход с нового устройства',
    'notification.EMAIL_CHANGED': 'Адрес почты кабинета изменён',
    'notification.NEW_BILL': 'Новый счёт',
    'notification.READING_WINDOW_OPEN': 'Открылся приём показаний',
    'notification.READING_WINDOW_CLOSING': 'Приём показаний скоро закончится',
    'notification.AUTOPAY_CHARGED': 'Автоплатёж оплатил счёт',
    'notification.AUTOPAY_REFUSED': 'Банк отклонил автоплатёж',
    'notification.PASSWORD_CHANGED': 'Пароль изменён',
    'notification.SESSIONS_ENDED': 'Завершены сеансы на других устройствах',
  },
  en: {
    'nav.settings': 'Settings',
    'settings.title': 'Cabinet settings',
    'settings.password': 'Change the password',
    'settings.currentPassword': 'Current password',
    'settings.changePassword': 'Change the password',
    'settings.passwordChanged': 'The password is changed. Other devices must log in again; we sent a notice by e-mail.',
    'settings.email': 'Change the e-mail address',
    'settings.newEmail': 'New address',
    'settings.passwordToConfirm': 'Password (to confirm)',
    'settings.changeEmail': 'Send a link to the new address',
    'settings.emailSent': 'We sent a link to {email}. The address changes once you open it.',
    'settings.language': 'Language of letters',
    'settings.languageLabel': 'Letters and notifications come',
    'settings.language.ru': 'in Russian (русский)',
    'settings.language.en': 'in English',
    'settings.saveLanguage': 'Save the language',
    'settings.languageSaved': 'Saved: letters will come {language}.',
    'setMailLanguage.UNSUPPORTED_LANGUAGE': 'Letters come only in Russian or English.',
    'settings.accounts': 'The cabinet’s accounts',
    'settings.unlink': 'Unlink account No. {number}',
    'settings.unlinkConfirm': 'Account No. {number} ({address}) leaves the cabinet, with its readings, payments and bills here. You can add it again with a payment’s amount.',
    'settings.unlinkYes': 'Yes, unlink No. {number}',
    'settings.unlinkNo': 'Keep it',
    'settings.unlinked': 'Account No. {number} is unlinked from the cabinet.',
    'unlinkAccount.LAST_ACCOUNT': 'This is the cabinet’s only account: it cannot be unlinked.',
    'unlinkAccount.NOT_FOUND': 'This account is no longer in the cabinet.',
    'changePassword.WRONG_PASSWORD': 'The current password is wrong.',
    'changePassword.TOO_MANY_ATTEMPTS': 'Too many attempts. Try again {retryAfter}.',
    'changeEmail.WRONG_PASSWORD': 'The password is wrong.',
    'changeEmail.INVALID_EMAIL': 'Check the address: it should look like name@example.com.',
    'changeEmail.SAME_EMAIL': 'The cabinet already uses this address.',
    'changeEmail.TOO_MANY_ATTEMPTS': 'Too many attempts. Try again {retryAfter}.',
    'changeEmail.TOO_MANY_EMAILS': 'We have sent you many letters in the last hour. Try again {retryAfter}.',
    'settings.notifications': 'Notifications',
    'settings.notificationsIntro': 'What to tell you by e-mail and by push to a phone or a browser.',
    'settings.billByEmail': 'The letter about a new bill is the electronic receipt: its address is set per account on the page',
    'settings.byEmail': 'By e-mail',
    'settings.byPush': 'By push',
    'settings.alwaysOn': 'A security notice: it cannot be turned off, so that you learn at once if someone else acts in your cabinet.',
    'settings.saveNotifications': 'Save the notifications',
    'settings.notificationsSaved': 'Saved.',
    'setNotificationPreferences.ALWAYS_ON': 'This is a security notice: it cannot be turned off.',
    'setNotificationPreferences.CHANNEL_NOT_AVAILABLE': 'This notification is not sent this way.',
    'notification.PAYMENT_SUCCEEDED': 'A payment went through',
    'notification.PAYMENT_FAILED': 'A payment failed',
    'notification.QUESTION_ANSWERED': 'A specialist answered a question',
    'notification.NEW_LOGIN': 'A login from a new device',
    'notification.EMAIL_CHANGED': 'The cabinet’s e-mail address changed',
    'notification.NEW_BILL': 'A new bill',
    'notification.READING_WINDOW_OPEN': 'Meter readings are open',
    'notification.READING_WINDOW_CLOSING': 'Meter readings close soon',
    'notification.AUTOPAY_CHARGED': 'Autopay paid a bill',
    'notification.AUTOPAY_REFUSED': 'The bank refused autopay',
    'notification.PASSWORD_CHANGED': 'The password changed',
    'notification.SESSIONS_ENDED': 'Sessions on other devices ended',
  },
});

const CHANGE_PASSWORD = gql`mutation ChangePassword($input: ChangePasswordInput!) {
  changePassword(input: $input) { user { id } userErrors { field message code retryAfter } }
}`;

const SET_LANGUAGE = gql`mutation SetMailLanguage($input: SetMailLanguageInput!) {
  setMailLanguage(input: $input) { user { ...ViewerFields } userErrors { field message code } }
}
${VIEWER_FIELDS}`;

const ACCOUNTS = gql`query SettingsAccounts { me { accounts { id number address } } }`;

const UNLINK = gql`mutation UnlinkAccount($input: UnlinkAccountInput!) {
  unlinkAccount(input: $input) { unlinkedAccountId userErrors { field message code } }
}`;

const CHANGE_EMAIL = gql`mutation ChangeEmail($input: ChangeEmailInput!) {
  changeEmail(input: $input) { sentTo userErrors { field message code retryAfter } }
}`;

const PREFERENCE_FIELDS = gql`fragment PreferenceFields on NotificationPreference { event email push alwaysOn }`;

const PREFERENCES = gql`query NotificationPreferences { me { notificationPreferences { ...PreferenceFields } } }
${PREFERENCE_FIELDS}`;

const SET_PREFERENCES = gql`mutation SetNotificationPreferences($input: SetNotificationPreferencesInput!) {
  setNotificationPreferences(input: $input) {
    preferences { ...PreferenceFields } userErrors { field message code }
  }
}
${PREFERENCE_FIELDS}`;

// A form whose success replaces its status line (the form stays, cleared).
function section(id, title, node, status) {
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), status, node);
}

function passwordForm(status) {
  return form({
    label: t('settings.password'),
    submit: t('settings.changePassword'),
    fields: [
      field({ name: 'currentPassword', label: t('settings.currentPassword'), type: 'password', autocomplete: 'current-password' }),
      newPasswordField('newPassword'),
    ],
    onSubmit: async (values, node) => {
      status.replaceChildren();
      const payload = await mutate('changePassword', CHANGE_PASSWORD, {
        currentPassword: values.currentPassword,
        newPassword: values.newPassword,
      });
      if (payload.userErrors.length) {
        showErrors(node, payload.userErrors, codeText('changePassword'));
        return;
      }
      node.reset();
      status.append(notice(t('settings.passwordChanged'), 'ok'));
    },
  });
}

function emailForm(status) {
  return form({
    label: t('settings.email'),
    submit: t('settings.changeEmail'),
    fields: [
      emailField('newEmail', 'email', t('settings.newEmail')),
      field({ name: 'password', label: t('settings.passwordToConfirm'), type: 'password', autocomplete: 'current-password' }),
    ],
    onSubmit: async (values, node) => {
      status.replaceChildren();
      const payload = await mutate('changeEmail', CHANGE_EMAIL, { newEmail: values.newEmail.trim(), password: values.password });
      if (payload.userErrors.length) {
        showErrors(node, payload.userErrors, codeText('changeEmail'));
        return;
      }
      node.reset();
      status.append(notice(t('settings.emailSent', { email: payload.sentTo }), 'ok'));
    },
  });
}

// The language of the cabinet's letters; the page switches to it too.
function languageForm(user, status) {
  const node = form({
    label: t('settings.language'),
    submit: t('settings.saveLanguage'),
    fields: [
      field({
        name: 'language',
        label: t('settings.languageLabel'),
        type: 'select',
        options: ['ru', 'en'].map((value) => ({ value, label: t(`settings.language.${value}`) })),
      }),
    ],
    onSubmit: async (values, f) => {
      status.replaceChildren();
      const payload = await mutate('setMailLanguage', SET_LANGUAGE, { language: values.language });
      if (payload.userErrors.length) {
        showErrors(f, payload.userErrors, codeText('setMailLanguage'));
        return;
      }
      languageFlash = payload.user.language;
      setViewer(payload.user);
      // A new language draws the page again by itself; the same one is drawn here.
      if (language() === payload.user.language) await refresh();
      else setLanguage(payload.user.language);
    },
  });
  node.querySelector('select').value = user.language;
  return node;
}

// One checkbox of an event's channel, in a .field wrapper named `${event}.${channel}`
// with its error slot (a refusal is shown there). An always-on event's is checked and
// disabled, its reason tied to it for screen readers.
function channelBox(preference, channel, label, alwaysOnHintId) {
  const id = uid(`${preference.event}-${channel}`);
  const errorId = `${id}-error`;
  const input = h('input', {
    type: 'checkbox',
    id,
    'data-event': preference.event,
    'data-channel': channel,
    checked: preference[channel] === true,
    disabled: preference.alwaysOn,
    'aria-describedby': [alwaysOnHintId, errorId].filter(Boolean).join(' '),
  });
  return h(
    'div',
    { class: 'field checkbox', 'data-field': `${preference.event}.${channel}` },
    h('label', { for: id }, input, ' ', label),
    h('p', { class: 'error', id: errorId, hidden: true }),
  );
}

function preferenceGroup(preference) {
  const hintId = preference.alwaysOn ? uid(`${preference.event}-always`) : null;
  const name = has(`notification.${preference.event}`) ? t(`notification.${preference.event}`) : preference.event;
  return h(
    'fieldset',
    { class: 'preference', 'data-event': preference.event },
    h('legend', {}, name),
    preference.alwaysOn ? h('p', { class: 'hint', id: hintId }, t('settings.alwaysOn')) : null,
    preference.email === null ? null : channelBox(preference, 'email', t('settings.byEmail'), hintId),
    preference.push === null ? null : channelBox(preference, 'push', t('settings.byPush'), hintId),
  );
}

// Every event the customer may turn off, each channel it has: the whole state is sent, so
// what is saved is what the page shows. A refusal (["preferences", index, channel]) is
// shown next to that event's checkbox.
function notificationsForm(preferences, status) {
  const node = form({
    label: t('settings.notifications'),
    submit: t('settings.saveNotifications'),
    fields: [
      h('p', { class: 'hint' }, t('settings.notificationsIntro')),
      h('p', { class: 'hint' }, t('settings.billByEmail'), ' ', h('a', { href: '/receipts' }, t('nav.receipts')), '.'),
      preferences.map(preferenceGroup),
    ],
    onSubmit: async (_values, f) => {
      status.replaceChildren();
      const changes = [];
      for (const group of f.querySelectorAll('fieldset.preference')) {
        const change = { event: group.dataset.event };
        let any = false;
        for (const box of group.querySelectorAll('input[type=checkbox]:not([disabled])')) {
          change[box.dataset.channel] = box.checked;
          any = true;
        }
        if (any) changes.push(change);
      }
      const payload = await mutate('setNotificationPreferences', SET_PREFERENCES, { preferences: changes });
      if (payload.userErrors.length) {
        const named = payload.userErrors.map((error) => {
          const [, index, channel] = error.field || [];
          const change = changes[Number(index)];
          return change && channel ? { ...error, field: [`${change.event}.${channel}`] } : error;
        });
        showErrors(f, named, codeText('setNotificationPreferences'));
        return;
      }
      for (const preference of payload.preferences) {
        for (const channel of ['email', 'push']) {
          const box = f.querySelector(`input[data-event="${preference.event}"][data-channel="${channel}"]`);
          if (box) box.checked = preference[channel] === true;
        }
      }
      status.append(notice(t('settings.notificationsSaved'), 'ok'));
    },
  });
  return node;
}

let languageFlash = null;
let unlinkedFlash = null;

// Each account with "Unlink", which asks once more before it does.
function accountsList(accounts) {
  return h(
    'ul',
    { class: 'items' },
    accounts.map((account) => {
      const status = h('p', { role: 'status' });
      const confirm = h('div', { class: 'confirm', hidden: true });
      const ask = button(t('settings.unlink', { number: account.number }), {
        'aria-expanded': 'false',
        onclick: () => {
          confirm.hidden = false;
          ask.setAttribute('aria-expanded', 'true');
          confirm.querySelector('button').focus();
        },
      });
      const yes = button(t('settings.unlinkYes', { number: account.number }), {
        onclick: async () => {
          yes.disabled = true;
          try {
            const payload = await mutate('unlinkAccount', UNLINK, { accountId: account.id });
            if (payload.userErrors.length) {
              status.textContent = codeText('unlinkAccount')(payload.userErrors[0]);
              return;
            }
            unlinkedFlash = account.number;
            await refresh();
          } catch (error) {
            status.textContent = describeError(error);
          } finally {
            yes.disabled = false;
          }
        },
      });
      const no = button(t('settings.unlinkNo'), {
        onclick: () => {
          confirm.hidden = true;
          ask.setAttribute('aria-expanded', 'false');
          ask.focus();
        },
      });
      confirm.append(
        h('p', {}, t('settings.unlinkConfirm', { number: account.number, address: account.address })),
        h('div', { class: 'actions' }, yes, no),
      );
      return h('li', {}, h('p', {}, t('account.option', { number: account.number, address: account.address })), ask, confirm, status);
    }),
  );
}

async function render() {
  const user = await viewer();
  const passwordStatus = h('div');
  const emailStatus = h('div');
  const languageStatus = h('div');
  const accountsStatus = h('div');
  if (unlinkedFlash) {
    accountsStatus.append(notice(t('settings.unlinked', { number: unlinkedFlash }), 'ok'));
    unlinkedFlash = null;
  }
  const accounts = user.role === 'CUSTOMER' ? (await graphql(ACCOUNTS)).me.accounts : [];
  const preferences = user.role === 'CUSTOMER' ? (await graphql(PREFERENCES)).me.notificationPreferences : [];
  const notificationsStatus = h('div');
  if (languageFlash) {
    const saved = t(`settings.language.${languageFlash}`);
    languageStatus.append(notice(t('settings.languageSaved', { language: saved }), 'ok'));
    languageFlash = null;
  }
  return page(
    t('settings.title'),
    section('language', t('settings.language'), languageForm(user, languageStatus), languageStatus),
    section('password', t('settings.password'), passwordForm(passwordStatus), passwordStatus),
    section('email', t('settings.email'), emailForm(emailStatus), emailStatus),
    preferences.length
      ? section('notifications', t('settings.notifications'), notificationsForm(preferences, notificationsStatus), notificationsStatus)
      : null,
    accounts.length ? section('accounts', t('settings.accounts'), accountsList(accounts), accountsStatus) : null,
  );
}

route('/settings', render, {
  auth: true,
  roles: ['CUSTOMER', 'STAFF'],
  title: 'settings.title',
  nav: { label: 'nav.settings', order: 62 },
});
