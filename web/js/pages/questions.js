// `/questions`: the cabinet's questions to the company's specialists and asking a new
// one; `/questions/:id` (the page the answer's e-mail links to): the conversation,
// replying, closing. Opening a question with unread answers marks them read, and the
// menu's badge follows.
//
// Photos go first to `POST /attachments` (the raw bytes; the session cookie authorizes
// it as it does /graphql), and their ids then go with askQuestion / replyToQuestion.

import { ApiError, codeText, graphql, mutate } from '../api.js';
import { button, field, form, h, notice, page, showErrors, uid } from '../dom.js';
import { gql } from '../gql.js';
import { addMessages, formatDateTime, language, t } from '../i18n.js';
import { navigate, route } from '../router.js';
import { growingList, loadAccounts, setUnread } from './account-common.js';

export const TOPICS = ['BILLING', 'READINGS', 'PAYMENTS', 'METER', 'E_RECEIPT', 'OTHER'];

addMessages({
  ru: {
    'questions.title': 'Вопросы специалистам',
    'questions.mine': 'Мои вопросы',
    'questions.empty': 'Вы ещё не задавали вопросов.',
    'questions.asked': 'Задан {date}',
    'questions.unread': 'Новых ответов: {count}',
    'questions.ask': 'Задать вопрос',
    'questions.topic': 'Тема',
    'questions.account': 'Лицевой счёт',
    'questions.noAccount': 'Не о конкретном счёте',
    'questions.subject': 'Коротко о чём вопрос',
    'questions.body': 'Вопрос',
    'questions.bodyHint': 'Опишите ситуацию подробно: так специалист ответит быстрее.',
    'questions.photos': 'Фотографии (необязательно)',
    'questions.photosHint': 'До 3 снимков JPEG или PNG, например счётчика или квитанции.',
    'questions.send': 'Отправить вопрос',
    'question.notFound': 'Такого вопроса в вашем кабинете нет.',
    'question.back': 'Все вопросы',
    'question.about': 'Лицевой счёт № {number}',
    'question.you': 'Вы',
    'question.specialist': 'Специалист',
    'question.photo': 'Фотография {n}',
    'question.reply': 'Написать ещё',
    'question.replyBody': 'Сообщение',
    'question.send': 'Отправить',
    'question.close': 'Закрыть вопрос',
    'question.closed': 'Вопрос закрыт {date}. Если нужна помощь, задайте новый вопрос.',
    'question.sent': 'Сообщение отправлено. Ответ придёт сюда и на почту.',
    'question.askedNow': 'Вопрос отправлен. Ответ придёт сюда и на почту.',
    'question.closedNow': 'Вопрос закрыт.',
    'questions.status.OPEN': 'Ждёт ответа',
    'questions.status.ANSWERED': 'Есть ответ',
    'questions.status.CLOSED': 'Закрыт',
    'questions.topic.BILLING': 'Счета и начисления',
    'questions.topic.READINGS': 'Показания',
    'questions.topic.PAYMENTS': 'Платежи',
    'questions.topic.METER': 'Счётчик: поломка, замена, поверка',
    'questions.topic.E_RECEIPT': 'Электронная квитанция',
    'questions.topic.OTHER': 'Другое',
    'ask.SUBJECT_REQUIRED': 'Напишите в одной строке, о чём вопрос.',
    'ask.SUBJECT_TOO_LONG': 'Тема — не длиннее 150 знаков; подробности напишите в самом вопросе.',
    'ask.BODY_REQUIRED': 'Напишите сам вопрос.',
    'ask.BODY_TOO_LONG': 'Вопрос — не длиннее 5000 знаков. Сократите его или продолжите следующим сообщением.',
    'ask.ACCOUNT_NOT_FOUND': 'Этого лицевого счёта нет в вашем кабинете. Выберите другой.',
    'ask.NOT_FOUND': 'Такого вопроса в вашем кабинете нет.',
    'ask.QUESTION_CLOSED': 'Вопрос закрыт, в него уже нельзя писать. Задайте новый вопрос.',
    'ask.ATTACHMENT_NOT_FOUND': 'Фотография не найдена: выберите её ещё раз.',
  },
  en: {
    'questions.title': 'Questions to specialists',
    'questions.mine': 'My questions',
    'questions.empty': 'You have not asked any questions yet.',
    'questions.asked': 'Asked {date}',
    'questions.unread': 'New answers: {count}',
    'questions.ask': 'Ask a question',
    'questions.topic': 'Topic',
    'questions.account': 'Account',
    'questions.noAccount': 'Not about a particular account',
    'questions.subject': 'What it is about, in short',
    'questions.body': 'Question',
    'questions.bodyHint': 'Describe the situation in detail: the specialist will answer sooner.',
    'questions.photos': 'Photos (optional)',
    'questions.photosHint': 'Up to 3 JPEG or PNG pictures, e.g. of the meter or the bill.',
    'questions.send': 'Send the question',
    'question.notFound': 'There is no such question in your cabinet.',
    'question.back': 'All questions',
    'question.about': 'Account No. {number}',
    'question.you': 'You',
    'question.specialist': 'Specialist',
    'question.photo': 'Photo {n}',
    'question.reply': 'Write again',
    'question.replyBody': 'Message',
    'question.send': 'Send',
    'question.close': 'Close the question',
    'question.closed': 'The question was closed on {date}. If you need help, ask a new question.',
    'question.sent': 'Sent. The answer will appear here and in your mailbox.',
    'question.askedNow': 'Your question is sent. The answer will appear here and in your mailbox.',
    'question.closedNow': 'The question is closed.',
    'questions.status.OPEN': 'Awaiting an answer',
    'questions.status.ANSWERED': 'Answered',
    'questions.status.CLOSED': 'Closed',
    'questions.topic.BILLING': 'Bills and charges',
    'questions.topic.READINGS': 'Readings',
    'questions.topic.PAYMENTS': 'Payments',
    'questions.topic.METER': 'The meter: faults, replacement, verification',
    'questions.topic.E_RECEIPT': 'Bills by e-mail',
    'questions.topic.OTHER': 'Other',
    'ask.SUBJECT_REQUIRED': 'Say in one line what the question is about.',
    'ask.SUBJECT_TOO_LONG': 'The subject is at most 150 characters; put the details in the question itself.',
    'ask.BODY_REQUIRED': 'Write the question itself.',
    'ask.BODY_TOO_LONG': 'The question is at most 5000 characters. Shorten it or continue in another message.',
    'ask.ACCOUNT_NOT_FOUND': 'This account is not in your cabinet. Choose another one.',
    'ask.NOT_FOUND': 'There is no such question in your cabinet.',
    'ask.QUESTION_CLOSED': 'The question is closed; nobody can write in it now. Ask a new question.',
    'ask.ATTACHMENT_NOT_FOUND': 'The photo was not found: choose it again.',
  },
});

