// `/recover`: recovery of a cabinet whose mailbox is lost, in three steps.
//   1. the proof (account number and a payment's amount) -> startRecoveryWithoutEmail
//      gives a 15-minute recovery token and the cabinet's masked address;
//   2. a new address -> confirmNewEmail mails a set-password link there (the old address
//      is told at once);
//   3. "open the letter": the link leads to /set-password, where setPassword completes it.
// The steps' state lives in this module (not in storage): a reload starts over.

import { codeText, mutate } from '../api.js';
import { button, form, h, notice, page, showErrors } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDateTime, formatMoney, t } from '../i18n.js';
import { onNavigate, refresh, route } from '../router.js';
import { emailField, payOffer, proofFields } from './auth-fields.js';

addMessages({
  ru: {
    'recover.title': 'Восстановление без доступа к почте',
    'recover.step': 'Шаг {n} из 3',
    'recover.steps': 'Шаги восстановления',
    'recover.step1': 'Докажите, что счёт ваш',
    'recover.step2': 'Новый адрес почты',
    'recover.step3': 'Письмо со ссылкой',
    'recover.intro':
      'Укажите номер лицевого счёта, к которому подключён кабинет, и сумму любого платежа по нему за последний год.',
    'recover.next': 'Продолжить',
    'recover.found':
      'Кабинет найден, он зарегистрирован на адрес {maskedEmail}. Укажите новый адрес, к которому у вас есть доступ: мы пришлём на него ссылку, чтобы задать пароль. На прежний адрес придёт уведомление.',
    'recover.deadline': 'Завершите этот шаг до {time}.',
    'recover.newEmail': 'Новый адрес электронной почты',
    'recover.send': 'Прислать ссылку',
    'recover.restart': 'Начать заново',
    'recover.sent':
      'Ссылка отправлена на {email}. Откройте письмо и задайте новый пароль: ссылка действует 1 час и только один раз. После этого кабинет будет работать с новым адресом, а прежний адрес получит уведомление.',
    'recover.otherAddress': 'Указать другой адрес',
    'recover.register': 'Нет кабинета? Зарегистрируйтесь',
    'recover.NO_RECENT_PAYMENTS':
      'По этому счёту не было платежей за последний год, поэтому подтвердить владение пока нечем. Внесите минимальный платёж {minimalPayment} и повторите попытку, когда он поступит (обычно 1–3 рабочих дня).',
    'recover.CABINET_FROZEN':
      'Кабинет заморожен по просьбе владельца: восстановить его нельзя, пока его не проверит специалист. Позвоните в поддержку.',
    'recover.NO_CABINET':
      'К этому лицевому счёту ещё не подключён личный кабинет, восстанавливать нечего. Зарегистрируйте кабинет с этим номером и суммой платежа.',
    'recover.INVALID_TOKEN': 'Этот шаг устарел: восстановление начато заново в другой вкладке. Начните заново.',
    'recover.EXPIRED_TOKEN': 'Время на этот шаг (15 минут) истекло. Начните заново: номер счёта и сумма платежа те же.',
    'recover.INVALID_EMAIL': 'Проверьте адрес электронной почты: похоже, в нём ошибка.',
    'recover.TOO_MANY_EMAILS': 'Мы уже отправили много писем по этому восстановлению. Повторите {retryAfter}.',
    'recover.TOO_MANY_ATTEMPTS': 'Слишком много попыток. Повторите {retryAfter}. Если не получается, обратитесь в службу поддержки.',
  },
  en: {
    'recover.title': 'Recovery without the mailbox',
    'recover.step': 'Step {n} of 3',
    'recover.steps': 'Recovery steps',
    'recover.step1': 'Prove the account is yours',
    'recover.step2': 'A new e-mail address',
    'recover.step3': 'The letter with the link',
    'recover.intro':
      'Enter the number of an account in your cabinet and the amount of any payment to it in the last year.',
    'recover.next': 'Continue',
    'recover.found':
      'Cabinet found: it is registered to {maskedEmail}. Give a new address you can open: we will send a link there to set a password. The old address will be told.',
    'recover.deadline': 'Finish this step by {time}.',
    'recover.newEmail': 'New e-mail address',
    'recover.send': 'Send the link',
    'recover.restart': 'Start over',
    'recover.sent':
      'The link went to {email}. Open the letter and set a new password: the link works once, for 1 hour. Then the cabinet uses the new address, and the old one is told.',
    'recover.otherAddress': 'Use another address',
    'recover.register': 'No cabinet? Register',
    'recover.NO_RECENT_PAYMENTS':
      'This account has had no payments in the last year, so there is nothing to prove ownership with yet. Make a minimal payment of {minimalPayment} and try again once it has arrived (usually 1-3 working days).',
    'recover.CABINET_FROZEN':
      'The cabinet is frozen at its owner\'s request: it cannot be recovered until a specialist has checked it. Call support.',
    'recover.NO_CABINET':
      'No cabinet holds this account yet, so there is nothing to recover. Register a cabinet with this number and payment amount.',
    'recover.INVALID_TOKEN': 'This step is out of date: the recovery was started again elsewhere. Start over.',
    'recover.EXPIRED_TOKEN': 'The time for this step (15 minutes) is over. Start over: the same number and amount will do.',
    'recover.INVALID_EMAIL': 'Check the e-mail address: it seems to have a typo.',
    'recover.TOO_MANY_EMAILS': 'We have sent many letters for this recovery already. Try again {retryAfter}.',
    'recover.TOO_MANY_ATTEMPTS': 'Too many attempts. Try again {retryAfter}. If it still does not work, contact support.',
  },
});

