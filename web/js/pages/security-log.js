// `/security`: the cabinet's security log (`me.securityEvents`), newest first: logins,
// changes, and every time a specialist of the company looked at the cabinet's data while
// answering one of its questions (STAFF_VIEWED, with a link to that question).

import { graphql } from '../api.js';
import { h, page } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDateTime, has, t } from '../i18n.js';
import { route } from '../router.js';
import { growingList } from './account-common.js';

addMessages({
  ru: {
    'nav.security': 'Журнал безопасности',
    'security.title': 'Журнал безопасности',
    'security.intro': 'Входы в кабинет, изменения и просмотры ваших данных специалистами компании.',
    'security.empty': 'Записей пока нет.',
    'security.when': 'Когда',
    'security.what': 'Что произошло',
    'security.where': 'Откуда',
    'security.staffViewed': 'Специалист компании ({name}) смотрел ваши счета, показания, платежи и квитанции, отвечая на ваш вопрос',
    'security.theQuestion': 'открыть вопрос',
    'security.kind.REGISTERED': 'Регистрация',
    'security.kind.EMAIL_VERIFIED': 'Адрес подтверждён',
    'security.kind.LOGIN': 'Вход',
    'security.kind.LOGIN_FAILED': 'Неудачная попытка входа',
    'security.kind.LOGOUT': 'Выход',
    'security.kind.LOGOUT_EVERYWHERE': 'Выход на всех устройствах',
    'security.kind.SESSION_REVOKED': 'Сеанс завершён',
    'security.kind.PASSWORD_RESET_REQUESTED': 'Запрошен сброс пароля',
    'security.kind.PASSWORD_CHANGED': 'Пароль изменён',
    'security.kind.EMAIL_CHANGE_REQUESTED': 'Запрошена смена адреса',
    'security.kind.EMAIL_CHANGED': 'Адрес изменён',
    'security.kind.ACCOUNT_LINKED': 'Добавлен лицевой счёт',
    'security.kind.ACCOUNT_UNLINKED': 'Лицевой счёт отвязан',
    'security.kind.RECOVERY_STARTED': 'Начато восстановление доступа',
    'security.kind.RECOVERY_EMAIL_REQUESTED': 'При восстановлении указан новый адрес',
    'security.kind.RECOVERY_COMPLETED': 'Доступ восстановлен',
    'security.kind.PRIVACY_NOTICE_ACCEPTED': 'Принято уведомление об обработке персональных данных',
    'security.kind.PROOF_HELD': 'Изменение, подтверждённое платежом, отложено на время проверки',
    'security.kind.PROOF_HOLD_CANCELED': 'Отложенное изменение отменено («это был не я»)',
    'security.kind.FROZEN': 'Кабинет заморожен («это был не я»): все сеансы завершены',
    'security.kind.UNFROZEN': 'Специалист компании снял заморозку кабинета',
  },
  en: {
    'nav.security': 'Security log',
    'security.title': 'Security log',
    'security.intro': 'Logins, changes, and the company’s specialists viewing your data.',
    'security.empty': 'Nothing yet.',
    'security.when': 'When',
    'security.what': 'What happened',
    'security.where': 'From where',
    'security.staffViewed': 'A specialist of the company ({name}) viewed your accounts, readings, payments and bills while answering your question',
    'security.theQuestion': 'open the question',
    'security.kind.REGISTERED': 'Registered',
    'security.kind.EMAIL_VERIFIED': 'Address confirmed',
    'security.kind.LOGIN': 'Logged in',
    'security.kind.LOGIN_FAILED': 'A failed login',
    'security.kind.LOGOUT': 'Logged out',
    'security.kind.LOGOUT_EVERYWHERE': 'Logged out everywhere',
    'security.kind.SESSION_REVOKED': 'A session was ended',
    'security.kind.PASSWORD_RESET_REQUESTED': 'A password reset was asked for',
    'security.kind.PASSWORD_CHANGED': 'Password changed',
    'security.kind.EMAIL_CHANGE_REQUESTED': 'An address change was asked for',
    'security.kind.EMAIL_CHANGED': 'Address changed',
    'security.kind.ACCOUNT_LINKED': 'An account was added',
    'security.kind.ACCOUNT_UNLINKED': 'An account was unlinked',
    'security.kind.RECOVERY_STARTED': 'Recovery of access began',
    'security.kind.RECOVERY_EMAIL_REQUESTED': 'Recovery named a new address',
    'security.kind.RECOVERY_COMPLETED': 'Access recovered',
    'security.kind.PRIVACY_NOTICE_ACCEPTED': 'The personal-data notice was accepted',
    'security.kind.PROOF_HELD': 'A change proven by a payment is on hold while it is checked',
    'security.kind.PROOF_HOLD_CANCELED': 'A held change was canceled (“it wasn’t me”)',
    'security.kind.FROZEN': 'The cabinet was frozen (“it wasn’t me”): every session ended',
    'security.kind.UNFROZEN': 'A specialist of the company lifted the freeze',
  },
});

const EVENTS = gql`query SecurityLog($after: String) {
  me { securityEvents(first: 30, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id kind at ip device detail }
  } }
}`;

// STAFF_VIEWED's detail: "<question id> <specialist id> <name>".
function staffViewed(detail) {
  const [questionId, , ...name] = detail.split(' ');
  return [
    t('security.staffViewed', { name: name.join(' ') }),
    ' (',
    h('a', { href: `/questions/${encodeURIComponent(questionId)}` }, t('security.theQuestion')),
    ')',
  ];
}

function what(event) {
  if (event.kind === 'STAFF_VIEWED') return staffViewed(event.detail);
  const key = `security.kind.${event.kind}`;
  const name = has(key) ? t(key) : event.kind;
  return event.detail ? `${name}: ${event.detail}` : name;
}

function row(event) {
  return h(
    'tr',
    { 'data-kind': event.kind },
    h('td', {}, formatDateTime(event.at)),
    h('td', {}, what(event)),
    h('td', {}, [event.ip, event.ip ? event.device : ''].filter(Boolean).join(', ')),
  );
}

async function render() {
  const list = await growingList({
    load: async (after) => (await graphql(EVENTS, { after })).me.securityEvents,
    item: row,
    table: [t('security.when'), t('security.what'), t('security.where')],
    caption: t('security.title'),
    empty: t('security.empty'),
  });
  return page(t('security.title'), h('p', { class: 'hint' }, t('security.intro')), list);
}

route('/security', render, { auth: true, title: 'security.title', nav: { label: 'nav.security', order: 65 } });