const QUESTION_ACCOUNTS = gql`query QuestionAccounts { me { unreadAnswers accounts { id number address } } }`;

const LIST = gql`query Questions($after: String) {
  me { unreadAnswers questions(first: 20, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id subject topic status createdAt unreadCount account { number } }
  } }
}`;

const QUESTION = gql`query Question($id: ID!) {
  me { unreadAnswers }
  question(id: $id) {
    id subject topic status createdAt closedAt unreadCount account { number }
    messages(first: 100) {
      nodes { id author authorName body createdAt attachments { id url width height } }
    }
  }
}`;

const ASK = gql`mutation AskQuestion($input: AskQuestionInput!) {
  askQuestion(input: $input) { question { id } userErrors { field message code retryAfter } }
}`;

const REPLY = gql`mutation ReplyToQuestion($input: ReplyToQuestionInput!) {
  replyToQuestion(input: $input) { message { id } userErrors { field message code retryAfter } }
}`;

const MARK_READ = gql`mutation MarkQuestionRead($input: QuestionInput!) {
  markQuestionRead(input: $input) { unreadAnswers userErrors { code } }
}`;

const CLOSE = gql`mutation CloseQuestion($input: QuestionInput!) {
  closeQuestion(input: $input) { question { id status } userErrors { field message code } }
}`;