const START = gql`mutation StartRecovery($input: StartRecoveryWithoutEmailInput!) {
  startRecoveryWithoutEmail(input: $input) {
    recoveryToken expiresAt maskedEmail minimalPayment
    userErrors { field message code retryAfter ... on StartRecoveryWithoutEmailError { minimalPayment payUrl } }
  }
}`;

const CONFIRM = gql`mutation ConfirmNewEmail($input: ConfirmNewEmailInput!) {
  confirmNewEmail(input: $input) {
    sentTo
    userErrors { field message code retryAfter }
  }
}`;

let state = { step: 1 };
onNavigate((path) => {
  if (path !== '/recover') state = { step: 1 };
});

async function go(next) {
  state = next;
  await refresh();
}

function steps() {
  const names = ['recover.step1', 'recover.step2', 'recover.step3'];
  return h(
    'ol',
    { class: 'steps', 'aria-label': t('recover.steps') },
    names.map((name, i) =>
      h('li', { 'aria-current': state.step === i + 1 ? 'step' : null }, h('span', { class: 'step-number' }, `${i + 1}`), ' ', t(name)),
    ),
  );
}

function proofStep() {
  return [
    h('p', {}, t('recover.intro')),
    form({
      label: t('recover.step1'),
      submit: t('recover.next'),
      fields: proofFields(),
      onSubmit: async (values, node) => {
        const payload = await mutate('startRecoveryWithoutEmail', START, {
          accountNumber: values.accountNumber.trim(),
          paymentAmount: values.paymentAmount.trim(),
        });
        if (payload.userErrors.length) {
          const minimalPayment = formatMoney(payload.minimalPayment);
          showErrors(node, payload.userErrors, codeText(['recover', 'proof'], { minimalPayment }));
          payOffer(node, payload.userErrors);
          return;
        }
        await go({
          step: 2,
          recoveryToken: payload.recoveryToken,
          maskedEmail: payload.maskedEmail,
          expiresAt: payload.expiresAt,
        });
      },
    }),
    h('ul', { class: 'links' }, h('li', {}, h('a', { href: '/register' }, t('recover.register')))),
  ];
}

function addressStep() {
  return [
    notice(t('recover.found', { maskedEmail: state.maskedEmail }), 'info'),
    h('p', { class: 'hint' }, t('recover.deadline', { time: formatDateTime(state.expiresAt) })),
    form({
      label: t('recover.step2'),
      submit: t('recover.send'),
      fields: [emailField('newEmail', 'email', t('recover.newEmail'))],
      extra: button(t('recover.restart'), { onclick: () => go({ step: 1 }) }),
      onSubmit: async (values, node) => {
        const payload = await mutate('confirmNewEmail', CONFIRM, {
          recoveryToken: state.recoveryToken,
          newEmail: values.newEmail.trim(),
        });
        if (payload.userErrors.length) {
          showErrors(node, payload.userErrors, codeText('recover'));
          return;
        }
        await go({ ...state, step: 3, sentTo: payload.sentTo });
      },
    }),
  ];
}

function sentStep() {
  return [
    notice(t('recover.sent', { email: state.sentTo }), 'ok'),
    h(
      'div',
      { class: 'actions' },
      button(t('recover.otherAddress'), { onclick: () => go({ ...state, step: 2 }) }),
      button(t('recover.restart'), { onclick: () => go({ step: 1 }) }),
    ),
  ];
}

function render() {
  const body = { 1: proofStep, 2: addressStep, 3: sentStep }[state.step]();
  return page(t('recover.title'), steps(), h('h2', {}, t('recover.step', { n: state.step }), ': ', t(`recover.step${state.step}`)), body);
}

route('/recover', render, { auth: 'guest', title: 'recover.title' });
