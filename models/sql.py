"""Plain SQL on a Tortoise connection, for the few paths the ORM makes slow or imprecise.

Queries are written once with `?` placeholders; on PostgreSQL they are rewritten to
`$1, $2, ...`. Bulk loads use COPY on PostgreSQL and executemany on SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import functools
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.backends.sqlite.client import SqliteClient
from tortoise.connection import get_connection
from tortoise.fields import DatetimeField
from tortoise.models import Model

from models.sqlite import ReadApartSqliteClient

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


def marks(values: Sequence[Any]) -> str:
    """`?, ?, ?`: one placeholder per value of an IN list or a row."""
    return ", ".join("?" for _ in values)


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


async def execute_many(conn: BaseDBAsyncClient, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one statement once per row of parameters, in one trip to the database: inside
    a transaction every trip holds its connection longer (SQLite has only one)."""
    if not rows:
        return
    sql = render(conn, sql)
    log.debug("%s: %s", sql, rows)
    params = [tuple(row) for row in rows]
    async with conn.acquire_connection() as raw:
        if dialect(conn) == "postgres":
            await raw.executemany(sql, params)
        elif trips:  # on SQLite's thread, the cursor closed there too (as `_Trip` does)
            await raw._execute(_run_many, raw._conn, sql, params)
        else:  # traced: through aiosqlite's method, which tracing gives a span
            cursor = await raw.executemany(sql, params)
            await cursor.close()


def _run_many(db: Any, sql: str, params: list[tuple[Any, ...]]) -> None:
    db.executemany(sql, params).close()


async def fetch(conn: BaseDBAsyncClient, sql: str, params: Sequence[Any] = ()) -> list[dict]:
    """The rows of one query, as dicts by column name. On SQLite, outside a transaction,
    queries asked while another is on its way go to the database together (`_Trip`)."""
    sql = render(conn, sql)
    log.debug("%s: %s", sql, params)
    if dialect(conn) == "postgres":
        async with conn.acquire_connection() as raw:
            return [dict(row) for row in await raw.fetch(sql, *params)]
    if trips and isinstance(conn, SqliteClient) and not isinstance(conn, TransactionalDBClient):
        return await _Trip.take(conn, sql, tuple(params))
    return await _alone(conn, sql, tuple(params), _is_read(sql))


async def _alone(
    conn: BaseDBAsyncClient, sql: str, params: tuple[Any, ...], read: bool
) -> list[dict]:
    """One SQLite query in a trip of its own; `read`: it is a SELECT (`_is_read`)."""
    reader = await _reader(conn, read)
    if reader is not None:
        return [dict(row) for row in await reader.execute_fetchall(sql, params)]
    async with conn.acquire_connection() as raw:
        return [dict(row) for row in await raw.execute_fetchall(sql, params)]


async def _reader(conn: BaseDBAsyncClient, read: bool) -> Any:
    """The read-only connection (models/sqlite.py) statements may go over: when they are
    SELECTs (`read`) and `conn` is the database's own client, not a transaction's; else
    None (they take the connection everything else takes)."""
    if read and isinstance(conn, ReadApartSqliteClient) and conn.reads_apart:
        return await conn.reader()
    return None


_SELECT = re.compile(r"\s*SELECT\b", re.IGNORECASE)


def _is_read(sql: str) -> bool:
    """Whether a statement only reads: a SELECT (SQLite refuses to write on the reading
    connection, so a statement misjudged would fail, never write there)."""
    return _SELECT.match(sql) is not None


# Off while statements are traced (services/core/tracing.py wraps aiosqlite's methods to
# give each statement a span of its own, and a trip's statements would pass them by): then
# every query goes on its own, as it did before trips.
trips = True


