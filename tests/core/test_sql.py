"""models/sql.py's `fetch`: on SQLite, queries asked while one is on its way to the
database's thread go there together, in one trip; each caller still gets its own rows or
its own error."""

from __future__ import annotations

import asyncio
import contextlib

import aiosqlite
import pytest
from tortoise.transactions import in_transaction

from models import sql
from models.accounts import Account
from tests.conftest import BACKEND

pytestmark = pytest.mark.asyncio


def _trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records, for each hand-over to aiosqlite's thread, how many statements it took
    (aiosqlite's `_execute` is where every one of them passes)."""
    trips: list[int] = []
    handed = aiosqlite.Connection._execute

    async def counting(self, fn, *args, **kwargs):
        trips.append(len(args[1]) if fn is sql._run_all else 1)
        return await handed(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return trips


async def test_queries_asked_while_one_is_on_its_way_go_in_one_trip_and_each_gets_its_rows(
    db, monkeypatch
) -> None:
    await Account.create(number="1001", holder_name="A", address="x")
    await Account.create(number="1002", holder_name="B", address="y")
    conn = sql.connection()
    trips = _trips(monkeypatch)
    numbers, one, empty, two = await asyncio.gather(
        sql.fetch(conn, "SELECT number FROM account ORDER BY number"),
        sql.fetch(conn, "SELECT CAST(? AS INTEGER) AS n", [1]),
        sql.fetch(conn, "SELECT number FROM account WHERE number = ?", ["9999"]),
        sql.fetch_one(conn, "SELECT CAST(? AS INTEGER) AS n, ? AS m", [2, "two"]),
    )
    assert numbers == [{"number": "1001"}, {"number": "1002"}]
    assert one == [{"n": 1}]
    assert empty == []
    assert two == {"n": 2, "m": "two"}
    if BACKEND == "sqlite":
        assert trips == [1, 3]  # the first at once, alone; the three asked meanwhile
    # one after another: a trip each
    trips.clear()
    assert await sql.fetch(conn, "SELECT CAST(? AS INTEGER) AS n", [3]) == [{"n": 3}]
    assert await sql.fetch(conn, "SELECT CAST(? AS INTEGER) AS n", [4]) == [{"n": 4}]
    if BACKEND == "sqlite":
        assert trips == [1, 1]


async def test_together_the_queries_of_one_turn_go_in_one_trip(db, monkeypatch) -> None:
    """What DataLoaders' batches and the dashboard's look-ahead ask: the first query of
    the turn waits for the rest of it instead of setting off alone."""
    conn = sql.connection()
    trips = _trips(monkeypatch)
    with sql.together():
        rows = await asyncio.gather(
            *(sql.fetch(conn, "SELECT CAST(? AS INTEGER) AS n", [n]) for n in range(4))
        )
    assert rows == [[{"n": n}] for n in range(4)]
    if BACKEND == "sqlite":
        assert trips == [4]
    # outside `together()` again: the first goes at once
    trips.clear()
    await asyncio.gather(*(sql.fetch(conn, "SELECT 1 AS n") for _ in range(2)))
    if BACKEND == "sqlite":
        assert trips == [1, 1]


async def test_a_failing_query_fails_its_own_caller_only(db) -> None:
    conn = sql.connection()
    before, failed, after = await asyncio.gather(
        sql.fetch(conn, "SELECT CAST(? AS INTEGER) AS n", [1]),
        sql.fetch(conn, "SELECT * FROM no_such_table"),
        sql.fetch(conn, "SELECT CAST(? AS INTEGER) AS n", [2]),
        return_exceptions=True,
    )
    assert before == [{"n": 1}]
    assert after == [{"n": 2}]
    assert isinstance(failed, Exception)
    assert "no_such_table" in str(failed)
    # and the connection goes on serving
    assert await sql.fetch(conn, "SELECT CAST(? AS INTEGER) AS n", [3]) == [{"n": 3}]


@pytest.mark.parametrize("together", [False, True])
@pytest.mark.parametrize("gone_index", [0, 1, 2])
async def test_a_caller_cancelled_before_its_trip_leaves_the_others_their_rows(
    db, gone_index: int, together: bool
) -> None:
    """Whichever it was: the one on its way (or, `together()`, waiting for the rest of
    its turn), with the others waiting for it, or one of those."""
    conn = sql.connection()
    with sql.together() if together else contextlib.nullcontext():
        callers = [
            asyncio.ensure_future(sql.fetch(conn, "SELECT CAST(? AS INTEGER) AS n", [n]))
            for n in range(3)
        ]
    await asyncio.sleep(0)  # all three have asked
    callers[gone_index].cancel()
    for n, caller in enumerate(callers):
        if n == gone_index:
            with pytest.raises(asyncio.CancelledError):
                await caller
        else:
            assert await asyncio.wait_for(caller, 10) == [{"n": n}]  # never left waiting


async def test_inside_a_transaction_queries_see_its_writes_and_others_do_not_wait(db) -> None:
    """Inside, the transaction's own connection; outside, a read neither waits for the
    transaction (SQLite: its read-only connection; PostgreSQL: another of the pool's)
    nor sees what it has not committed, and sees it once it has."""
    plain = sql.connection()  # out of the transaction
    async with in_transaction():
        conn = sql.connection()
        await Account.create(number="2001", holder_name="A", address="x")
        # the transaction's own connection: its uncommitted row is there
        assert await sql.fetch(conn, "SELECT number FROM account") == [{"number": "2001"}]
        rows = await asyncio.gather(
            sql.fetch(conn, "SELECT count(*) AS n FROM account"),
            sql.fetch(conn, "SELECT number FROM account WHERE number = ?", ["2001"]),
        )
        assert rows == [[{"n": 1}], [{"number": "2001"}]]
        # from outside, alone and in a trip of several, while the transaction stays open
        outside = sql.fetch(plain, "SELECT number FROM account")
        assert await asyncio.wait_for(outside, 10) == []
        with sql.together():
            both = asyncio.gather(
                sql.fetch(plain, "SELECT count(*) AS n FROM account"),
                sql.fetch(plain, "SELECT number FROM account"),
            )
        assert await asyncio.wait_for(both, 10) == [[{"n": 0}], []]
    assert await sql.fetch(plain, "SELECT number FROM account") == [{"number": "2001"}]


async def test_execute_many_runs_a_statement_per_row_in_one_trip(db, monkeypatch) -> None:
    for number in ("2001", "2002", "2003"):
        await Account.create(number=number, holder_name="A", address="x")
    conn = sql.connection()
    trips = _trips(monkeypatch)
    async with in_transaction():
        trips.clear()  # the transaction's own BEGIN is not counted
        await sql.execute_many(
            sql.connection(),
            "UPDATE account SET holder_name = ? WHERE number = ?",
            [("Б", "2001"), ("В", "2003")],
        )
        await sql.execute_many(sql.connection(), "UPDATE account SET holder_name = ?", [])
        if BACKEND == "sqlite":
            assert trips == [1]  # both rows in one; no rows, no trip
    rows = await sql.fetch(conn, "SELECT number, holder_name FROM account ORDER BY number")
    assert [(r["number"], r["holder_name"]) for r in rows] == [
        ("2001", "Б"),
        ("2002", "A"),
        ("2003", "В"),
    ]
