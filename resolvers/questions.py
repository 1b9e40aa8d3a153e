"""Resolvers of questions: thin calls into services.questions (rules and read model).
They hand back rows, models and pages, and let the rules' RuleErrors through; the
schema turns them into Question, Message and payloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import Any

import strawberry

from models import questions as models
from models.cabinets import Role
from resolvers import lists, paging
from resolvers.context import Context
from services.core.ids import decode_id
from services.core.paging import Page
from services.questions import read_model
from services.questions import rules as questions
from services.questions.read_model import AssigneeFilter
from services.staff import specialists as staff
from services.staff import views as staff_views

Info = strawberry.Info[Context]
Row = dict[str, Any]
Posted = tuple[models.Question, Row]  # the question and the message just posted

MISSING = -1  # a malformed id: looked up like any other, found like another's


def _pk(kind: str, value: str | None) -> int:
    return decode_id(kind, value) or MISSING


def _pks(kind: str, values: list[str]) -> list[int]:
    return [_pk(kind, value) for value in values]


# ---------------------------------------------------------------- queries


async def question(info: Info, id: str) -> Row | None:
    viewer = await info.context.require_viewer()
    return await read_model.question_for(viewer, _pk("Question", id))


async def own_questions(
    cabinet_id: int, first: int, after: str | None, status: models.QuestionStatus | None
) -> Page:
    """`me.questions`: the customer's own, newest first."""
    args = paging.page_args(first, after, (None, None), dt.datetime)
    rows = await read_model.own_questions(cabinet_id, status, args)
    return Page.cut(
        rows, args, "created_at", lambda: read_model.count_own_questions(cabinet_id, status)
    )


async def seen_by_staff(info: Info, question_row: Row) -> None:
    """A specialist is about to see the customer's data through this question: write it
    to the customer's security log (once per request, and once an hour: staff_views)."""
    viewer = await info.context.require_viewer()
    if viewer.role != Role.STAFF:
        return
    seen = info.context.extra.setdefault("staff_views", set())
    if question_row["id"] in seen:
        return
    seen.add(question_row["id"])
    await staff_views.record_view(viewer, question_row["id"], question_row["cabinet_id"])


async def account_of_question(info: Info, question_row: Row) -> Row | None:
    """The account a question is about: for a specialist any (a view of the customer's
    data, recorded); for the customer only while it is still in their cabinet."""
    account_id = question_row["account_id"]
    if account_id is None:
        return None
    ctx = info.context
    viewer = await ctx.require_viewer()
    if viewer.role == Role.STAFF:
        await seen_by_staff(info, question_row)
        return await ctx.loaders.questions.account.load(account_id)
    rows = await ctx.loaders.accounts_of_cabinet.load(viewer.id)
    return next((r for r in rows if r["id"] == account_id), None)


async def unread_answers(cabinet_id: int) -> int:
    """`me.unreadAnswers`: specialists' messages not read yet, over every question."""
    return await read_model.unread_answers(cabinet_id)


async def staff_questions(
    info: Info,
    status: models.QuestionStatus | None,
    topic: models.QuestionTopic | None,
    assignee: AssigneeFilter,
    first: int,
    after: str | None,
    frozen: bool | None = None,
) -> Page:
    """The staff queue: the customer who has waited longest first."""
    viewer = await info.context.require_viewer()
    which = read_model.QueueFilter(
        status=status,
        topic=topic,
        assignee_id=viewer.id if assignee == AssigneeFilter.ME else None,
        unassigned=assignee == AssigneeFilter.NOBODY,
        frozen=frozen,
    )
    args = paging.page_args(first, after, (None, None), dt.datetime)
    rows = await read_model.queue(which, args)
    return Page.cut(rows, args, "waiting_since", lambda: read_model.count_queue(which))


async def specialists(info: Info) -> list[Row]:
    return [
        {"id": c.id, "email": c.email, "display_name": c.display_name}
        for c in await staff.specialists()
    ]


def messages(info: Info, question_pk: int, first: int, after: str | None) -> Page | Awaitable[Page]:
    """A question's conversation, newest message first."""
    args = paging.page_args(first, after, (None, None), dt.datetime)
    loaders = info.context.loaders.questions
    return lists.when_ready(
        loaders.messages.load((question_pk, args)),
        lambda rows: Page.cut(
            rows,
            args,
            "created_at",
            lambda: loaders.message_counts.load((question_pk, None, None, None)),
        ),
    )


def attachments(info: Info, message_pk: int) -> Awaitable[list[Row]]:
    """The photos of a message of a question the viewer reached."""
    return info.context.loaders.questions.attachments.load(message_pk)


def unread_count(info: Info, question_pk: int) -> Awaitable[int]:
    return info.context.loaders.questions.unread.load(question_pk)


def person(info: Info, cabinet_pk: int) -> Awaitable[Row | None]:
    """Who took a question (the field asking is for specialists only)."""
    return info.context.loaders.questions.cabinet.load(cabinet_pk)


async def customer(info: Info, question_row: Row) -> Row | None:
    """Who asked, for a specialist: a view of the customer's data, recorded."""
    await seen_by_staff(info, question_row)
    return await info.context.loaders.questions.cabinet.load(question_row["cabinet_id"])


def customer_accounts(info: Info, cabinet_pk: int) -> Awaitable[list[Row]]:
    """Every account of the cabinet that asked (for the specialist who answers)."""
    return info.context.loaders.accounts_of_cabinet.load(cabinet_pk)


# ---------------------------------------------------------------- customers' mutations


async def ask_question(info: Info, input: Any) -> models.Question:
    cabinet = await info.context.require_viewer()
    return await questions.ask(
        cabinet,
        account_id=_pk("Account", input.account_id) if input.account_id else None,
        topic=models.QuestionTopic(input.topic),
        subject=input.subject,
        body=input.body,
        attachment_ids=_pks("Attachment", input.attachment_ids),
    )


async def reply_to_question(info: Info, input: Any) -> Posted:
    cabinet = await info.context.require_viewer()
    question, message = await questions.reply(
        cabinet,
        _pk("Question", input.question_id),
        input.body,
        _pks("Attachment", input.attachment_ids),
    )
    return question, read_model.message_row(message, cabinet)


async def close_question(info: Info, input: Any) -> models.Question:
    viewer = await info.context.require_viewer()
    return await questions.close(viewer, _pk("Question", input.question_id))


async def mark_question_read(info: Info, input: Any) -> tuple[models.Question, int]:
    """The question, and the unread answers left over all questions (the badge)."""
    cabinet = await info.context.require_viewer()
    read = await questions.mark_read(cabinet, _pk("Question", input.question_id))
    return read, await read_model.unread_answers(cabinet.id)


# ---------------------------------------------------------------- specialists' mutations


async def answer_question(info: Info, input: Any) -> Posted:
    specialist = await info.context.require_viewer()
    question, message = await questions.answer(
        specialist,
        _pk("Question", input.question_id),
        input.body,
        _pks("Attachment", input.attachment_ids),
    )
    return question, read_model.message_row(message, specialist)


async def assign_question(info: Info, input: Any) -> models.Question:
    specialist = await info.context.require_viewer()
    assignee = _pk("Specialist", input.specialist_id) if input.specialist_id else None
    return await questions.assign(specialist, _pk("Question", input.question_id), assignee)


async def reopen_question(info: Info, input: Any) -> models.Question:
    specialist = await info.context.require_viewer()
    return await questions.reopen(specialist, _pk("Question", input.question_id))