class _Trip:
    """SQLite's reads, in as few trips to its thread as the load allows.

    aiosqlite runs each statement on the connection's own thread: the loop hands the
    statement over, the thread hands the rows back, and each hand-over waits for the
    other side to be scheduled and to take the GIL. A query asked while none of ours is
    on its way goes at once, alone, as it always did. Queries asked while one is on its
    way - the rest of a request's DataLoaders, which dispatch together, and other
    requests' - wait for it and then all go in one trip, which runs them one after
    another on the thread (in the order they were asked, as the connection's lock would
    have) and hands back all rows at once; what was asked meanwhile goes in the next.
    A query that fails fails for its own caller only; a caller cancelled meanwhile is
    skipped. Inside a transaction queries go one by one on the transaction's connection
    (`fetch`). A trip of SELECTs only goes over the read-only connection (models/sqlite.py),
    never waiting for a transaction to end; any other takes the connection's lock.

    Code that starts several loads at once (`together()`: DataLoaders' batches, the
    dashboard's look-ahead) knows more: its queries come in the same turn of the event
    loop. There the first query of a turn waits that one turn and sets off with the
    others, all in one trip."""

    # By (event loop, client, whether they are SELECTs): the queries waiting for a trip.
    # The loop is part of the key so that a loop dropped with a query of ours on its way
    # (its finally never run) cannot leave a later loop's queries waiting for a trip that
    # will never come; reads and writes wait apart, so that a read never waits for a
    # write's trip, which may wait for a transaction to end.
    _busy: ClassVar[dict[tuple[Any, SqliteClient, bool], list]] = {}
    _running: ClassVar[set[asyncio.Task]] = set()  # held here: the loop holds tasks weakly

    @classmethod
    async def take(cls, conn: SqliteClient, sql: str, params: tuple[Any, ...]) -> list[dict]:
        loop = asyncio.get_running_loop()
        key = (loop, conn, _is_read(sql))
        waiting = cls._busy.get(key)
        if waiting is not None:  # ours are on their way: go with the next trip
            future = loop.create_future()
            waiting.append((sql, params, future))
            return await future
        waiting = cls._busy[key] = []
        if _TOGETHER.get():
            return await cls._with_this_turn(conn, key, waiting, sql, params)
        try:
            return await _alone(conn, sql, params, key[2])
        finally:
            if waiting:  # even if this caller was cancelled: the others were not
                cls._start(conn, key)
            else:
                del cls._busy[key]

    @classmethod
    async def _with_this_turn(
        cls, conn: SqliteClient, key: Any, waiting: list, sql: str, params: tuple[Any, ...]
    ) -> list[dict]:
        """The first query of a turn in `together()`: every task ready in this turn runs
        before this one resumes, and their queries join `waiting` meanwhile."""
        own = asyncio.get_running_loop().create_future()
        waiting.append((sql, params, own))
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            own.cancel()  # the trip skips it
            raise
        finally:  # cancelled too: the others' callers are not
            cls._start(conn, key)
        return await own

    @classmethod
    def _start(cls, conn: SqliteClient, key: Any) -> None:
        task = asyncio.get_running_loop().create_task(cls._trips(conn, key))
        cls._running.add(task)
        task.add_done_callback(cls._running.discard)

    @classmethod
    async def _trips(cls, conn: SqliteClient, key: Any) -> None:
        """Trips until nothing waits: each takes all that waited when it set off."""
        try:
            while queries := cls._busy[key]:
                cls._busy[key] = []
                await cls._trip(conn, queries, key[2])
        finally:
            for *_, future in cls._busy.pop(key):  # only if cancelled: the loop is closing
                future.cancel()

    @staticmethod
    async def _trip(conn: SqliteClient, queries: list, read: bool) -> None:
        """One trip of the queries of one kind (`read`: all SELECTs; else none is)."""
        statements = [(sql, params) for sql, params, _ in queries]
        try:
            reader = await _reader(conn, read)
            # aiosqlite's own way to run a function on the connection's thread
            # (constraints.txt pins the version this is written against).
            if reader is not None:
                results = await reader._execute(_run_all, reader._conn, statements)
            else:
                async with conn.acquire_connection() as raw:
                    results = await raw._execute(_run_all, raw._conn, statements)
        except asyncio.CancelledError:
            for *_, future in queries:
                future.cancel()
            raise
        except Exception as error:  # no connection: each caller hears it
            for *_, future in queries:
                if not future.done():
                    future.set_exception(error)
            return
        for (*_, future), result in zip(queries, results, strict=True):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result([dict(row) for row in result])


_TOGETHER: contextvars.ContextVar[bool] = contextvars.ContextVar("sql_together", default=False)


@contextlib.contextmanager
def together() -> Iterator[None]:
    """Loads started inside (and the tasks and callbacks they start) ask their queries in
    the same turn of the event loop: on SQLite they go to the database in one trip
    (`_Trip`). Sequential code gains nothing from it and should not use it: its first
    query would wait a turn of the loop for company that never comes."""
    token = _TOGETHER.set(True)
    try:
        yield
    finally:
        _TOGETHER.reset(token)


def _run_all(db: Any, statements: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
    """On SQLite's thread: each statement's rows, or the error it raised."""
    results: list[Any] = []
    for sql, params in statements:
        try:
            results.append(db.execute(sql, params).fetchall())
        except Exception as error:  # handed to the query's own caller
            results.append(error)
    return results


_AFTER: set[asyncio.Task] = set()  # held here: the loop holds tasks weakly


def after_transaction(conn: BaseDBAsyncClient, callback: Callable[[], None]) -> None:
    """Call `callback` once the SQLite transaction `conn` is of has ended (at once when
    `conn` is none): what it tells then finds the change committed even by a read on the
    read-only connection, which does not wait for the transaction. Rolled back, it is
    still called - a wake-up too many, never one too few."""
    client = conn
    while isinstance(client, TransactionalDBClient):
        client = getattr(client, "_parent", None)
    if client is conn or not isinstance(client, SqliteClient):
        callback()
        return

    async def when_released() -> None:
        # a SQLite transaction holds its client's connection lock from BEGIN to its end
        async with client.acquire_connection():
            pass
        callback()

    task = asyncio.get_running_loop().create_task(when_released())
    _AFTER.add(task)
    task.add_done_callback(_AFTER.discard)


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
        cols = ", ".join(f'"{c}"' for c in columns)
        await raw.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks(columns)})', rows)  # noqa: S608


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


@functools.cache
def columns(model: type[Model], table: str = "", prefix: str = "") -> tuple[str, tuple[str, ...]]:
    """A model's columns for a plain SELECT whose rows `instance` turns into the model:
    the select list (`t."column" AS "prefix_column"` with a table alias and a prefix)
    and the names the columns have in the row, in the model's order."""
    names = tuple(model._meta.fields_db_projection.values())
    qualified = f"{table}." if table else ""
    select = ", ".join(
        f'{qualified}"{name}" AS "{prefix}{name}"' if prefix else f'{qualified}"{name}"'
        for name in names
    )
    return select, tuple(prefix + name for name in names)


def instance_of(model: type[M], row: dict[str, Any], prefix: str = "") -> M:
    """`instance` of the model from a row selected with `columns(model, ..., prefix)`."""
    if not prefix:
        return instance(model, row)
    names = columns(model, "", prefix)[1]
    start = len(prefix)
    return instance(model, {name[start:]: row[name] for name in names})


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
