"""bench/scale.py in miniature: its generated data keeps every constraint the migrations
declare, and the statements it explains are those the dashboard and recovery send."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest
from tortoise.context import TortoiseContext

from bench import scale, scale_data
from tests.conftest import BACKEND, create_postgres_database, drop_postgres_database, migrate

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="the bench loads PostgreSQL by COPY")

ACCOUNTS = 60


async def foreign_keys(conn: asyncpg.Connection) -> list[tuple[str, str, bool]]:
    rows = await conn.fetch(
        "SELECT conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS def, convalidated "
        "FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2"
    )
    return [(r["tbl"], r["def"], r["convalidated"]) for r in rows]


async def test_generated_data_keeps_the_constraints_and_measures_both_paths() -> None:
    url = await create_postgres_database("kabinet_scale")
    try:
        await migrate(url)
        conn = await asyncpg.connect(scale_data.pg_url(url))
        try:
            before = await foreign_keys(conn)
            moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
            generator = scale_data.Generator(36, moment, "test")
            await scale_data.load(url, generator, ACCOUNTS)

            # Given the load, the foreign keys are back as they were, and checked.
            assert await foreign_keys(conn) == before
            assert all(validated for _, _, validated in before)
            counts = {
                t: await conn.fetchval(f'SELECT count(*) FROM "{t}"')
                for t in ("account", "meter", "receipt", "cabinet", "cabinet_account")
            }
            assert counts["account"] == ACCOUNTS
            assert ACCOUNTS <= counts["meter"] <= 3 * ACCOUNTS
            assert counts["receipt"] == 36 * ACCOUNTS
            assert 0 < counts["cabinet"] < counts["cabinet_account"] < ACCOUNTS
            # New rows the app inserts get ids after the generated ones.
            for table in scale_data.COLUMNS:
                assert await conn.fetchval(
                    f"SELECT nextval(pg_get_serial_sequence('\"{table}\"', 'id')) > "
                    f'(SELECT coalesce(max(id), 0) FROM "{table}")'
                )
        finally:
            await conn.close()

        # When one dashboard and one recovery run through the app, both succeed (the bench
        # checks their answers) and every statement they send can be explained.
        work = await scale.workload(url, ACCOUNTS, "test", cabinets=3)
        assert len(work.dashboards) == 3 and work.proofs
        with TortoiseContext():
            statements = await scale.capture(url, work)
        assert statements["dashboard"] and statements["recovery"]
        sizes = await scale.table_sizes(url)
        assert await scale.explain(url, statements, sizes) == []  # no table is big here
    finally:
        await drop_postgres_database(url)
