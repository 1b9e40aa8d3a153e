"""Resolvers of questions: thin calls into services.questions.rules and question_data."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

import strawberry

from models import questions as models
from models.cabinets import Cabinet
from resolvers import paging, question_data
from resolvers.errors import attempt
from schema import questions as s
from schema.accounts import After, First
from schema.context import Context
from schema.errors import MutationInput
from schema.relay import Connection, decode_id
from services.questions import rules as questions
from services.staff import specialists as staff

Info = strawberry.Info[Context]

P = TypeVar("P")
MISSING = -1  # a malformed id: looked up like any other, found like another's


def _pk(kind: str, value: str | None) -> int:
    return decode_id(kind, value) or MISSING


def _pks(kind: str, values: list[strawberry.ID]) -> list[int]:
    return [_pk(kind, value) for value in values]


# ---------------------------------------------------------------- queries


async def question(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Its id.")]
) -> s.Question | None:
    viewer = await info.context.require_viewer()
    row = await question_data.question_for(viewer, _pk("Question", id))
    return s.Question.from_row(row) if row else None


async def own_questions(
    cabinet_id: int, first: int, after: str | None, status: models.QuestionStatus | None
) -> Connection[s.Question]:
    """`me.questions`: the customer's own, newest first."""
    args = paging.page_args(first, after, (None, None), dt.datetime)
    rows = await question_data.own_questions(cabinet_id, status, args)
    return paging.to_connection(
        rows,
        args,
        "created_at",
        s.Question.from_row,
        lambda: question_data.count_own_questions(cabinet_id, status),
    )


async def staff_questions(
    info: Info,
    status: Annotated[
        s.QuestionStatus | None,
        strawberry.argument(
            description="Only questions in this state (default OPEN: awaiting an answer); "
            "null for every state."
        ),
    ] = models.QuestionStatus.OPEN,
    topic: Annotated[
        s.QuestionTopic | None, strawberry.argument(description="Only questions of this topic.")
    ] = None,
    assignee: Annotated[
        s.AssigneeFilter, strawberry.argument(description="Everyone's, mine, or unassigned.")
    ] = s.AssigneeFilter.ANYONE,
    first: First = 20,
    after: After = None,
) -> Connection[s.Question]:
    """The staff queue: the customer who has waited longest first."""
    viewer = await info.context.require_viewer()
    which = question_data.QueueFilter(
        status=status,
        topic=topic,
        assignee_id=viewer.id if assignee == s.AssigneeFilter.ME else None,
        unassigned=assignee == s.AssigneeFilter.NOBODY,
    )
    args = paging.page_args(first, after, (None, None), dt.datetime)
    rows = await question_data.queue(which, args)
    return paging.to_connection(
        rows, args, "waiting_since", s.Question.from_row, lambda: question_data.count_queue(which)
    )


async def specialists(info: Info) -> list[s.Specialist]:
    return [
        s.Specialist.from_row({"id": c.id, "email": c.email, "display_name": c.display_name})
        for c in await staff.specialists()
    ]


# ---------------------------------------------------------------- customers' mutations


async def ask_question(
    info: Info, input: MutationInput[s.AskQuestionInput]
) -> s.AskQuestionPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    asked, errors = await attempt(
        questions.ask(
            cabinet,
            account_id=_pk("Account", input.account_id) if input.account_id else None,
            topic=models.QuestionTopic(input.topic),
            subject=input.subject,
            body=input.body,
            attachment_ids=_pks("Attachment", input.attachment_ids),
        ),
        s.AskQuestionError,
        ctx.language,
    )
    return s.AskQuestionPayload(
        question=s.Question.from_model(asked) if asked else None, user_errors=errors
    )


def _message(message: models.QuestionMessage, author: Cabinet) -> s.Message:
    return s.Message.from_row(
        {
            "id": message.id,
            "author_kind": message.author_kind.value,
            "author_name": author.display_name
            if message.author_kind == models.MessageAuthor.SPECIALIST
            else None,
            "body": message.body,
            "created_at": message.created_at,
            "read_at": message.read_at,
        }
    )


def _posted(
    payload: type[P],
    done: tuple[models.Question, models.QuestionMessage] | None,
    errors: list[Any],
    author: Cabinet,
) -> P:
    """The payload of a mutation that posts a message: the question and the message."""
    if done is None:
        return payload(user_errors=errors)  # type: ignore[call-arg]
    question, message = done
    return payload(  # type: ignore[call-arg]
        question=s.Question.from_model(question), message=_message(message, author)
    )


async def reply_to_question(
    info: Info, input: MutationInput[s.ReplyToQuestionInput]
) -> s.ReplyToQuestionPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    done, errors = await attempt(
        questions.reply(
            cabinet,
            _pk("Question", input.question_id),
            input.body,
            _pks("Attachment", input.attachment_ids),
        ),
        s.ReplyToQuestionError,
        ctx.language,
    )
    return _posted(s.ReplyToQuestionPayload, done, errors, cabinet)


async def close_question(
    info: Info, input: MutationInput[s.QuestionInput]
) -> s.CloseQuestionPayload:
    ctx = info.context
    viewer = await ctx.require_viewer()
    closed, errors = await attempt(
        questions.close(viewer, _pk("Question", input.question_id)),
        s.CloseQuestionError,
        ctx.language,
    )
    return s.CloseQuestionPayload(
        question=s.Question.from_model(closed) if closed else None, user_errors=errors
    )


async def mark_question_read(
    info: Info, input: MutationInput[s.QuestionInput]
) -> s.MarkQuestionReadPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    read, errors = await attempt(
        questions.mark_read(cabinet, _pk("Question", input.question_id)),
        s.MarkQuestionReadError,
        ctx.language,
    )
    if read is None:
        return s.MarkQuestionReadPayload(user_errors=errors)
    return s.MarkQuestionReadPayload(
        question=s.Question.from_model(read),
        unread_answers=await question_data.unread_answers(cabinet.id),
    )


# ---------------------------------------------------------------- specialists' mutations


async def answer_question(
    info: Info, input: MutationInput[s.AnswerQuestionInput]
) -> s.AnswerQuestionPayload:
    ctx = info.context
    specialist = await ctx.require_viewer()
    done, errors = await attempt(
        questions.answer(specialist, _pk("Question", input.question_id), input.body),
        s.AnswerQuestionError,
        ctx.language,
    )
    return _posted(s.AnswerQuestionPayload, done, errors, specialist)


async def assign_question(
    info: Info, input: MutationInput[s.AssignQuestionInput]
) -> s.AssignQuestionPayload:
    ctx = info.context
    specialist = await ctx.require_viewer()
    assignee = _pk("Specialist", input.specialist_id) if input.specialist_id else None
    assigned, errors = await attempt(
        questions.assign(specialist, _pk("Question", input.question_id), assignee),
        s.AssignQuestionError,
        ctx.language,
    )
    return s.AssignQuestionPayload(
        question=s.Question.from_model(assigned) if assigned else None, user_errors=errors
    )
