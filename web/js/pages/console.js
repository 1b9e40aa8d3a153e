// The specialists' console (role STAFF only: a customer who opens it goes to the start
// page, and a specialist who logs in lands here).
//
// `/console`: the queue (`staffQuestions`), the customer who has waited longest first,
// with filters by state, topic and assignee kept in the address (?status=&topic=&assignee=),
// the waiting time, a marker on questions whose customer wrote last, and "Show more"
// (Relay cursors: the server pages in SQL). Keys: j / k move through the queue, Enter
// opens the question in focus.
//
// `/console/:id`: the question's thread with its photos (thumbnails, full size on a
// click), answering with photos (`answerQuestion`), taking it or giving it to a colleague
// (`assignQuestion`), closing and reopening; the key r goes to the answer. The customer's
// data (accounts, balance, last readings, payments and bills) is read-only and shown only
// when the specialist asks for it: each such view is written to the customer's own
// security log (STAFF_VIEWED), so the page does not fetch it unasked.

import { codeText, describeError, graphql, mutate } from '../api.js';
import { button, field, fill, form, h, notice, page, showErrors, uid } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDate, formatDateTime, formatMoney, language, t } from '../i18n.js';
import { navigate, route } from '../router.js';
import { balanceText, growingList } from './account-common.js';
import { photoIds, photosField, statusBadge, TOPICS } from './questions.js';

const STATUSES = ['OPEN', 'ANSWERED', 'CLOSED'];
const ASSIGNEES = ['ANYONE', 'ME', 'NOBODY'];

