"""Questions to the company's specialists: customers ask, reply, read and close;
specialists answer and take questions; the customer hears of an answer by e-mail.

Who may touch a question is decided here, in every query: a customer reaches only the
questions of their own cabinet (another's answers NOT_FOUND, exactly as a missing
one), a specialist reaches every question. Roles are checked here too (NotAllowed),
behind the schema's own permission checks.

A question is OPEN while the customer waits, ANSWERED once a specialist wrote last,
CLOSED when either side closes it. `waiting_since` is when the customer's oldest
unanswered message arrived: the staff queue serves the longest wait first.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from tortoise.transactions import in_transaction

from config import get_settings
from models.cabinets import Cabinet, CabinetAccount, Role
from models.mail import MailLane
from models.push import NotificationChannel
from models.questions import (
    BODY_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    MessageAuthor,
    Question,
    QuestionMessage,
    QuestionStatus,
    QuestionTopic,
)
from services.core import live, throttle
from services.core.clock import now
from services.core.errors import CoreError, NotAllowed, RuleError, raise_all
from services.core.ids import encode_id
from services.notifications.events import NotificationEvent
from services.notifications.notices import notify
from services.notifications.preferences import wants
from services.notifications.push import announce
from services.questions import attachments
from services.questions.errors import QuestionError

EXCERPT_LINES = 3
EXCERPT_CHARS = 300


def require_customer(cabinet: Cabinet) -> None:
    if cabinet.role != Role.CUSTOMER:
        raise NotAllowed("customers only")


def require_staff(cabinet: Cabinet) -> None:
    if cabinet.role != Role.STAFF:
        raise NotAllowed("specialists only")


# ---------------------------------------------------------------- text


def _printable(text: str, keep: str) -> str:
    """NFC, without control characters (PostgreSQL refuses NUL) except those in `keep`."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(c for c in text if c in keep or unicodedata.category(c) != "Cc")


def clean_subject(value: str, errors: list[RuleError]) -> str:
    subject = re.sub(r"\s+", " ", _printable(value or "", keep="")).strip()
    if not subject:
        errors.append(RuleError(QuestionError.SUBJECT_REQUIRED, "subject"))
    elif len(subject) > SUBJECT_MAX_CHARS:
        errors.append(RuleError(QuestionError.SUBJECT_TOO_LONG, "subject", max=SUBJECT_MAX_CHARS))
    return subject


def clean_body(value: str, errors: list[RuleError]) -> str:
    body = _printable(value or "", keep="\n\t").strip()
    if not body:
        errors.append(RuleError(QuestionError.BODY_REQUIRED, "body"))
    elif len(body) > BODY_MAX_CHARS:
        errors.append(RuleError(QuestionError.BODY_TOO_LONG, "body", max=BODY_MAX_CHARS))
    return body


