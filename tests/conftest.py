"""Fixtures: the suite runs once per database backend.

`KABINET_TEST_BACKEND` picks the backend of a run: `sqlite` (the default) or
`postgres` (needs TEST_DATABASE_URL). `make test` runs the suite on SQLite and then,
when TEST_DATABASE_URL is set, again on PostgreSQL. One backend per process is not a
shortcut: Tortoise keeps per-dialect state on the model classes themselves, so two
backends in one process would silently read each other's value conversions.

Each run gets a fresh database (a temporary SQLite file, or a new PostgreSQL database
created beside TEST_DATABASE_URL's and dropped at the end), brought up by the real
migrations. Tests share it and each starts from empty tables.

GraphQL runs in `differential` mode (GRAPHQL_EXECUTOR, schema/execution.py): every query
executes through its compiled plan and through graphql-core's interpreter, and a test
fails when the two answer differently. `GRAPHQL_EXECUTOR=compiled` (or `graphql-core`)
in the environment runs the suite on one executor instead. A test that cannot see its
queries run twice (a side effect counted per execution) is marked `single_execution`
and runs on the compiled plan alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from tortoise.context import TortoiseContext, require_context

from config import Settings, use_settings
from models import db as dbmod
from models import sql
from schema import execution
from services.core.clock import clock
from services.ops import demo
from tests.support import Api

pytest_plugins = ["tests.mail_fixtures", "tests.web.browser"]

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKEND = os.environ.get("KABINET_TEST_BACKEND", "sqlite")
if BACKEND not in {"sqlite", "postgres"}:
    raise pytest.UsageError(f"KABINET_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")
if BACKEND == "postgres" and not TEST_DATABASE_URL:
    raise pytest.UsageError("KABINET_TEST_BACKEND=postgres needs TEST_DATABASE_URL")


def pytest_report_header() -> list[str]:
    where = TEST_DATABASE_URL if BACKEND == "postgres" else "a temporary file"
    return [f"kabinet database backend: {BACKEND} ({where})"]


TEST_SECRET = "test-secret-key-" + "x" * 32

# The executor of this run; a test marked single_execution runs `compiled` instead of
# `differential` (pyproject.toml's markers say why that exists).
EXECUTOR = os.environ.get("GRAPHQL_EXECUTOR", "differential")


@pytest.fixture(autouse=True)
def graphql_executor(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The test's executor, in GRAPHQL_EXECUTOR too (server processes inherit it: see
    tests/processes.py); fails the test when differential execution found a difference
    in this process (one in a server process is an EXECUTOR_MISMATCH error in its
    answer, and a line in its stderr that stop_kabinet refuses)."""
    executor = EXECUTOR
    if executor == "differential" and request.node.get_closest_marker("single_execution"):
        executor = "compiled"
    monkeypatch.setenv("GRAPHQL_EXECUTOR", executor)
    execution.MISMATCHES.clear()
    yield executor
    found, execution.MISMATCHES[:] = list(execution.MISMATCHES), []
    if found:
        pytest.fail(
            "the compiled plan and graphql-core answered differently:\n"
            + "\n".join(json.dumps(mismatch, default=str, indent=1) for mismatch in found),
            pytrace=False,
        )


@dataclass
class TestDatabase:
    backend: str
    url: str
    ctx: TortoiseContext


def postgres_url_for(database: str, base: str = TEST_DATABASE_URL) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def create_postgres_database(prefix: str = "kabinet_test") -> str:
    """Create an empty database beside TEST_DATABASE_URL's; return its URL."""
    import asyncpg

    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(TEST_DATABASE_URL.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return postgres_url_for(name)


async def drop_postgres_database(url: str) -> None:
    import asyncpg

    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(TEST_DATABASE_URL.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrate(url: str) -> None:
    """Apply the committed migrations, in a context of their own as `kabinet migrate` does."""
    with TortoiseContext() as ctx:
        await dbmod.apply_migrations(url)
        await ctx.close_connections()


async def create_empty_database(tmp: Path) -> str:
    """A new, empty database of this run's backend; returns its URL."""
    if BACKEND == "postgres":
        return await create_postgres_database()
    return f"sqlite://{tmp / f'kabinet-{secrets.token_hex(4)}.sqlite3'}"


async def drop_database(url: str) -> None:
    if BACKEND == "postgres":
        await drop_postgres_database(url)


@pytest_asyncio.fixture(scope="session")
async def shared_database(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[TestDatabase]:
    url = await create_empty_database(tmp_path_factory.mktemp("db"))
    await migrate(url)
    ctx = TortoiseContext()
    with ctx:
        await dbmod.open_db(url)
    yield TestDatabase(BACKEND, url, ctx)
    with ctx:
        await ctx.close_connections()
    await drop_database(url)


async def empty_tables() -> None:
    conn = sql.connection()
    apps = require_context().apps
    assert apps is not None
    tables = [model._meta.db_table for model in apps.get_models_iterable()]
    if sql.dialect(conn) == "postgres":
        await sql.execute(conn, f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        return
    await sql.execute(conn, "PRAGMA foreign_keys = OFF")
    for table in tables:
        await sql.execute(conn, f'DELETE FROM "{table}"')
    await sql.execute(conn, "PRAGMA foreign_keys = ON")


@pytest_asyncio.fixture
async def db(shared_database: TestDatabase) -> AsyncIterator[TestDatabase]:
    """The migrated test database with empty tables; the test runs inside its context."""
    with shared_database.ctx:
        await empty_tables()
        yield shared_database


@pytest.fixture
def settings(tmp_path: Path, db: TestDatabase, graphql_executor: str) -> Settings:
    value = Settings(
        env="test",
        graphql_executor=graphql_executor,
        database_url=db.url,
        secret_key=TEST_SECRET,
        public_web_url="https://lk.example.ru",
        var_dir=str(tmp_path / "var"),
    )
    use_settings(value)
    yield value
    use_settings(None)


def with_settings(base: Settings, **changes: object) -> Settings:
    value = dataclasses.replace(base, **changes)
    use_settings(value)
    return value


@pytest_asyncio.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """HTTPS through the real ASGI app, on the test's database (HTTPS so that the
    Secure session cookie travels as it does in a browser)."""
    from server import create_app

    app = create_app(settings, manage_db=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    """Tests that move time start from the real now and leave it so."""
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


@pytest_asyncio.fixture
async def demo_data(db: TestDatabase) -> None:
    """The demo accounts, history up to today."""
    tz = ZoneInfo("Europe/Moscow")
    await demo.seed(dt.datetime.now(tz).date(), tz)
