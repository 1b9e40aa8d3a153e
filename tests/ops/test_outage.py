"""Telling a database that is away from a bug: models.db.outage_cause, the 503 every
route answers then (routes.middleware.DatabaseAway), and the one log line it leaves."""

from __future__ import annotations

import logging

import asyncpg
import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from models import db
from routes.middleware import DatabaseAway
from schema.root import MaskUnexpected
from services.core.telemetry import OutageFilter
from tests.conftest import BACKEND, TEST_DATABASE_URL
from tests.processes import free_port


async def refused_connection() -> BaseException:
    """What asyncpg raises for a server that is not listening (nothing is, on that port)."""
    try:
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/kabinet")
    except Exception as exc:
        return exc
    raise AssertionError("something listens on a free port")


async def test_a_refused_connection_is_an_outage() -> None:
    refused = await refused_connection()
    assert isinstance(refused, OSError)
    assert db.outage_cause(refused) is refused


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.InternalClientError("cannot switch to state 15; another operation is in progress"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_errors_of_a_database_that_is_away(exc: Exception) -> None:
    assert db.outage_cause(exc) is exc


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        asyncpg.ObjectNotInPrerequisiteStateError("lastval is not yet defined in this session"),
        asyncpg.InterfaceError("cannot call Connection.fetch(): connection has been released"),
        OSError(28, "No space left on device"),
        ValueError("a bug"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_other_errors_are_not(exc: Exception) -> None:
    assert db.outage_cause(exc) is None


def test_the_cause_is_found_down_the_chain() -> None:
    cut = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    try:
        try:
            raise cut
        except asyncpg.PostgresError:
            raise RuntimeError("rollback failed") from None  # context kept, cause None
    except RuntimeError as exc:
        assert db.outage_cause(exc) is cut


@pytest.mark.skipif(BACKEND != "postgres", reason="a server that cuts a connection: PostgreSQL")
async def test_a_connection_the_server_terminated() -> None:
    url = TEST_DATABASE_URL.replace("postgres://", "postgresql://", 1)
    victim, operator = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        await operator.execute("SELECT pg_terminate_backend($1)", victim.get_server_pid())
        with pytest.raises(Exception) as failed:
            await victim.fetch("SELECT 1")
        assert db.outage_cause(failed.value) is not None, repr(failed.value)
    finally:
        victim.terminate()
        await operator.close()


# ---------------------------------------------------------------- GraphQL: masked or named


async def test_a_bug_is_masked_and_an_outage_named() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        async def bug(self) -> str | None:
            raise ValueError('SELECT secret FROM "cabinet" failed in /srv/kabinet/models.py')

        @strawberry.field
        async def away(self) -> str | None:
            raise asyncpg.AdminShutdownError("terminating connection due to administrator command")

    schema = strawberry.Schema(Query, extensions=[MaskUnexpected])
    result = await schema.execute("{ bug away }")
    errors = {tuple(e.path): e.formatted for e in result.errors}
    assert errors[("bug",)]["message"] == "Unexpected error."
    assert "extensions" not in errors[("bug",)]
    assert errors[("away",)]["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert "administrator" not in errors[("away",)]["message"]


# ---------------------------------------------------------------- every route answers 503


async def query_a_database_that_is_away(_request):
    await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/kabinet")


async def fail(_request):
    raise ValueError("a bug")


async def fail_mid_stream(_request):
    async def body():
        yield b"%PDF-"
        raise await refused_connection()

    return StreamingResponse(body(), media_type="application/pdf")


def app() -> Starlette:
    return Starlette(
        routes=[
            Route("/away", query_a_database_that_is_away),
            Route("/bug", fail),
            Route("/stream", fail_mid_stream),
            Route("/fine", lambda _request: PlainTextResponse("ok")),
        ],
        middleware=[Middleware(DatabaseAway)],
    )


async def test_a_route_answers_503_with_retry_after(caplog: pytest.LogCaptureFixture) -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/away")
        assert (await http.get("/fine")).text == "ok"
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "errors": [
            {
                "message": "The service is briefly unavailable: retry in a few seconds.",
                "extensions": {"code": "SERVICE_UNAVAILABLE", "retryAfter": 5},
            }
        ]
    }
    [record] = [r for r in caplog.records if r.name == "kabinet"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage().startswith("database unavailable: ConnectionRefusedError")


async def test_bugs_and_started_responses_are_not_its_business() -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        with pytest.raises(ValueError, match="a bug"):
            await http.get("/bug")
        with pytest.raises(OSError):  # too late for a 503: the 200 has gone out
            await http.get("/stream")


def test_a_logged_outage_is_one_line() -> None:
    cut = asyncpg.AdminShutdownError("terminating connection due to administrator command")
    record = logging.LogRecord(
        "asyncpg.pool", logging.WARNING, __file__, 1, "Failed to restore %s", ("the floor",), None
    )
    record.exc_info = (type(cut), cut, None)
    assert OutageFilter().filter(record)
    assert record.exc_info is None
    assert record.getMessage() == (
        "Failed to restore the floor: AdminShutdownError: terminating connection due to "
        "administrator command"
    )
    bug = ValueError("a bug")
    record.exc_info = (ValueError, bug, None)
    assert OutageFilter().filter(record) and record.exc_info is not None