let flash = null;

// ---- photos ------------------------------------------------------------------------

// A photo uploaded once keeps its id, so sending the form again after a refusal does not
// upload it again (the server keeps only a few unsent photos per cabinet).
const uploaded = new WeakMap();

class UploadRefused extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function upload(file) {
  if (uploaded.has(file)) return uploaded.get(file);
  let response;
  try {
    response = await fetch('/attachments', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Accept-Language': language() },
      body: file,
    });
  } catch {
    throw new ApiError('NETWORK');
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error || { code: 'UNEXPECTED', message: t('api.UNEXPECTED') };
    throw new UploadRefused(error.code, error.message);
  }
  uploaded.set(file, body.id);
  return body.id;
}

export function photosField() {
  return field({
    name: 'attachmentIds',
    label: t('questions.photos'),
    hint: t('questions.photosHint'),
    type: 'file',
    accept: 'image/jpeg,image/png',
    multiple: true,
    required: false,
  });
}

// The ids of the form's photos, uploaded; null (and the reason shown) when one is refused.
export async function photoIds(node) {
  const input = node.querySelector('input[type=file]');
  try {
    return await Promise.all(Array.from(input.files).map(upload));
  } catch (error) {
    if (!(error instanceof UploadRefused)) throw error;
    showErrors(node, [{ field: ['attachmentIds'], code: error.code, message: error.message }], (e) => e.message);
    return null;
  }
}

// ---- the list and asking -------------------------------------------------------------

export function statusBadge(status) {
  return h('span', { class: `status-badge status-${status.toLowerCase()}` }, t(`questions.status.${status}`));
}

// "Есть ответ · Показания · Лицевой счёт № ... · Задан 25 нояб. 2026 г., 10:00"
function questionFacts(q) {
  return h(
    'p',
    { class: 'hint' },
    statusBadge(q.status),
    ' ',
    t(`questions.topic.${q.topic}`),
    q.account ? ` · ${t('question.about', { number: q.account.number })}` : '',
    ` · ${t('questions.asked', { date: formatDateTime(q.createdAt) })}`,
  );
}

function questionItem(q) {
  return h(
    'li',
    {},
    h('p', { class: 'question-subject' }, h('a', { href: `/questions/${encodeURIComponent(q.id)}` }, q.subject)),
    questionFacts(q),
    q.unreadCount ? h('p', { class: 'unread' }, t('questions.unread', { count: q.unreadCount })) : null,
  );
}

function askForm(accounts) {
  return form({
    label: t('questions.ask'),
    submit: t('questions.send'),
    fields: [
      field({
        name: 'topic',
        label: t('questions.topic'),
        type: 'select',
        options: TOPICS.map((topic) => ({ value: topic, label: t(`questions.topic.${topic}`) })),
      }),
      accounts.length
        ? field({
            name: 'accountId',
            label: t('questions.account'),
            type: 'select',
            required: false,
            options: [
              ...accounts.map((a) => ({ value: a.id, label: t('account.option', { number: a.number, address: a.address }) })),
              { value: '', label: t('questions.noAccount') },
            ],
          })
        : null,
      field({ name: 'subject', label: t('questions.subject'), maxlength: 150, autocomplete: 'off' }),
      field({ name: 'body', label: t('questions.body'), hint: t('questions.bodyHint'), type: 'textarea', maxlength: 5000 }),
      photosField(),
    ],
    onSubmit: async (values, node) => {
      const attachmentIds = await photoIds(node);
      if (attachmentIds === null) return;
      const payload = await mutate('askQuestion', ASK, {
        topic: values.topic,
        accountId: values.accountId || null,
        subject: values.subject.trim(),
        body: values.body.trim(),
        attachmentIds,
      });
      if (payload.userErrors.length) {
        showErrors(node, payload.userErrors, codeText('ask'));
        return;
      }
      flash = t('question.askedNow');
      await navigate(`/questions/${encodeURIComponent(payload.question.id)}`);
    },
  });
}

