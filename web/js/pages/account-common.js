// What the account pages (dashboard, readings, payments, receipts, questions, sessions)
// share: the cabinet's accounts with the account chosen by `?account=<id>`, the balance
// in words, a list that grows with "Show more", keys for idempotent mutations, and the
// unread-answers badge on the menu's "Questions".

import { describeError, graphql } from '../api.js';
import { button, fill, h, uid } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatMoney, t } from '../i18n.js';
import { navigate } from '../router.js';

addMessages({
  ru: {
    'nav.dashboard': 'Главная',
    'nav.readings': 'Показания',
    'nav.payments': 'Платежи',
    'nav.receipts': 'Квитанции',
    'nav.questions': 'Вопросы',
    'nav.sessions': 'Сеансы',
    'account.choose': 'Лицевой счёт',
    'account.show': 'Показать',
    'account.pick': 'Выбор лицевого счёта',
    'account.option': '№ {number}, {address}',
    'account.debt': 'Задолженность {amount}',
    'account.prepaid': 'Переплата (аванс) {amount}',
    'account.zero': 'Задолженности нет',
    'account.balanceOn': 'на {date}',
    'account.none': 'К кабинету пока не подключено ни одного лицевого счёта.',
    'list.more': 'Показать ещё',
    'list.shown': 'Показано {shown} из {total}',
    'list.empty': 'Пока ничего нет.',
  },
  en: {
    'nav.dashboard': 'Overview',
    'nav.readings': 'Readings',
    'nav.payments': 'Payments',
    'nav.receipts': 'Bills',
    'nav.questions': 'Questions',
    'nav.sessions': 'Sessions',
    'account.choose': 'Account',
    'account.show': 'Show',
    'account.pick': 'Choose an account',
    'account.option': 'No. {number}, {address}',
    'account.debt': 'Amount owed {amount}',
    'account.prepaid': 'In credit {amount}',
    'account.zero': 'Nothing owed',
    'account.balanceOn': 'as of {date}',
    'account.none': 'No account is linked to the cabinet yet.',
    'list.more': 'Show more',
    'list.shown': 'Shown {shown} of {total}',
    'list.empty': 'Nothing here yet.',
  },
});

// Fragments of the pages' documents: a document spreads one (`...AccountFields`) and
// appends it (`${ACCOUNT_FIELDS}`), see gql.js.
export const ACCOUNT_FIELDS = gql`fragment AccountFields on Account { id number holderName address tariff balance balanceOn }`;
export const METER_FIELDS = gql`fragment AccountMeters on Account {
  meters { id serial model digits nextVerificationOn zones { number name } lastReading { takenOn values { zone name value } } }
}`;

const ACCOUNTS = gql`query Accounts { me { unreadAnswers accounts { ...AccountFields } } }
${ACCOUNT_FIELDS}`;

// The cabinet's accounts, and the badge's count on the way. `document` asks for
// `me { unreadAnswers accounts { ... } }` with the fields the page needs.
export async function loadAccounts(document = ACCOUNTS) {
  const data = await graphql(document);
  if (!data.me) return [];
  setUnread(data.me.unreadAnswers);
  return data.me.accounts;
}

// The account `?account=<id>` names, else the first one.
export function chosenAccount(accounts, query) {
  const wanted = query.get('account');
  return accounts.find((a) => a.id === wanted) || accounts[0] || null;
}

// A choice of the accounts (none with only one) that opens `path?account=<id>`. The page
// changes on the button, not on the select's change: moving through the options with the
// keyboard must not reload the page at every step.
export function accountPicker(accounts, current, path) {
  if (accounts.length < 2) return null;
  const id = uid('account');
  const select = h(
    'select',
    { id, name: 'account' },
    accounts.map((a) =>
      h(
        'option',
        { value: a.id, selected: a.id === current.id },
        t('account.option', { number: a.number, address: a.address }),
      ),
    ),
  );
  return h(
    'form',
    {
      class: 'account-picker',
      'aria-label': t('account.pick'),
      onsubmit: (event) => {
        event.preventDefault();
        navigate(`${path}?account=${encodeURIComponent(select.value)}`);
      },
    },
    h('div', { class: 'field' }, h('label', { for: id }, t('account.choose')), select),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('account.show'))),
  );
}

// "Задолженность 1 234,56 ₽" / "Переплата (аванс) 50,00 ₽" / "Задолженности нет".
export function balanceText(balance) {
  const value = Number(balance);
  if (value > 0) return t('account.debt', { amount: formatMoney(balance) });
  if (value < 0) return t('account.prepaid', { amount: formatMoney(String(-value)) });
  return t('account.zero');
}

export function balanceKind(balance) {
  const value = Number(balance);
  return value > 0 ? 'debt' : value < 0 ? 'prepaid' : 'zero';
}

// A key made once per submission, sent again with every retry of that submission.
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts (https, localhost)
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// One submission's idempotency key: the same while the same input is retried after a
// failure that left the outcome unknown (no answer), a new one for anything else.
export class Submission {
  #key = null;
  #input = null;

  keyFor(input) {
    const text = JSON.stringify(input);
    if (this.#key === null || this.#input !== text) {
      this.#key = newKey();
      this.#input = text;
    }
    return this.#key;
  }

  // The server answered (accepted or refused): the next submission is a new one.
  done() {
    this.#key = null;
    this.#input = null;
  }
}

// A list of a connection that grows by pages: `load(after)` returns the connection
// ({ nodes, pageInfo, totalCount }), `item(node)` draws one row (an <li> or <tr>).
// `table` gives the header cells to draw a table instead of a list.
export async function growingList({ load, item, table = null, caption = null, empty = null }) {
  const first = await load(null);
  if (!first.nodes.length) return h('p', { class: 'empty' }, empty || t('list.empty'));
  const body = table ? h('tbody') : h('ul', { class: 'items' });
  const count = h('p', { class: 'hint', 'aria-live': 'polite' });
  const more = button(t('list.more'), { class: 'more' });
  let shown = 0;
  let cursor = null;
  const add = (connection) => {
    body.append(...connection.nodes.map(item));
    shown += connection.nodes.length;
    cursor = connection.pageInfo.endCursor;
    more.hidden = !connection.pageInfo.hasNextPage;
    fill(count, t('list.shown', { shown, total: connection.totalCount }));
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      add(await load(cursor));
    } catch (error) {
      fill(count, describeError(error));
    } finally {
      more.disabled = false;
    }
  });
  add(first);
  const list = table
    ? h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          {},
          caption ? h('caption', {}, caption) : null,
          h('thead', {}, h('tr', {}, table.map((cell) => h('th', { scope: 'col' }, cell)))),
          body,
        ),
      )
    : body;
  return h('div', { class: 'growing' }, list, count, more);
}

// ---- the badge: "Вопросы (2 новых)" in the menu, from me.unreadAnswers ------------
// The menu draws its labels with t() after every page, so the questions' entry uses the
// key 'nav.questionsBadge', whose text follows the last count a page fetched.

const BADGE = {
  ru: ['Вопросы', 'Вопросы (новых ответов: {count})'],
  en: ['Questions', 'Questions (new answers: {count})'],
};

export function setUnread(count) {
  const n = Number(count) || 0;
  const text = ([plain, badge]) => (n ? badge.replace('{count}', String(n)) : plain);
  addMessages({ ru: { 'nav.questionsBadge': text(BADGE.ru) }, en: { 'nav.questionsBadge': text(BADGE.en) } });
}

setUnread(0);
