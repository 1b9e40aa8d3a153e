"""The committed migrations build exactly the schema the models describe."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tortoise.context import TortoiseContext, require_context
from tortoise.migrations.autodetector import MigrationAutodetector

from models import db as dbmod
from models import sql
from tests.conftest import create_empty_database, drop_database, migrate


async def table_columns(conn, table: str) -> set[str]:
    if sql.dialect(conn) == "postgres":
        rows = await sql.fetch(
            conn,
            "SELECT column_name AS name FROM information_schema.columns WHERE table_name = ?",
            [table],
        )
    else:
        rows = await sql.fetch(conn, f'PRAGMA table_info("{table}")')
    return {row["name"] for row in rows}


async def index_columns(conn, table: str) -> set[tuple[str, ...]]:
    """Column lists of every index on the table (unique constraints included)."""
    if sql.dialect(conn) == "postgres":
        rows = await sql.fetch(
            conn,
            "SELECT array_agg(a.attname ORDER BY k.n)::text[] AS cols FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE t.relname = ? GROUP BY i.indexrelid",
            [table],
        )
        return {tuple(row["cols"]) for row in rows}
    found = set()
    for index in await sql.fetch(conn, f'PRAGMA index_list("{table}")'):
        info = await sql.fetch(conn, f'PRAGMA index_info("{index["name"]}")')
        found.add(tuple(row["name"] for row in sorted(info, key=lambda r: r["seqno"])))
    return found


async def test_migrations_apply_to_an_empty_database_and_are_idempotent(
    tmp_path: Path, shared_database
) -> None:
    url = await create_empty_database(tmp_path)
    try:
        await migrate(url)
        await migrate(url)  # nothing left to apply: must not fail or duplicate anything
        with TortoiseContext() as ctx:
            await dbmod.open_db(url)
            conn = sql.connection()
            applied = await sql.fetch(conn, "SELECT app, name FROM tortoise_migrations")
            names = sorted(row["name"] for row in applied)
            on_disk = sorted(
                p.stem for p in Path(dbmod.__file__).parent.joinpath("migrations").glob("0*.py")
            )
            assert names == on_disk
            assert await table_columns(conn, "payment")
            await ctx.close_connections()
    finally:
        await drop_database(url)


async def test_models_have_no_changes_without_a_migration(db) -> None:
    apps_config = dbmod.tortoise_config(db.url)["apps"]
    detector = MigrationAutodetector(require_context().apps, apps_config)
    writers = await detector.changes()
    pending = [op.describe() for writer in writers for op in writer.operations]
    assert not pending, f"models changed without a migration (run `make migrations`): {pending}"


async def test_tables_match_the_models(db) -> None:
    conn = sql.connection()
    apps = require_context().apps
    assert apps is not None
    for model in apps.get_models_iterable():
        meta = model._meta
        expected = set(meta.fields_db_projection.values())
        assert await table_columns(conn, meta.db_table) == expected, meta.db_table
        indexes = await index_columns(conn, meta.db_table)
        for columns in meta.unique_together:
            names = tuple(meta.fields_db_projection.get(c, c) for c in columns)
            names = tuple(
                meta.fields_map[c].source_field if c in meta.fk_fields else n
                for c, n in zip(columns, names, strict=True)
            )
            assert names in indexes, (meta.db_table, names)
        for index in meta.indexes:
            assert tuple(index.fields) in indexes, (meta.db_table, index.fields)


async def test_lookups_the_api_makes_are_indexed(db) -> None:
    conn = sql.connection()
    assert ("account_id", "paid_at") in await index_columns(conn, "payment")
    assert ("meter_id", "taken_on", "source") in await index_columns(conn, "meter_reading")
    assert ("account_id", "period") in await index_columns(conn, "receipt")
    assert ("number",) in await index_columns(conn, "account")
    assert ("account_id",) in await index_columns(conn, "meter")
    assert ("cabinet_id",) in await index_columns(conn, "cabinet_account")
    submissions = await index_columns(conn, "reading_submission")
    assert ("cabinet_id", "idempotency_key") in submissions
    assert ("meter_id", "window_start") in submissions
    online = await index_columns(conn, "online_payment")
    assert ("cabinet_id", "idempotency_key") in online
    assert ("provider", "external_id") in online
    assert ("status", "created_at") in online
    assert ("external_id",) in await index_columns(conn, "payment")
    # Questions: the customer's list, the staff queue, a question's messages, photos
    assert ("cabinet_id", "created_at") in await index_columns(conn, "question")
    assert ("status", "waiting_since") in await index_columns(conn, "question")
    assert ("assignee_id", "status", "waiting_since") in await index_columns(conn, "question")
    assert ("question_id", "created_at") in await index_columns(conn, "question_message")
    attachment = await index_columns(conn, "attachment")
    assert {("cabinet_id", "message_id"), ("message_id", "created_at")} <= attachment
    assert ("storage_key",) in attachment
    assert ("attachment_id",) in await index_columns(conn, "attachment_content")


async def test_photos_kept_on_disk_move_into_the_database(
    tmp_path: Path, settings, shared_database
) -> None:
    """Before 0009 a photo's bytes were a file under VAR_DIR/attachments; migrating
    copies them into attachment_content, so no photo is lost on the way."""
    from tortoise.migrations.api import migrate as migrate_to

    url = await create_empty_database(tmp_path)
    photo = b"\xff\xd8\xff\xe0 the bytes of a photo"
    key = "ab" + "0" * 30
    stored = Path(settings.var_dir, "attachments", key[:2], key)
    stored.parent.mkdir(parents=True)
    stored.write_bytes(photo)
    moment = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
    try:
        # Each step in a context of its own, as `kabinet migrate` runs: a second
        # Tortoise.init in one context would leave the first connection open.
        with TortoiseContext() as ctx:
            await migrate_to(
                config=dbmod.tortoise_config(url), target="models.0008_cabinet_disabled"
            )
            await ctx.close_connections()
        with TortoiseContext() as ctx:
            await dbmod.open_db(url)
            conn = sql.connection()
            await sql.execute(
                conn,
                "INSERT INTO cabinet (id, email, password_hash, language, role, display_name, "
                "created_at, updated_at) VALUES (7, 'a@mail.ru', 'x', 'ru', 'customer', '', ?, ?)",
                [moment, moment],
            )
            for pk, storage_key in ((1, key), (2, "cd" + "1" * 30)):  # the second file is gone
                await sql.execute(
                    conn,
                    "INSERT INTO attachment (id, cabinet_id, storage_key, content_type, size, "
                    "width, height, sha256, created_at) VALUES (?, 7, ?, 'image/jpeg', ?, 1, 1, "
                    "'', ?)",
                    [pk, storage_key, len(photo), moment],
                )
            await ctx.close_connections()
        await migrate(url)
        with TortoiseContext() as ctx:
            await dbmod.open_db(url)
            conn = sql.connection()
            rows = await sql.fetch(conn, "SELECT attachment_id, data FROM attachment_content")
            assert [(row["attachment_id"], bytes(row["data"])) for row in rows] == [(1, photo)]
            await ctx.close_connections()
    finally:
        await drop_database(url)


async def test_guest_payments_have_no_cabinet_and_the_table_keeps_its_constraints(db) -> None:
    """0017 makes online_payment.cabinet_id nullable without rebuilding the table: its
    unique constraints and indexes are all still there, and the column takes NULL."""
    conn = sql.connection()
    online = await index_columns(conn, "online_payment")
    assert ("cabinet_id", "idempotency_key") in online
    assert ("provider", "external_id") in online
    assert ("status", "created_at") in online
    assert ("account_id", "created_at") in online
    if sql.dialect(conn) == "postgres":
        rows = await sql.fetch(
            conn,
            "SELECT is_nullable FROM information_schema.columns "
            "WHERE table_name = 'online_payment' AND column_name = 'cabinet_id'",
        )
        assert rows[0]["is_nullable"] == "YES"
    else:
        columns = await sql.fetch(conn, 'PRAGMA table_info("online_payment")')
        assert next(c for c in columns if c["name"] == "cabinet_id")["notnull"] == 0
        fks = await sql.fetch(conn, 'PRAGMA foreign_key_list("online_payment")')
        assert {fk["table"] for fk in fks} >= {"cabinet", "account", "payment"}