def excerpt(body: str) -> str:
    """The first lines of an answer, for the e-mail that announces it."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    text = "\n".join(lines[:EXCERPT_LINES])
    cut = len(lines) > EXCERPT_LINES or len(text) > EXCERPT_CHARS
    text = text[:EXCERPT_CHARS].rstrip()
    return text + " …" if cut else text


# ---------------------------------------------------------------- shared steps


async def _message_quota(cabinet_id: int) -> throttle.Limit:
    """Count one customer message against QUESTION_MESSAGES_PER_DAY."""
    policy = throttle.Window(get_settings().question_messages_per_day, dt.timedelta(days=1))
    limit: throttle.Limit = (f"questions:messages:{cabinet_id}", policy)
    try:
        await throttle.attempt(limit)
    except throttle.Throttled as throttled:
        raise RuleError(
            QuestionError.TOO_MANY_MESSAGES, retry_after=throttled.retry_after
        ) from None
    return limit


async def _locked_question(viewer: Cabinet, question_id: int) -> Question:
    """The question, locked for the transaction, if the viewer may reach it."""
    query = Question.filter(id=question_id)
    if viewer.role != Role.STAFF:
        query = query.filter(cabinet_id=viewer.id)
    question = await query.select_for_update().first()
    if question is None:
        raise RuleError(CoreError.NOT_FOUND, "questionId")
    return question


async def _writable(viewer: Cabinet, question_id: int) -> Question:
    """The question, locked, if the viewer may reach it and it is not closed."""
    question = await _locked_question(viewer, question_id)
    if question.status == QuestionStatus.CLOSED:
        raise RuleError(QuestionError.QUESTION_CLOSED, "questionId")
    return question


def _check_message(body: str, attachment_ids: list[int], errors: list[RuleError]) -> str:
    body = clean_body(body, errors)
    too_many = attachments.check_count(attachment_ids)
    if too_many is not None:
        errors.append(too_many)
    return body


async def _add_message(
    question: Question, author: Cabinet, kind: MessageAuthor, body: str, moment: dt.datetime
) -> QuestionMessage:
    return await QuestionMessage.create(
        question_id=question.id, author_kind=kind, author_id=author.id, body=body, created_at=moment
    )


async def _mark_read(question_id: int, written_by: MessageAuthor, moment: dt.datetime) -> int:
    return await QuestionMessage.filter(
        question_id=question_id, author_kind=written_by, read_at__isnull=True
    ).update(read_at=moment)


# ---------------------------------------------------------------- customers


async def ask(
    cabinet: Cabinet,
    *,
    account_id: int | None,
    topic: QuestionTopic,
    subject: str,
    body: str,
    attachment_ids: list[int],
) -> Question:
    """A new question, about one of the cabinet's accounts or none, with photos."""
    require_customer(cabinet)
    errors: list[RuleError] = []
    subject = clean_subject(subject, errors)
    body = _check_message(body, attachment_ids, errors)
    if account_id is not None:
        linked = CabinetAccount.filter(cabinet_id=cabinet.id, account_id=account_id)
        if not await linked.exists():
            errors.append(RuleError(QuestionError.ACCOUNT_NOT_FOUND, "accountId"))
    raise_all(errors)
    quota = await _message_quota(cabinet.id)
    try:
        async with in_transaction():
            moment = now()
            question = await Question.create(
                cabinet_id=cabinet.id,
                account_id=account_id,
                topic=topic,
                subject=subject,
                status=QuestionStatus.OPEN,
                created_at=moment,
                updated_at=moment,
                waiting_since=moment,
            )
            message = await _add_message(question, cabinet, MessageAuthor.CUSTOMER, body, moment)
            await attachments.attach(cabinet.id, message.id, attachment_ids)
    except RuleError:
        await throttle.give_back(quota)  # nothing was sent: the quota is not spent
        raise
    return question


async def reply(
    cabinet: Cabinet, question_id: int, body: str, attachment_ids: list[int]
) -> tuple[Question, QuestionMessage]:
    """The customer writes again; an answered question waits for a specialist anew."""
    require_customer(cabinet)
    errors: list[RuleError] = []
    body = _check_message(body, attachment_ids, errors)
    raise_all(errors)
    if not await Question.filter(id=question_id, cabinet_id=cabinet.id).exists():
        raise RuleError(CoreError.NOT_FOUND, "questionId")
    quota = await _message_quota(cabinet.id)
    try:
        async with in_transaction():
            question = await _writable(cabinet, question_id)
            moment = now()
            message = await _add_message(question, cabinet, MessageAuthor.CUSTOMER, body, moment)
            await attachments.attach(cabinet.id, message.id, attachment_ids)
            await _mark_read(question.id, MessageAuthor.SPECIALIST, moment)  # replying reads
            if question.status == QuestionStatus.ANSWERED:
                question.status, question.waiting_since = QuestionStatus.OPEN, moment
            question.updated_at = moment
            await question.save(update_fields=["status", "waiting_since", "updated_at"])
            await live.publish("question", question.id)
    except RuleError:
        await throttle.give_back(quota)
        raise
    return question, message


async def mark_read(cabinet: Cabinet, question_id: int) -> Question:
    """The customer has read the specialists' answers of a question."""
    require_customer(cabinet)
    question = await Question.filter(id=question_id, cabinet_id=cabinet.id).first()
    if question is None:
        raise RuleError(CoreError.NOT_FOUND, "questionId")
    async with in_transaction():
        await _mark_read(question.id, MessageAuthor.SPECIALIST, now())
        await live.publish("question", question.id)
    return question