addMessages({
  ru: {
    'nav.console': 'Очередь вопросов',
    'console.title': 'Очередь вопросов',
    'console.filters': 'Отбор вопросов',
    'console.status': 'Состояние',
    'console.status.ALL': 'Все',
    'console.topic': 'Тема',
    'console.topic.ALL': 'Все темы',
    'console.assignee': 'Чьи',
    'console.assignee.ANYONE': 'Все',
    'console.assignee.ME': 'Мои',
    'console.assignee.NOBODY': 'Ничьи',
    'console.cabinets': 'Кабинеты',
    'console.cabinets.ALL': 'Все',
    'console.cabinets.FROZEN': 'Замороженные владельцем («это был не я»)',
    'console.frozen': 'Кабинет заморожен владельцем {date}: вход и восстановление закрыты. Проверьте журнал безопасности в первом сообщении и свяжитесь с владельцем.',
    'console.unfreeze': 'Снять заморозку',
    'console.unfrozen': 'Заморозка снята: владелец снова может войти.',
    'console.apply': 'Показать',
    'console.empty': 'Таких вопросов нет.',
    'console.keys': 'Клавиши: j и k — следующий и предыдущий вопрос, Enter — открыть, r на странице вопроса — ответить.',
    'console.waiting': 'ждёт {time}',
    'console.new': 'Новое от клиента',
    'console.assignedTo': 'Ведёт: {name}',
    'console.unassigned': 'Никто не ведёт',
    'console.asked': 'Задан {date}',
    'console.back': 'К очереди',
    'console.notFound': 'Такого вопроса нет.',
    'console.thread': 'Переписка',
    'console.customerWrote': 'Клиент',
    'console.photo': 'Фотография {n}, открыть в полном размере',
    'console.answer': 'Ответ клиенту',
    'console.answerBody': 'Текст ответа',
    'console.send': 'Отправить ответ',
    'console.sent': 'Ответ отправлен; клиенту ушло письмо.',
    'console.actions': 'Действия',
    'console.takeIt': 'Взять себе',
    'console.colleague': 'Передать коллеге',
    'console.giveTo': 'Передать',
    'console.assigned': 'Вопрос ведёт {name}.',
    'console.close': 'Закрыть вопрос',
    'console.closedNow': 'Вопрос закрыт.',
    'console.reopen': 'Открыть снова',
    'console.reopened': 'Вопрос снова открыт.',
    'console.closedOn': 'Вопрос закрыт {date}.',
    'console.context': 'Данные клиента',
    'console.showContext': 'Показать данные клиента',
    'console.contextNote': 'Просмотр записывается в журнал безопасности клиента.',
    'console.email': 'Почта: {email}',
    'console.language': 'Язык писем: {language}',
    'console.noAccounts': 'В кабинете нет лицевых счетов.',
    'console.account': 'Лицевой счёт № {number}',
    'console.aboutAccount': 'Вопрос об этом счёте',
    'console.readings': 'Последние показания',
    'console.payments': 'Последние платежи',
    'console.receipts': 'Последние квитанции',
    'console.none': 'Нет.',
    'console.reading': '{date}: {values}',
    'console.payment': '{date}: {amount}, {channel}',
    'console.receipt': '{period}: к оплате {amount} до {due}',
    'answer.BODY_REQUIRED': 'Напишите ответ.',
    'answer.BODY_TOO_LONG': 'Ответ — не длиннее 5000 знаков.',
    'answer.NOT_FOUND': 'Такого вопроса нет.',
    'answer.QUESTION_CLOSED': 'Вопрос закрыт: откройте его снова, чтобы ответить.',
    'answer.ATTACHMENT_NOT_FOUND': 'Фотография не найдена: выберите её ещё раз.',
    'answer.SPECIALIST_NOT_FOUND': 'Такого специалиста нет.',
  },
  en: {
    'nav.console': 'Question queue',
    'console.title': 'Question queue',
    'console.filters': 'Choose questions',
    'console.status': 'State',
    'console.status.ALL': 'All',
    'console.topic': 'Topic',
    'console.topic.ALL': 'All topics',
    'console.assignee': 'Whose',
    'console.assignee.ANYONE': 'Everyone’s',
    'console.assignee.ME': 'Mine',
    'console.assignee.NOBODY': 'Nobody’s',
    'console.cabinets': 'Cabinets',
    'console.cabinets.ALL': 'All',
    'console.cabinets.FROZEN': 'Frozen by their owner (“this wasn’t me”)',
    'console.frozen': 'The owner froze the cabinet on {date}: logging in and recovery are closed. Check the security log in the first message and contact the owner.',
    'console.unfreeze': 'Lift the freeze',
    'console.unfrozen': 'The freeze is lifted: the owner can log in again.',
    'console.apply': 'Show',
    'console.empty': 'No such questions.',
    'console.keys': 'Keys: j and k for the next and previous question, Enter to open, r on a question to answer.',
    'console.waiting': 'waiting {time}',
    'console.new': 'New from the customer',
    'console.assignedTo': 'Handled by {name}',
    'console.unassigned': 'Nobody handles it',
    'console.asked': 'Asked {date}',
    'console.back': 'Back to the queue',
    'console.notFound': 'There is no such question.',
    'console.thread': 'Conversation',
    'console.customerWrote': 'Customer',
    'console.photo': 'Photo {n}, open in full size',
    'console.answer': 'Answer the customer',
    'console.answerBody': 'Answer',
    'console.send': 'Send the answer',
    'console.sent': 'The answer is sent; the customer got an e-mail.',
    'console.actions': 'Actions',
    'console.takeIt': 'Take it',
    'console.colleague': 'Give to a colleague',
    'console.giveTo': 'Give',
    'console.assigned': '{name} handles the question.',
    'console.close': 'Close the question',
    'console.closedNow': 'The question is closed.',
    'console.reopen': 'Reopen',
    'console.reopened': 'The question is open again.',
    'console.closedOn': 'The question was closed on {date}.',
    'console.context': 'The customer’s data',
    'console.showContext': 'Show the customer’s data',
    'console.contextNote': 'Viewing it is written to the customer’s security log.',
    'console.email': 'E-mail: {email}',
    'console.language': 'Language of mail: {language}',
    'console.noAccounts': 'The cabinet holds no accounts.',
    'console.account': 'Account No. {number}',
    'console.aboutAccount': 'The question is about this account',
    'console.readings': 'Last readings',
    'console.payments': 'Last payments',
    'console.receipts': 'Last bills',
    'console.none': 'None.',
    'console.reading': '{date}: {values}',
    'console.payment': '{date}: {amount}, {channel}',
    'console.receipt': '{period}: {amount} to pay by {due}',
    'answer.BODY_REQUIRED': 'Write the answer.',
    'answer.BODY_TOO_LONG': 'The answer is at most 5000 characters.',
    'answer.NOT_FOUND': 'There is no such question.',
    'answer.QUESTION_CLOSED': 'The question is closed: reopen it to answer.',
    'answer.ATTACHMENT_NOT_FOUND': 'The photo was not found: choose it again.',
    'answer.SPECIALIST_NOT_FOUND': 'There is no such specialist.',
  },
});

