// Controls and texts the ways into a cabinet share: the proof of ownership (account
// number and a payment's amount: registration, recovery, and linking an account),
// e-mail and new-password fields.

import { field, h } from '../dom.js';
import { addMessages, formatMoney, t } from '../i18n.js';

addMessages({
  ru: {
    'proof.accountNumber': 'Номер лицевого счёта',
    'proof.accountNumberHint': 'Указан в квитанции, например 001234567890.',
    'proof.paymentAmount': 'Сумма платежа',
    'proof.paymentAmountHint': 'Сумма любого платежа по этому счёту за последний год, например 1 500,00.',
    'proof.INVALID_ACCOUNT_NUMBER': 'Номер лицевого счёта состоит только из цифр (до 20), как в квитанции.',
    'proof.INVALID_AMOUNT': 'Укажите сумму в рублях и копейках, например 1500 или 1 500,00.',
    'proof.INVALID_PROOF':
      'Номер счёта и сумма платежа не совпадают с нашими данными. Проверьте номер по квитанции и укажите сумму любого платежа за последний год точно до копейки.',
    'proof.TOO_MANY_ATTEMPTS':
      'Слишком много неудачных попыток для этого счёта. Повторите {retryAfter}. Если не получается, обратитесь в службу поддержки.',
    'auth.email': 'Электронная почта',
    'auth.password': 'Пароль',
    'auth.newPassword': 'Новый пароль',
    'auth.passwordHint':
      'Не короче 8 символов. Подойдёт фраза из нескольких слов; не используйте адрес почты, номер счёта и распространённые пароли.',
    'auth.showPassword': 'Показать пароль',
    'proof.payNow': 'Оплатить {amount} сейчас',
    'proof.payLater':
      'Платёж можно внести без входа в кабинет. Онлайн-платёж поступает на счёт сразу после оплаты: тогда повторите попытку, указав его сумму {amount}. Платёж в банке или в офисе поступает за 1–3 рабочих дня.',
  },
  en: {
    'proof.accountNumber': 'Account number',
    'proof.accountNumberHint': 'As printed on your bill, e.g. 001234567890.',
    'proof.paymentAmount': 'Payment amount',
    'proof.paymentAmountHint': 'The amount of any payment to this account in the last year, e.g. 1500.00.',
    'proof.INVALID_ACCOUNT_NUMBER': 'An account number has digits only (up to 20), as printed on the bill.',
    'proof.INVALID_AMOUNT': 'Enter an amount in roubles and kopecks, e.g. 1500 or 1,500.00.',
    'proof.INVALID_PROOF':
      'The account number and payment amount do not match our records. Check the number on your bill and enter the amount of any payment in the last year, to the kopeck.',
    'proof.TOO_MANY_ATTEMPTS':
      'Too many failed attempts for this account. Try again {retryAfter}. If it still does not work, contact support.',
    'auth.email': 'E-mail',
    'auth.password': 'Password',
    'auth.newPassword': 'New password',
    'auth.passwordHint':
      'At least 8 characters. A phrase of several words works well; avoid your e-mail, account number and common passwords.',
    'auth.showPassword': 'Show the password',
    'proof.payNow': 'Pay {amount} now',
    'proof.payLater':
      'You can pay without logging in. An online payment reaches the account as soon as it is paid: then try again with its amount, {amount}. A payment at a bank or at our office takes 1-3 working days.',
  },
});

export function proofFields() {
  return [
    field({
      name: 'accountNumber',
      label: t('proof.accountNumber'),
      hint: t('proof.accountNumberHint'),
      inputmode: 'numeric',
      autocomplete: 'off',
      maxlength: 20,
    }),
    field({
      name: 'paymentAmount',
      label: t('proof.paymentAmount'),
      hint: t('proof.paymentAmountHint'),
      inputmode: 'decimal',
      autocomplete: 'off',
    }),
  ];
}

export function emailField(name = 'email', autocomplete = 'email', label = t('auth.email')) {
  return field({ name, label, type: 'email', autocomplete, inputmode: 'email', maxlength: 254 });
}

// A new password with the rules as its hint and a "show" switch (people choosing a long
// passphrase on a phone want to see what they typed).
export function newPasswordField(name = 'password', label = t('auth.newPassword')) {
  const wrapper = field({ name, label, type: 'password', hint: t('auth.passwordHint'), autocomplete: 'new-password' });
  const input = wrapper.querySelector('input');
  const toggleId = `${input.id}-show`;
  const toggle = h('input', {
    type: 'checkbox',
    id: toggleId,
    onchange: (event) => {
      input.type = event.target.checked ? 'text' : 'password';
    },
  });
  wrapper.querySelector('.error').before(h('div', { class: 'check' }, toggle, h('label', { for: toggleId }, t('auth.showPassword'))));
  return wrapper;
}

// NO_RECENT_PAYMENTS carries the minimal payment and the guest payment page filled in
// with the account and that amount: offer it under the form, and say when to try again.
export function payOffer(node, userErrors) {
  node.querySelector('.pay-offer')?.remove();
  const refused = userErrors.find((e) => e.code === 'NO_RECENT_PAYMENTS' && e.payUrl);
  if (!refused) return;
  const amount = formatMoney(refused.minimalPayment);
  node.append(
    h(
      'div',
      { class: 'pay-offer notice notice-info', role: 'status' },
      h('p', {}, h('a', { href: refused.payUrl, class: 'button primary' }, t('proof.payNow', { amount }))),
      h('p', {}, t('proof.payLater', { amount })),
    ),
  );
}