async def close(viewer: Cabinet, question_id: int) -> Question:
    """Close a question: the customer their own, a specialist any. Closing a closed
    question changes nothing."""
    async with in_transaction():
        question = await _locked_question(viewer, question_id)
        if question.status != QuestionStatus.CLOSED:
            moment = now()
            question.status, question.closed_at, question.updated_at = (
                QuestionStatus.CLOSED,
                moment,
                moment,
            )
            await question.save(update_fields=["status", "closed_at", "updated_at"])
            await live.publish("question", question.id)
    return question


# ---------------------------------------------------------------- specialists


async def answer(
    specialist: Cabinet, question_id: int, body: str, attachment_ids: list[int] | None = None
) -> tuple[Question, QuestionMessage]:
    """A specialist answers, with the photos they uploaded; the customer is told by
    e-mail in the same transaction. An unassigned question becomes the answering
    specialist's."""
    require_staff(specialist)
    attachment_ids = attachment_ids or []
    errors: list[RuleError] = []
    body = _check_message(body, attachment_ids, errors)
    raise_all(errors)
    async with in_transaction():
        question = await _writable(specialist, question_id)
        moment = now()
        message = await _add_message(question, specialist, MessageAuthor.SPECIALIST, body, moment)
        await attachments.attach(specialist.id, message.id, attachment_ids)
        await _mark_read(question.id, MessageAuthor.CUSTOMER, moment)
        question.status, question.updated_at = QuestionStatus.ANSWERED, moment
        if question.assignee_id is None:  # type: ignore[attr-defined]
            question.assignee_id = specialist.id  # type: ignore[attr-defined]
        await question.save(update_fields=["status", "updated_at", "assignee_id"])
        await live.publish("question", question.id)
        await _announce(question, body)
        await announce(
            question.cabinet_id,  # type: ignore[attr-defined]
            NotificationEvent.QUESTION_ANSWERED,
            node_id=encode_id("Question", question.id),
            key=f"question_answered:{encode_id('Message', message.id)}",
            question_subject=question.subject,
        )
    return question, message


async def _announce(question: Question, body: str) -> None:
    customer = await Cabinet.get(id=question.cabinet_id)  # type: ignore[attr-defined]
    if not await wants(customer.id, NotificationEvent.QUESTION_ANSWERED, NotificationChannel.EMAIL):
        return
    # The answer's words go only to an address the customer has confirmed: a mistyped
    # one learns no more than that an answer exists.
    verified = customer.email_verified_at is not None
    await notify(
        customer,
        "question_answered",
        lane=MailLane.ROUTINE,
        question_id=encode_id("Question", question.id),
        question_subject=question.subject,
        excerpt=excerpt(body) if verified else "",
    )


async def reopen(specialist: Cabinet, question_id: int) -> Question:
    """A specialist opens a closed question again: it waits for a specialist (OPEN) when
    the customer wrote last, else it stands ANSWERED. Reopening an open one changes
    nothing."""
    require_staff(specialist)
    async with in_transaction():
        question = await _locked_question(specialist, question_id)
        if question.status == QuestionStatus.CLOSED:
            last = (
                await QuestionMessage.filter(question_id=question.id)
                .order_by("-created_at", "-id")
                .first()
            )
            moment = now()
            waiting = last is None or last.author_kind == MessageAuthor.CUSTOMER
            question.status = QuestionStatus.OPEN if waiting else QuestionStatus.ANSWERED
            if waiting:
                question.waiting_since = last.created_at if last else moment
            question.closed_at, question.updated_at = None, moment
            await question.save(
                update_fields=["status", "waiting_since", "closed_at", "updated_at"]
            )
    return question


async def assign(specialist: Cabinet, question_id: int, assignee_id: int | None) -> Question:
    """Give a question to a specialist (the one asking, when none is named)."""
    require_staff(specialist)
    target = assignee_id if assignee_id is not None else specialist.id
    if not await Cabinet.filter(id=target, role=Role.STAFF, disabled_at__isnull=True).exists():
        raise RuleError(CoreError.SPECIALIST_NOT_FOUND, "specialistId")
    async with in_transaction():
        question = await _locked_question(specialist, question_id)
        question.assignee_id, question.updated_at = target, now()  # type: ignore[attr-defined]
        await question.save(update_fields=["assignee_id", "updated_at"])
        await live.publish("question", question.id)
    return question