const QUEUE = gql`query StaffQueue($status: QuestionStatus, $topic: QuestionTopic, $assignee: AssigneeFilter!, $frozen: Boolean, $after: String) {
  staffQuestions(status: $status, topic: $topic, assignee: $assignee, frozen: $frozen, first: 50, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id subject topic status createdAt waitingSince assignee { id displayName } }
  }
}`;

const STAFF_QUESTION = gql`query StaffQuestion($id: ID!) {
  me { id }
  specialists { id displayName }
  question(id: $id) {
    id subject topic status createdAt closedAt waitingSince assignee { id displayName }
    messages(first: 100) {
      nodes { id author authorName body createdAt attachments { id url width height } }
    }
  }
}`;

const CUSTOMER_CONTEXT = gql`query CustomerContext($id: ID!) {
  question(id: $id) {
    id
    account { id }
    customer {
      id email language frozenAt
      accounts {
        id number holderName address tariff balance balanceOn
        readings(first: 3) { nodes { id takenOn values { name value } } }
        payments(first: 3) { nodes { id amount paidAt channel } }
        receipts(first: 3) { nodes { id period dueOn amountDue } }
      }
    }
  }
}`;

const ANSWER = gql`mutation AnswerQuestion($input: AnswerQuestionInput!) {
  answerQuestion(input: $input) { message { id } userErrors { field message code } }
}`;

const ASSIGN = gql`mutation AssignQuestion($input: AssignQuestionInput!) {
  assignQuestion(input: $input) { question { id assignee { displayName } } userErrors { field message code } }
}`;

const STAFF_CLOSE = gql`mutation StaffCloseQuestion($input: QuestionInput!) {
  closeQuestion(input: $input) { question { id status } userErrors { field message code } }
}`;

const UNFREEZE = gql`mutation UnfreezeCabinet($input: UnfreezeCabinetInput!) {
  unfreezeCabinet(input: $input) { unfrozen userErrors { field message code } }
}`;

const REOPEN = gql`mutation ReopenQuestion($input: QuestionInput!) {
  reopenQuestion(input: $input) { question { id status } userErrors { field message code } }
}`;

let flash = null;

// ---- the queue ---------------------------------------------------------------------

// "3 h" / "2 d" since `since`.
function waited(since) {
  const minutes = Math.max(0, Math.round((Date.now() - new Date(since)) / 60000));
  const format = (value, unit) =>
    new Intl.NumberFormat(language() === 'ru' ? 'ru-RU' : 'en-GB', { style: 'unit', unit, unitDisplay: 'short' }).format(value);
  if (minutes < 60) return format(minutes, 'minute');
  if (minutes < 48 * 60) return format(Math.floor(minutes / 60), 'hour');
  return format(Math.floor(minutes / 1440), 'day');
}

function filters(query) {
  const status = query.get('status') || 'OPEN';
  const topic = query.get('topic') || '';
  const assignee = ASSIGNEES.includes(query.get('assignee')) ? query.get('assignee') : 'ANYONE';
  return {
    status: STATUSES.includes(status) ? status : status === 'ALL' ? 'ALL' : 'OPEN',
    topic: TOPICS.includes(topic) ? topic : '',
    assignee,
    frozen: query.get('frozen') === '1',
  };
}

function select(name, label, options, value) {
  const node = field({ name, label, type: 'select', required: false, options });
  node.querySelector('select').value = value;
  return node;
}

