"""Reading questions: the customer's list, the staff queue, one question, and the
batched reads behind a question's fields (messages, photos, unread answers, people), so
a page of questions costs the same few queries whatever its length. Every read that
starts from an id says whose it may be in its WHERE clause."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from models import sql
from models.cabinets import Cabinet, Role
from models.questions import (
    MessageAuthor,
    Question,
    QuestionMessage,
    QuestionStatus,
    QuestionTopic,
)
from models.sql import marks
from services.core.paging import ListSpec, PageArgs, count, rows_in_order

QUESTION_COLUMNS = (
    "q.id, q.cabinet_id, q.account_id, q.topic, q.subject, q.status, q.assignee_id, "
    "q.created_at, q.updated_at, q.waiting_since, q.closed_at"
)
_TIMES = ("created_at", "updated_at", "waiting_since", "closed_at")


def _question(row: dict[str, Any]) -> dict[str, Any]:
    for column in _TIMES:
        row[column] = sql.as_datetime(row[column])
    return row


def row_of(question: Question) -> dict[str, Any]:
    """The same dict a query gives, from a model a rule returned."""
    return {
        "id": question.id,
        "cabinet_id": question.cabinet_id,  # type: ignore[attr-defined]
        "account_id": question.account_id,  # type: ignore[attr-defined]
        "topic": question.topic.value,
        "subject": question.subject,
        "status": question.status.value,
        "assignee_id": question.assignee_id,  # type: ignore[attr-defined]
        **{column: getattr(question, column) for column in _TIMES},
    }


def message_row(message: QuestionMessage, author: Cabinet) -> dict[str, Any]:
    """The same dict the messages query gives, from a message a rule just posted."""
    return {
        "id": message.id,
        "author_kind": message.author_kind.value,
        "author_name": author.display_name
        if message.author_kind == MessageAuthor.SPECIALIST
        else None,
        "body": message.body,
        "created_at": message.created_at,
        "read_at": message.read_at,
    }


def _message(row: dict[str, Any]) -> dict[str, Any]:
    row["created_at"] = sql.as_datetime(row["created_at"])
    row["read_at"] = sql.as_datetime(row["read_at"])
    return row


# A specialist's display name is all a customer learns of them.
MESSAGES = ListSpec(
    select="t.id, t.question_id AS owner_id, t.author_kind, t.body, t.created_at, t.read_at, "
    f"CASE WHEN t.author_kind = '{MessageAuthor.SPECIALIST.value}' THEN c.display_name "
    "END AS author_name",
    source="question_message t LEFT JOIN cabinet c ON c.id = t.author_id",
    owner="t.question_id",
    sort="t.created_at",
    convert=_message,
)


class AssigneeFilter(Enum):
    """Whose questions the staff queue shows."""

    ANYONE = "anyone"
    ME = "me"
    NOBODY = "nobody"


@dataclass(frozen=True)
class QueueFilter:
    status: QuestionStatus | None
    topic: QuestionTopic | None
    assignee_id: int | None = None  # only this specialist's
    unassigned: bool = False  # only questions nobody took
    frozen: bool | None = None  # only of cabinets frozen by "this wasn't me" (or not)


def _own_where(cabinet_id: int, status: QuestionStatus | None) -> tuple[list[str], list[Any]]:
    clauses, params = ["q.cabinet_id = ?"], [cabinet_id]
    if status is not None:
        clauses.append("q.status = ?")
        params.append(status.value)
    return clauses, params


async def own_questions(
    cabinet_id: int, status: QuestionStatus | None, args: PageArgs
) -> list[dict[str, Any]]:
    """A customer's questions, newest first."""
    return await _page(
        _own_where(cabinet_id, status),
        args,
        after="(q.created_at, q.id) < (?, ?)",
        order="q.created_at DESC, q.id DESC",
    )


async def count_own_questions(cabinet_id: int, status: QuestionStatus | None) -> int:
    return await _count_questions(*_own_where(cabinet_id, status))