async function renderList() {
  const accounts = await loadAccounts(QUESTION_ACCOUNTS);
  let first = null;
  const load = async (after) => {
    const data = await graphql(LIST, { after });
    if (!first) first = data.me;
    return data.me.questions;
  };
  const list = await growingList({ load, item: questionItem, empty: t('questions.empty') });
  setUnread(first.unreadAnswers);
  return page(
    t('questions.title'),
    h('section', { 'aria-labelledby': 'mine' }, h('h2', { id: 'mine' }, t('questions.mine')), list),
    h('section', { 'aria-labelledby': 'ask' }, h('h2', { id: 'ask' }, t('questions.ask')), askForm(accounts)),
  );
}

// ---- one question ------------------------------------------------------------------

function messageItem(message) {
  const mine = message.author === 'CUSTOMER';
  const who = mine ? t('question.you') : message.authorName || t('question.specialist');
  return h(
    'li',
    { class: `message message-${mine ? 'customer' : 'specialist'}` },
    h('p', { class: 'message-meta' }, `${who} · ${formatDateTime(message.createdAt)}`),
    h('p', { class: 'message-body' }, message.body),
    message.attachments.length
      ? h(
          'div',
          { class: 'photos' },
          message.attachments.map((a, n) =>
            h(
              'a',
              { href: a.url, target: '_blank', rel: 'noopener' },
              h('img', { src: a.url, width: a.width, height: a.height, alt: t('question.photo', { n: n + 1 }), loading: 'lazy' }),
            ),
          ),
        )
      : null,
  );
}

function replyForm(question) {
  return form({
    label: t('question.reply'),
    submit: t('question.send'),
    fields: [field({ name: 'body', label: t('question.replyBody'), type: 'textarea', maxlength: 5000 }), photosField()],
    onSubmit: async (values, node) => {
      const attachmentIds = await photoIds(node);
      if (attachmentIds === null) return;
      const payload = await mutate('replyToQuestion', REPLY, { questionId: question.id, body: values.body.trim(), attachmentIds });
      if (payload.userErrors.length) {
        showErrors(node, payload.userErrors, codeText('ask'));
        return;
      }
      flash = t('question.sent');
      await navigate(location.pathname, { replace: true });
    },
  });
}

function closeButton(question) {
  const status = h('p', { role: 'status' });
  const close = button(t('question.close'), {
    onclick: async () => {
      close.disabled = true;
      try {
        const payload = await mutate('closeQuestion', CLOSE, { questionId: question.id });
        if (payload.userErrors.length) {
          status.textContent = codeText('ask')(payload.userErrors[0]);
          return;
        }
        flash = t('question.closedNow');
        await navigate(location.pathname, { replace: true });
      } finally {
        close.disabled = false;
      }
    },
  });
  return h('div', { class: 'actions' }, close, status);
}

async function renderQuestion({ params }) {
  const data = await graphql(QUESTION, { id: params.id });
  const question = data.question;
  setUnread(data.me.unreadAnswers);
  const back = h('p', {}, h('a', { href: '/questions' }, t('question.back')));
  if (!question) return page(t('question.notFound'), back);
  if (question.unreadCount) {
    const marked = await mutate('markQuestionRead', MARK_READ, { questionId: question.id });
    if (marked.unreadAnswers !== null) setUnread(marked.unreadAnswers);
  }
  const shown = flash;
  flash = null;
  const messages = [...question.messages.nodes].reverse(); // oldest first, as a conversation reads
  const replyId = uid('reply');
  return page(
    question.subject,
    shown ? notice(shown, 'ok') : null,
    questionFacts(question),
    h('ol', { class: 'messages' }, messages.map(messageItem)),
    question.status === 'CLOSED'
      ? notice(t('question.closed', { date: formatDateTime(question.closedAt) }))
      : [
          h('section', { 'aria-labelledby': replyId }, h('h2', { id: replyId }, t('question.reply')), replyForm(question)),
          closeButton(question),
        ],
    back,
  );
}

route('/questions', renderList, {
  auth: true,
  title: 'questions.title',
  nav: { label: 'nav.questionsBadge', order: 50 },
});
route('/questions/:id', renderQuestion, { auth: true, title: 'questions.title' });