function filterForm(current) {
  return form({
    label: t('console.filters'),
    submit: t('console.apply'),
    attrs: { class: 'console-filters' },
    fields: [
      select(
        'status',
        t('console.status'),
        [...STATUSES, 'ALL'].map((s) => ({ value: s, label: s === 'ALL' ? t('console.status.ALL') : t(`questions.status.${s}`) })),
        current.status,
      ),
      select(
        'topic',
        t('console.topic'),
        [{ value: '', label: t('console.topic.ALL') }, ...TOPICS.map((s) => ({ value: s, label: t(`questions.topic.${s}`) }))],
        current.topic,
      ),
      select(
        'assignee',
        t('console.assignee'),
        ASSIGNEES.map((s) => ({ value: s, label: t(`console.assignee.${s}`) })),
        current.assignee,
      ),
      select(
        'cabinets',
        t('console.cabinets'),
        ['ALL', 'FROZEN'].map((s) => ({ value: s, label: t(`console.cabinets.${s}`) })),
        current.frozen ? 'FROZEN' : 'ALL',
      ),
    ],
    onSubmit: async (values) => {
      const params = new URLSearchParams();
      if (values.status !== 'OPEN') params.set('status', values.status);
      if (values.topic) params.set('topic', values.topic);
      if (values.assignee !== 'ANYONE') params.set('assignee', values.assignee);
      if (values.cabinets === 'FROZEN') params.set('frozen', '1');
      const search = params.toString();
      await navigate(`/console${search ? `?${search}` : ''}`);
    },
  });
}

function queueItem(q) {
  const waiting = q.status === 'OPEN' && q.waitingSince;
  return h(
    'li',
    { class: `queue-item${waiting ? ' queue-new' : ''}`, 'data-question': q.id },
    h(
      'p',
      { class: 'question-subject' },
      h('a', { href: `/console/${encodeURIComponent(q.id)}`, class: 'queue-link' }, q.subject),
    ),
    h(
      'p',
      { class: 'hint' },
      statusBadge(q.status),
      ' ',
      waiting ? h('strong', { class: 'unread' }, t('console.new')) : null,
      waiting ? ` · ${t('console.waiting', { time: waited(q.waitingSince) })}` : '',
      ` · ${t(`questions.topic.${q.topic}`)}`,
      ` · ${q.assignee ? t('console.assignedTo', { name: q.assignee.displayName }) : t('console.unassigned')}`,
      ` · ${t('console.asked', { date: formatDateTime(q.createdAt) })}`,
    ),
  );
}