def _queue_where(which: QueueFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = ["1 = 1"]
    params: list[Any] = []
    if which.status is not None:
        clauses.append("q.status = ?")
        params.append(which.status.value)
    if which.topic is not None:
        clauses.append("q.topic = ?")
        params.append(which.topic.value)
    if which.assignee_id is not None:
        clauses.append("q.assignee_id = ?")
        params.append(which.assignee_id)
    if which.unassigned:
        clauses.append("q.assignee_id IS NULL")
    if which.frozen is not None:
        frozen = (
            "EXISTS (SELECT 1 FROM cabinet c WHERE c.id = q.cabinet_id AND c.frozen_at IS NOT NULL)"
        )
        clauses.append(frozen if which.frozen else f"NOT {frozen}")
    return clauses, params


async def queue(which: QueueFilter, args: PageArgs) -> list[dict[str, Any]]:
    """The staff queue: the longest-waiting customer first."""
    return await _page(
        _queue_where(which),
        args,
        after="(q.waiting_since, q.id) > (?, ?)",
        order="q.waiting_since, q.id",
    )


async def _page(
    where: tuple[list[str], list[Any]], args: PageArgs, *, after: str, order: str
) -> list[dict[str, Any]]:
    """Up to `first + 1` questions (the extra one tells whether a page follows)."""
    clauses, params = where
    if args.after is not None:
        clauses.append(after)
        params.extend(args.after)
    rows = await sql.fetch(
        sql.connection(),
        f"SELECT {QUESTION_COLUMNS} FROM question q WHERE {' AND '.join(clauses)} "  # noqa: S608
        f"ORDER BY {order} LIMIT ?",
        [*params, args.first + 1],
    )
    return [_question(row) for row in rows]


async def count_queue(which: QueueFilter) -> int:
    return await _count_questions(*_queue_where(which))


async def _count_questions(clauses: list[str], params: list[Any]) -> int:
    where = " AND ".join(clauses)
    return await count(f"SELECT count(*) AS n FROM question q WHERE {where}", params)  # noqa: S608


async def question_for(viewer: Cabinet, question_id: int) -> dict[str, Any] | None:
    """One question if the viewer may see it: a customer their own, a specialist any."""
    clauses, params = ["q.id = ?"], [question_id]
    if viewer.role != Role.STAFF:
        clauses.append("q.cabinet_id = ?")
        params.append(viewer.id)
    row = await sql.fetch_one(
        sql.connection(),
        f"SELECT {QUESTION_COLUMNS} FROM question q WHERE {' AND '.join(clauses)}",  # noqa: S608
        params,
    )
    return _question(row) if row else None


async def unread_answers(cabinet_id: int) -> int:
    """Specialists' messages the customer has not read, over all their questions."""
    return await count(
        "SELECT count(*) AS n FROM question_message m JOIN question q ON q.id = m.question_id "
        "WHERE q.cabinet_id = ? AND m.author_kind = ? AND m.read_at IS NULL",
        [cabinet_id, MessageAuthor.SPECIALIST.value],
    )


# ---------------------------------------------------------------- batched, for loaders


async def questions_by_id(question_ids: Sequence[int]) -> list[dict | None]:
    """Questions by id, whoever asked them (`cabinet_id` says who: the caller checks it)."""
    query = f"SELECT {QUESTION_COLUMNS} FROM question q WHERE q.id IN"  # noqa: S608
    return await rows_in_order(query, question_ids, _question)


async def sent_attachments_by_id(attachment_ids: Sequence[int]) -> list[dict | None]:
    """Photos by id with the question their message belongs to; photos not sent with a
    message yet are nobody's to see through the API (None)."""
    return await rows_in_order(
        "SELECT a.id, a.message_id, m.question_id, a.content_type, a.size, a.width, "
        "a.height FROM attachment a JOIN question_message m ON m.id = a.message_id "
        "WHERE a.id IN",
        attachment_ids,
    )


async def cabinets_that_asked(cabinet_ids: Sequence[int]) -> list[bool]:
    """Whether each cabinet asked any question (specialists see only those customers)."""
    rows = await sql.fetch(
        sql.connection(),
        "SELECT DISTINCT cabinet_id FROM question "  # noqa: S608
        f"WHERE cabinet_id IN ({marks(cabinet_ids)})",
        list(cabinet_ids),
    )
    asked = {row["cabinet_id"] for row in rows}
    return [c in asked for c in cabinet_ids]


async def unread_of_questions(question_ids: Sequence[int]) -> list[int]:
    rows = await sql.fetch(
        sql.connection(),
        "SELECT question_id, count(*) AS n FROM question_message "  # noqa: S608
        f"WHERE question_id IN ({marks(question_ids)}) AND author_kind = ? "
        "AND read_at IS NULL GROUP BY question_id",
        [*question_ids, MessageAuthor.SPECIALIST.value],
    )
    found = {row["question_id"]: int(row["n"]) for row in rows}
    return [found.get(q, 0) for q in question_ids]


async def attachments_of_messages(message_ids: Sequence[int]) -> list[list[dict]]:
    rows = await sql.fetch(
        sql.connection(),
        "SELECT id, message_id, content_type, size, width, height FROM attachment "  # noqa: S608
        f"WHERE message_id IN ({marks(message_ids)}) ORDER BY created_at, id",
        list(message_ids),
    )
    by_message: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_message[row["message_id"]].append(row)
    return [by_message[m] for m in message_ids]


async def cabinets_by_id(cabinet_ids: Sequence[int]) -> list[dict | None]:
    """The people of questions: who asked, who was assigned."""
    return await rows_in_order(
        "SELECT id, email, language, role, display_name, frozen_at FROM cabinet WHERE id IN",
        cabinet_ids,
        _cabinet,
    )


def _cabinet(row: dict[str, Any]) -> dict[str, Any]:
    row["frozen_at"] = sql.as_datetime(row["frozen_at"]) if row["frozen_at"] else None
    return row
