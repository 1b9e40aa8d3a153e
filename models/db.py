"""Tortoise configuration shared by the server, the CLI, migrations and tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

MODEL_MODULES = [
    "models.accounts",
    "models.cabinets",
    "models.metering",
    "models.billing",
    "models.auth",
    "models.persisted",
    "models.mail",
    "models.ereceipts",
    "models.payments",
    "models.questions",
    "models.privacy_requests",
    "models.push",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    _ensure_sqlite_directory(database_url)
    return {
        "connections": {"default": _connection_config(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection_config(database_url: str) -> str | dict[str, Any]:
    """The URL as it is, but SQLite's with kabinet's client (models/sqlite.py: reads on a
    connection of their own)."""
    if not database_url.startswith("sqlite://"):
        return database_url
    from tortoise.backends.base.config_generator import expand_db_url

    return {**expand_db_url(database_url), "engine": "models.sqlite"}


def _ensure_sqlite_directory(database_url: str) -> None:
    """SQLite creates the file but not its directory (`var/` on a fresh checkout)."""
    if not database_url.startswith("sqlite://"):
        return
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def dialect_of(database_url: str) -> str:
    scheme = database_url.split(":", 1)[0]
    if scheme == "sqlite":
        return "sqlite"
    if scheme in {"postgres", "postgresql", "asyncpg"}:
        return "postgres"
    raise ValueError(f"unsupported database URL scheme {scheme!r}")


# Read by `python -m tortoise` (see [tool.tortoise] in pyproject.toml) when a developer
# runs `makemigrations`; the URL only matters for commands that touch a database.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")


async def open_db(database_url: str, *, share_across_tasks: bool = False) -> None:
    """Connect Tortoise. `share_across_tasks` makes the connection visible to every task
    of the process (the server's requests run in tasks the lifespan did not start)."""
    from tortoise import Tortoise

    await Tortoise.init(
        config=tortoise_config(database_url), _enable_global_fallback=share_across_tasks
    )


async def close_db() -> None:
    from tortoise import Tortoise

    await Tortoise.close_connections()


async def ensure_database(database_url: str) -> bool:
    """Create the PostgreSQL database the URL names when the server has none by that name
    (connecting to the server's `postgres` database to do it); True when it was created.
    SQLite creates its file by itself."""
    if dialect_of(database_url) != "postgres":
        return False
    import asyncpg

    parts = urlsplit(database_url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ValueError("DATABASE_URL names no database")
    server = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    conn = await asyncpg.connect(server)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        await conn.execute(f"CREATE DATABASE {quoted}")
        return True
    finally:
        await conn.close()


async def apply_migrations(
    database_url: str, progress: Callable[[str, str, str], object] | None = None
) -> None:
    """Bring the database schema up to the latest committed migration."""
    from tortoise.migrations.api import migrate

    await migrate(config=tortoise_config(database_url), progress=progress)


# ---------------------------------------------------------------- the database is away

# SQLSTATE classes and codes that mean "not now" rather than "never": the connection broke
# (08), an operator or a crash shut the server down or it is starting (57P01-57P03), too
# many connections (53300). A cancelled statement (57014) is not among them.
_AWAY_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def outage_cause(exc: BaseException | None) -> BaseException | None:
    """The exception in `exc`'s chain (causes and contexts) saying the database cannot be
    reached just now - refused or broken connections, a server shutting down or starting,
    a database not accepting connections - or None when `exc` is something else. Such a
    request may succeed when retried in a few seconds; it is no bug of ours."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if _is_outage(exc):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _is_outage(exc: BaseException) -> bool:
    import asyncpg
    from tortoise.exceptions import DBConnectionError

    if isinstance(exc, DBConnectionError):
        return True
    if isinstance(exc, asyncpg.PostgresError) and (exc.sqlstate or "").startswith(_AWAY_SQLSTATES):
        return True
    if isinstance(exc, asyncpg.InternalClientError):
        # The connection's protocol is out of step: the server cut it between two
        # statements (its "terminating connection" arrived first). The pool drops it.
        return True
    if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
        return True  # asyncpg's own words, never localized
    # Anything that failed while asyncpg was opening a connection (refused, reset, timed
    # out, "database is not accepting connections"): connecting is what went wrong.
    return _raised_while_connecting(exc)


def _raised_while_connecting(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__") == "asyncpg.connect_utils":
            return True
        tb = tb.tb_next
    return False


def describe_outage(cause: BaseException) -> str:
    """One log line's worth: the exception's class and first line, no traceback."""
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {first}" if first else type(cause).__name__