function typing(event) {
  const target = event.target;
  return (
    event.ctrlKey ||
    event.metaKey ||
    event.altKey ||
    (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT', 'BUTTON'].includes(target.tagName)))
  );
}

// j / k through the queue's links (Enter on a link opens it, as links do).
function queueKeys(event) {
  if (typing(event) || !['j', 'k'].includes(event.key)) return;
  const links = Array.from(document.querySelectorAll('#main .queue-link'));
  if (!links.length) return;
  event.preventDefault();
  const at = links.indexOf(document.activeElement);
  const next = event.key === 'j' ? Math.min(links.length - 1, at + 1) : Math.max(0, at === -1 ? 0 : at - 1);
  links[next].focus();
  links[next].scrollIntoView({ block: 'nearest' });
}

// r on a question's page: to the answer's text.
function questionKeys(event) {
  if (typing(event) || event.key !== 'r') return;
  const body = document.querySelector('#main form[data-form=answer] textarea');
  if (!body) return;
  event.preventDefault();
  body.focus();
}

document.addEventListener('keydown', (event) => {
  if (location.pathname === '/console') queueKeys(event);
  else if (location.pathname.startsWith('/console/')) questionKeys(event);
});

async function renderQueue({ query }) {
  const current = filters(query);
  const variables = {
    status: current.status === 'ALL' ? null : current.status,
    topic: current.topic || null,
    assignee: current.assignee,
    frozen: current.frozen ? true : null,
  };
  const list = await growingList({
    load: async (after) => (await graphql(QUEUE, { ...variables, after })).staffQuestions,
    item: queueItem,
    empty: t('console.empty'),
  });
  list.classList.add('queue');
  return page(t('console.title'), filterForm(current), h('p', { class: 'hint' }, t('console.keys')), list);
}

// ---- one question ------------------------------------------------------------------

function photoLinks(attachments) {
  if (!attachments.length) return null;
  return h(
    'div',
    { class: 'photos' },
    attachments.map((a, n) =>
      h(
        'a',
        { href: a.url, target: '_blank', rel: 'noopener' },
        h('img', { src: a.url, width: a.width, height: a.height, alt: t('console.photo', { n: n + 1 }), loading: 'lazy' }),
      ),
    ),
  );
}

function messageItem(message) {
  const customer = message.author === 'CUSTOMER';
  const who = customer ? t('console.customerWrote') : message.authorName || '';
  return h(
    'li',
    { class: `message message-${customer ? 'customer' : 'specialist'}` },
    h('p', { class: 'message-meta' }, `${who} · ${formatDateTime(message.createdAt)}`),
    h('p', { class: 'message-body' }, message.body),
    photoLinks(message.attachments),
  );
}

function answerForm(question) {
  const node = form({
    label: t('console.answer'),
    submit: t('console.send'),
    attrs: { 'data-form': 'answer' },
    fields: [field({ name: 'body', label: t('console.answerBody'), type: 'textarea', maxlength: 5000 }), photosField()],
    onSubmit: async (values, f) => {
      const attachmentIds = await photoIds(f);
      if (attachmentIds === null) return;
      const payload = await mutate('answerQuestion', ANSWER, { questionId: question.id, body: values.body.trim(), attachmentIds });
      if (payload.userErrors.length) {
        showErrors(f, payload.userErrors, codeText('answer'));
        return;
      }
      flash = t('console.sent');
      await navigate(location.pathname, { replace: true });
    },
  });
  return node;
}

// A button that runs a mutation and draws the page again with `done` said on top.
function action(label, run, done, status) {
  const node = button(label, {
    onclick: async () => {
      node.disabled = true;
      try {
        const payload = await run();
        if (payload.userErrors.length) {
          status.textContent = codeText('answer')(payload.userErrors[0]);
          return;
        }
        flash = done(payload);
        await navigate(location.pathname, { replace: true });
      } catch (error) {
        status.textContent = describeError(error);
      } finally {
        node.disabled = false;
      }
    },
  });
  return node;
}

function actions(question, me, specialists) {
  const status = h('p', { role: 'status' });
  const assigned = (p) => t('console.assigned', { name: p.question.assignee.displayName });
  const colleagues = specialists.filter((s) => s.id !== me.id);
  const selectId = uid('colleague');
  const colleague = h('select', { id: selectId, name: 'specialistId' }, colleagues.map((s) => h('option', { value: s.id }, s.displayName)));
  const input = { questionId: question.id };
  return h(
    'section',
    { 'aria-labelledby': 'actions', class: 'console-actions' },
    h('h2', { id: 'actions' }, t('console.actions')),
    h(
      'div',
      { class: 'actions' },
      question.assignee && question.assignee.id === me.id
        ? null
        : action(t('console.takeIt'), () => mutate('assignQuestion', ASSIGN, input), assigned, status),
      question.status === 'CLOSED'
        ? action(t('console.reopen'), () => mutate('reopenQuestion', REOPEN, input), () => t('console.reopened'), status)
        : action(t('console.close'), () => mutate('closeQuestion', STAFF_CLOSE, input), () => t('console.closedNow'), status),
    ),
    colleagues.length
      ? h(
          'div',
          { class: 'field colleague' },
          h('label', { for: selectId }, t('console.colleague')),
          colleague,
          action(
            t('console.giveTo'),
            () => mutate('assignQuestion', ASSIGN, { ...input, specialistId: colleague.value }),
            assigned,
            status,
          ),
        )
      : null,
    status,
  );
}

function list(title, items) {
  return [h('h4', {}, title), items.length ? h('ul', { class: 'context-list' }, items.map((text) => h('li', {}, text))) : h('p', { class: 'hint' }, t('console.none'))];
}

function period(value) {
  const [year, month] = value.split('-').map(Number);
  return new Intl.DateTimeFormat(language() === 'ru' ? 'ru-RU' : 'en-GB', { month: 'long', year: 'numeric' }).format(new Date(year, month - 1, 15));
}

function accountCard(account, about) {
  const headingId = uid('account');
  return h(
    'section',
    { class: 'card', 'aria-labelledby': headingId },
    h('h3', { id: headingId }, t('console.account', { number: account.number })),
    about ? h('p', { class: 'hint' }, t('console.aboutAccount')) : null,
    h('p', {}, account.holderName),
    h('p', { class: 'hint' }, account.address, ' · ', account.tariff),
    h('p', { class: 'balance' }, balanceText(account.balance), account.balanceOn ? ` (${formatDate(account.balanceOn)})` : ''),
    list(
      t('console.readings'),
      account.readings.nodes.map((r) =>
        t('console.reading', { date: formatDate(r.takenOn), values: r.values.map((v) => `${v.name} ${v.value}`).join(', ') }),
      ),
    ),
    list(
      t('console.payments'),
      account.payments.nodes.map((p) => t('console.payment', { date: formatDate(p.paidAt), amount: formatMoney(p.amount), channel: p.channel })),
    ),
    list(
      t('console.receipts'),
      account.receipts.nodes.map((r) =>
        t('console.receipt', { period: period(r.period), amount: formatMoney(r.amountDue), due: formatDate(r.dueOn) }),
      ),
    ),
  );
}

// The owner froze the cabinet ("this wasn't me"): said first, with the one step that lifts it.
function frozenNotice(customer) {
  const status = h('p', { role: 'status' });
  return h(
    'div',
    { class: 'notice notice-error' },
    h('p', {}, t('console.frozen', { date: formatDateTime(customer.frozenAt) })),
    action(
      t('console.unfreeze'),
      () => mutate('unfreezeCabinet', UNFREEZE, { cabinetId: customer.id }),
      () => t('console.unfrozen'),
      status,
    ),
    status,
  );
}

function customerContext(question) {
  const body = h('div', { class: 'context-body', 'aria-live': 'polite' });
  const show = button(t('console.showContext'), {
    'aria-controls': 'customer-context',
    onclick: async () => {
      show.disabled = true;
      try {
        const data = await graphql(CUSTOMER_CONTEXT, { id: question.id });
        const customer = data.question && data.question.customer;
        if (!customer) return;
        const about = data.question.account && data.question.account.id;
        show.hidden = true;
        fill(
          body,
          customer.frozenAt ? frozenNotice(customer) : null,
          h('p', {}, t('console.email', { email: customer.email })),
          h('p', {}, t('console.language', { language: customer.language })),
          customer.accounts.length ? customer.accounts.map((a) => accountCard(a, a.id === about)) : h('p', {}, t('console.noAccounts')),
        );
      } catch (error) {
        fill(body, notice(describeError(error), 'error'));
      } finally {
        show.disabled = false;
      }
    },
  });
  return h(
    'aside',
    { class: 'console-context', id: 'customer-context', 'aria-labelledby': 'context' },
    h('h2', { id: 'context' }, t('console.context')),
    h('p', { class: 'hint' }, t('console.contextNote')),
    show,
    body,
  );
}

async function renderQuestion({ params }) {
  const data = await graphql(STAFF_QUESTION, { id: params.id });
  const question = data.question;
  const back = h('p', {}, h('a', { href: '/console' }, t('console.back')));
  if (!question) return page(t('console.notFound'), back);
  const shown = flash;
  flash = null;
  const messages = [...question.messages.nodes].reverse();
  const answerId = uid('answer');
  return page(
    question.subject,
    shown ? notice(shown, 'ok') : null,
    h(
      'p',
      { class: 'hint' },
      statusBadge(question.status),
      ` · ${t(`questions.topic.${question.topic}`)}`,
      question.status === 'OPEN' && question.waitingSince ? ` · ${t('console.waiting', { time: waited(question.waitingSince) })}` : '',
      ` · ${question.assignee ? t('console.assignedTo', { name: question.assignee.displayName }) : t('console.unassigned')}`,
    ),
    h(
      'div',
      { class: 'console-columns' },
      h(
        'div',
        { class: 'console-thread' },
        h('section', { 'aria-labelledby': 'thread' }, h('h2', { id: 'thread' }, t('console.thread')), h('ol', { class: 'messages' }, messages.map(messageItem))),
        question.status === 'CLOSED'
          ? notice(t('console.closedOn', { date: formatDateTime(question.closedAt) }))
          : h('section', { 'aria-labelledby': answerId }, h('h2', { id: answerId }, t('console.answer')), answerForm(question)),
        actions(question, data.me, data.specialists || []),
      ),
      customerContext(question),
    ),
    back,
  );
}

const STAFF = { auth: true, roles: ['STAFF'], title: 'console.title' };
route('/console', renderQueue, { ...STAFF, nav: { label: 'nav.console', order: 10 } });
route('/console/:id', renderQuestion, STAFF);
