"""Plain SQL on a Tortoise connection, for the few paths the ORM makes slow or imprecise.

Queries are written once with `?` placeholders; on PostgreSQL they are rewritten to
`$1, $2, ...`. Bulk loads use COPY on PostgreSQL and executemany on SQLite.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.fields import DatetimeField
from tortoise.models import Model

M = TypeVar("M", bound=Model)

_QMARK = re.compile(r"\?")
# The logger Tortoise itself logs every query to, so one handler sees them all.
log = logging.getLogger("tortoise.db_client")


def connection(name: str = "default") -> BaseDBAsyncClient:
    """The current connection: the transaction's inside `in_transaction()`, else the pool."""
    return get_connection(name)


def dialect(conn: BaseDBAsyncClient) -> str:
    return "postgres" if conn.capabilities.dialect == "postgres" else "sqlite"


def render(conn: BaseDBAsyncClient, sql: str) -> str:
    if dialect(conn) != "postgres":
        return sql
    counter = iter(range(1, 10_000))
    return _QMARK.sub(lambda _m: f"${next(counter)}", sql)


async def execute(conn: BaseDBAsyncClient, sql: str, params: Sequence[Any] = ()) -> int:
    """Run one statement; return the number of rows it inserted, updated or deleted."""
    sql = render(conn, sql)
    log.debug("%s: %s", sql, params)
    async with conn.acquire_connection() as raw:
        if dialect(conn) == "postgres":
            status = await raw.execute(sql, *params)
            last = status.rsplit(" ", 1)[-1]
            return int(last) if last.isdigit() else 0
        before = raw.total_changes
        cursor = await raw.execute(sql, tuple(params))
        await cursor.close()
        return raw.total_changes - before


async def fetch(conn: BaseDBAsyncClient, sql: str, params: Sequence[Any] = ()) -> list[dict]:
    sql = render(conn, sql)
    log.debug("%s: %s", sql, params)
    async with conn.acquire_connection() as raw:
        if dialect(conn) == "postgres":
            return [dict(row) for row in await raw.fetch(sql, *params)]
        return [dict(row) for row in await raw.execute_fetchall(sql, tuple(params))]


async def fetch_one(conn: BaseDBAsyncClient, sql: str, params: Sequence[Any] = ()) -> dict | None:
    rows = await fetch(conn, sql, params)
    return rows[0] if rows else None


async def copy_rows(
    conn: BaseDBAsyncClient, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Bulk-insert rows into `table`: binary COPY on PostgreSQL, executemany on SQLite."""
    async with conn.acquire_connection() as raw:
        if dialect(conn) == "postgres":
            await raw.copy_records_to_table(table, records=rows, columns=list(columns))
            return
        marks = ", ".join("?" for _ in columns)
        cols = ", ".join(f'"{c}"' for c in columns)
        await raw.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)  # noqa: S608


_CLAIM = """
WITH due AS MATERIALIZED (
    SELECT id FROM {table}
    WHERE state IN ('pending', 'sending') AND due_at <= ?
    ORDER BY {order}
    LIMIT ?{lock}
)
UPDATE {table}
SET state = 'sending', claimed_by = ?, due_at = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM due)
RETURNING {returning}
"""


async def claim_due(
    conn: BaseDBAsyncClient,
    table: str,
    returning: str,
    *,
    now: dt.datetime,
    limit: int,
    token: str,
    lease_until: dt.datetime,
    order: str = "due_at",
) -> list[dict]:
    """Lease up to `limit` due rows of a work queue (columns `state`, `due_at`,
    `claimed_by`, `attempts`) in one atomic statement: `pending` rows that are due and
    `sending` rows whose lease ran out become `sending` under `token` until
    `lease_until`. On PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so
    workers take disjoint batches without waiting; SQLite has one writer at a time.
    `order` (trusted SQL, never input) picks which due rows go first."""
    lock = " FOR UPDATE SKIP LOCKED" if dialect(conn) == "postgres" else ""
    statement = _CLAIM.format(table=table, lock=lock, returning=returning, order=order)
    return await fetch(conn, statement, [now, limit, token, lease_until])


# SQLite hands back decimals, dates and datetimes as text; PostgreSQL as Python values.


_DATETIME_COLUMNS: dict[type, tuple[str, ...]] = {}


def instance(model: type[M], values: dict[str, Any]) -> M:
    """A model instance from a row of its columns (by column name), as the ORM builds
    it, with SQLite's datetime texts read by `datetime.fromisoformat` (C) before the ORM
    sees them: its own parser (iso8601, pure Python) was the costliest part of the
    session lookup every request makes."""
    columns = _DATETIME_COLUMNS.get(model)
    if columns is None:
        columns = _DATETIME_COLUMNS[model] = tuple(
            field.source_field or name
            for name, field in model._meta.fields_map.items()
            if isinstance(field, DatetimeField)
        )
    for column in columns:
        value = values.get(column)
        if type(value) is str:
            with contextlib.suppress(ValueError):  # anything unusual: the ORM's parser
                values[column] = dt.datetime.fromisoformat(value)
    return model._init_from_db(**values)


def as_decimal(value: Any) -> Decimal | None:
    if type(value) is str:  # SQLite's: the read models convert every amount of every row
        return Decimal(value)
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def as_date(value: Any) -> dt.date | None:
    if type(value) is str:
        return dt.date.fromisoformat(value[:10])
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def as_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
