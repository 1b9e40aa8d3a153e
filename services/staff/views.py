"""Specialists' views of a customer's data, written to the customer's security log.

A specialist reaches a customer only through one of the customer's questions (the
question's `customer` and `account`); every such view is recorded in the customer's own
log (`me.securityEvents`) as STAFF_VIEWED, with `detail` naming the question and the
specialist: `<question id> <specialist id> <display name>`. The same specialist reading
the same question again within STAFF_VIEW_DEDUP is not written again, so a specialist
who keeps a question open while answering does not flood the log.

The log row carries no IP address or device: the customer sees their own log, and the
specialist's network is none of theirs; who it was is in `detail`.
"""

from __future__ import annotations

import datetime as dt

from models import sql
from models.auth import SecurityEvent, SecurityEventKind
from models.cabinets import Cabinet, Role
from models.sql import marks
from services.core.clock import now
from services.core.ids import encode_id

STAFF_VIEW_DEDUP = dt.timedelta(hours=1)


def detail_of(specialist: Cabinet, question_id: int) -> str:
    return f"{_prefix(specialist, question_id)}{specialist.display_name or ''}"


def _prefix(specialist: Cabinet, question_id: int) -> str:
    """The question and the specialist, each id ended by a space (so one id that begins
    another never matches it)."""
    return f"{encode_id('Question', question_id)} {encode_id('Specialist', specialist.id)} "


async def record_view(specialist: Cabinet, question_id: int, customer_id: int) -> bool:
    """Write that `specialist` saw the data of cabinet `customer_id` through question
    `question_id`, unless they did within the last hour. True when a row was written.

    One INSERT ... SELECT ... WHERE NOT EXISTS: two parallel requests of the same
    specialist may both write (the log then holds two rows a moment apart); nothing is
    ever left unwritten."""
    if specialist.role != Role.STAFF:
        return False
    field = SecurityEvent._meta.fields_map["created_at"]
    moment = now()
    created_at = field.to_db_value(moment, None)
    since = field.to_db_value(moment - STAFF_VIEW_DEDUP, None)
    prefix = _prefix(specialist, question_id)
    written = await sql.execute(
        sql.connection(),
        "INSERT INTO security_event (cabinet_id, kind, ip, user_agent, detail, created_at) "
        "SELECT id, ?, '', '', ?, ? FROM cabinet WHERE id = ? AND NOT EXISTS ("
        "SELECT 1 FROM security_event WHERE cabinet_id = ? AND kind = ? "
        "AND created_at >= ? AND substr(detail, 1, ?) = ?)",
        [
            SecurityEventKind.STAFF_VIEWED.value,
            detail_of(specialist, question_id)[:300],
            created_at,
            customer_id,
            customer_id,
            SecurityEventKind.STAFF_VIEWED.value,
            since,
            len(prefix),
            prefix,
        ],
    )
    return written > 0


async def record_reached(
    specialist: Cabinet, cabinet_ids: list[int], account_ids: list[int]
) -> None:
    """A specialist fetched customers or accounts by id (`node`/`nodes`), not through a
    question's fields: each cabinet whose question led there gets the view, named after
    its newest such question (the same once-an-hour rule)."""
    if specialist.role != Role.STAFF or not (cabinet_ids or account_ids):
        return
    cabinets = list(dict.fromkeys(cabinet_ids)) or [0]
    accounts = list(dict.fromkeys(account_ids)) or [0]
    rows = await sql.fetch(
        sql.connection(),
        "SELECT q.cabinet_id, MAX(q.id) AS question_id FROM question q "  # noqa: S608
        f"WHERE q.cabinet_id IN ({marks(cabinets)}) OR q.account_id IN ({marks(accounts)}) "
        "OR q.cabinet_id IN (SELECT ca.cabinet_id FROM cabinet_account ca "
        f"WHERE ca.account_id IN ({marks(accounts)})) GROUP BY q.cabinet_id",
        [*cabinets, *accounts, *accounts],
    )
    for row in rows:
        await record_view(specialist, row["question_id"], row["cabinet_id"])
