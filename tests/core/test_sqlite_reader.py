"""models/sqlite.py: on SQLite, models/sql.py's reads outside a transaction go over a
read-only connection of their own; writes, and everything inside a transaction, keep the
database's one writing connection. What a caller sees is what PostgreSQL's pool gives, so
the behaviour is checked on both databases; the connection itself on SQLite alone."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from models import sql
from models.accounts import Account
from models.db import tortoise_config
from models.sqlite import ReadApartSqliteClient
from tests.conftest import BACKEND

sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's own connections")


async def test_a_write_sent_through_fetch_is_written(db) -> None:
    """A statement that writes and returns rows is no read: it takes the writing
    connection (the read-only one would refuse it)."""
    conn = sql.connection()
    await Account.create(number="3001", holder_name="A", address="x")
    await Account.create(number="3002", holder_name="A", address="x")
    deleted = await sql.fetch(
        conn, "DELETE FROM account WHERE number = ? RETURNING number", ["3002"]
    )
    assert deleted == [{"number": "3002"}]
    with sql.together():  # in a trip with a read
        updated, read = await asyncio.gather(
            sql.fetch(conn, "UPDATE account SET holder_name = ? RETURNING holder_name", ["Б"]),
            sql.fetch(conn, "SELECT count(*) AS n FROM account"),
        )
    assert updated == [{"holder_name": "Б"}] and read == [{"n": 1}]
    assert (await Account.get(number="3001")).holder_name == "Б"


async def test_a_read_after_a_write_has_returned_sees_it(db) -> None:
    conn = sql.connection()
    for n in range(20):
        await Account.create(number=f"40{n:02}", holder_name="A", address="x")
        alone = await sql.fetch(conn, "SELECT count(*) AS n FROM account")
        with sql.together():
            in_a_trip = await asyncio.gather(
                sql.fetch(conn, "SELECT count(*) AS n FROM account"),
                sql.fetch(conn, "SELECT max(number) AS m FROM account"),
            )
        assert alone == [{"n": n + 1}]
        assert in_a_trip == [[{"n": n + 1}], [{"m": f"40{n:02}"}]]


@sqlite_only
async def test_the_database_is_served_by_the_reading_client(db) -> None:
    conn = sql.connection()
    assert isinstance(conn, ReadApartSqliteClient) and conn.reads_apart
    assert tortoise_config(db.url)["connections"]["default"]["engine"] == "models.sqlite"


@sqlite_only
async def test_the_reading_connection_refuses_to_write(db) -> None:
    reader = await sql.connection().reader()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await reader.execute("DELETE FROM account")


def test_no_reading_connection_for_a_database_in_memory_or_outside_wal(tmp_path: Path) -> None:
    def client(path: str, **pragmas: str) -> ReadApartSqliteClient:
        return ReadApartSqliteClient(path, connection_name="t", **pragmas)

    assert client(str(tmp_path / "a.sqlite3")).reads_apart  # WAL, Tortoise's default
    assert not client(":memory:").reads_apart
    assert not client("file:mem?mode=memory&cache=shared").reads_apart
    assert not client(str(tmp_path / "b.sqlite3"), journal_mode="DELETE").reads_apart


@sqlite_only
async def test_closing_the_client_closes_its_reading_connection(tmp_path: Path) -> None:
    client = ReadApartSqliteClient(str(tmp_path / "c.sqlite3"), connection_name="t")
    async with client.acquire_connection() as raw:
        await raw.execute("CREATE TABLE t (n INTEGER)")
        await raw.execute("INSERT INTO t VALUES (7)")
    reader = await client.reader()
    assert await client.reader() is reader  # one, opened once
    assert list(map(tuple, await reader.execute_fetchall("SELECT n FROM t"))) == [(7,)]
    thread = reader._thread
    await client.close()
    await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive()


async def test_a_read_does_not_wait_behind_a_write_that_waits_for_a_transaction(db) -> None:
    """On SQLite a write outside the transaction waits for it to end (one writing
    connection); a read asked meanwhile must not queue behind that write."""
    plain = sql.connection()
    await Account.create(number="5001", holder_name="A", address="x")
    async with in_transaction():
        await Account.create(number="5002", holder_name="A", address="x")
        write = asyncio.ensure_future(
            sql.fetch(
                plain,
                "UPDATE account SET holder_name = ? WHERE number = ? RETURNING number",
                ["B", "5001"],
            )
        )
        await asyncio.sleep(0)  # the write is on its way
        read = sql.fetch(plain, "SELECT number, holder_name FROM account ORDER BY number")
        assert await asyncio.wait_for(read, 10) in (
            [{"number": "5001", "holder_name": "A"}],  # SQLite: the write waits
            [{"number": "5001", "holder_name": "B"}],  # PostgreSQL: it may have run
        )
    assert await write == [{"number": "5001"}]


async def test_what_is_told_after_a_transaction_waits_for_its_end_on_sqlite(db) -> None:
    """services/core/live.py tells SQLite's subscribers of a change this way: told while
    the transaction is open, a subscriber would read the state before it."""
    told: list[str] = []
    sql.after_transaction(sql.connection(), lambda: told.append("outside"))
    assert told == ["outside"]  # no transaction: at once
    async with in_transaction():
        sql.after_transaction(sql.connection(), lambda: told.append("inside"))
        await asyncio.sleep(0.05)
        assert told == (["outside"] if BACKEND == "sqlite" else ["outside", "inside"])
    for _ in range(100):
        if len(told) == 2:
            break
        await asyncio.sleep(0.01)
    assert told == ["outside", "inside"]
