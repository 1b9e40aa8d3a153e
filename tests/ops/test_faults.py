"""Faults under load, on real server processes (PostgreSQL only).

(a) The database goes away while customers submit readings, pay and look at their
dashboards: every answer meanwhile is either a success or a clean 503 (Retry-After,
SERVICE_UNAVAILABLE, no data, no traceback), /readyz says 503, and once the database is
back the same process serves again; every reading and payment that was answered as a
success is in the database.

(b) The SMTP server is down for 30 s while mail is being enqueued: the API answers as
usual, and once SMTP is back every message is delivered exactly once (by Message-ID).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
import pytest_asyncio
from tortoise.context import TortoiseContext

from config import Settings
from models import db as dbmod
from models.payments import PaymentStatus
from payments.providers.sandbox import WEBHOOK_PATH, SandboxProvider
from payments.signing import HEADER, sign
from services.core.ids import decode_id
from services.ops import demo
from tests.conftest import (
    BACKEND,
    TEST_DATABASE_URL,
    TEST_SECRET,
    create_postgres_database,
    drop_postgres_database,
    migrate,
)
from tests.mail_fixtures import SmtpSink
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready
from tests.support import LOGIN, RESET

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="a database that goes away and comes back is a server's; SQLite is a file",
)

MSK = ZoneInfo("Europe/Moscow")
PUBLIC_URL = "https://lk.example.ru"
CABINETS = [email for email, _language, _numbers in demo.DEMO_CABINETS]

DASHBOARD = """{ me { email accounts { id number balance
  meters { id lastReading { takenOn values { zone value } } }
  readings(first: 12) { totalCount nodes { id takenOn } }
  receipts(first: 12) { totalCount nodes { id period amountDue } } } } }"""
SUBMIT = """mutation($input: SubmitMeterReadingInput!) { submitMeterReading(input: $input) {
  reading { id status } userErrors { code message } } }"""
PAY = """mutation($input: PayBillInput!) { payBill(input: $input) {
  payment { id status confirmationUrl } userErrors { code message } } }"""


def pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def admin(statement: str) -> None:
    """Run a statement on the server's `postgres` database, as the operator would."""
    conn = await asyncpg.connect(pg(TEST_DATABASE_URL))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest_asyncio.fixture
async def own_database() -> AsyncIterator[str]:
    """A database of the test's own (it is taken away), migrated, with the demo data."""
    url = await create_postgres_database("kabinet_fault")
    try:
        await migrate(url)
        with TortoiseContext() as ctx:
            await dbmod.open_db(url)
            await demo.seed(dt.datetime.now(MSK).date(), MSK)
            await demo.seed_cabinets()
            await ctx.close_connections()
        yield url
    finally:
        await drop_postgres_database(url)


@contextlib.asynccontextmanager
async def kabinet(
    url: str, tmp_path: Path, **env: str
) -> AsyncIterator[tuple[httpx.AsyncClient, subprocess.Popen]]:
    """A server process on `url` and an HTTP client for it."""
    port = free_port()
    process = start_kabinet(
        "serve",
        "--port",
        str(port),
        url=url,
        tmp_path=tmp_path,
        RATE_LIMIT_PER_MINUTE="0",  # every request comes from one address
        READING_WINDOW_START_DAY="1",  # readings are accepted whatever today is
        READING_WINDOW_END_DAY="31",
        LOG_LEVEL="warning",
        **env,
    )
    try:
        await wait_until_ready(port, process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield http, process
    finally:
        _code, err = stop_kabinet(process)
        assert "Traceback" not in err, err


async def log_in(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    variables = {"input": {"email": email, "password": demo.DEMO_PASSWORD}}
    response = await http.post("/graphql", json={"query": LOGIN, "variables": variables})
    return {"Authorization": f"Bearer {response.json()['data']['login']['token']}"}


def sandbox() -> SandboxProvider:
    """The sandbox acquirer as the server has it (same SECRET_KEY), to send its webhook."""
    return SandboxProvider(Settings(secret_key=TEST_SECRET, public_web_url=PUBLIC_URL))


async def notify_paid(http: httpx.AsyncClient, confirmation_url: str) -> httpx.Response:
    """What the acquirer sends once the customer pressed Pay on its page."""
    provider = sandbox()
    order = provider.orders.loads(urlsplit(confirmation_url).path.rsplit("/", 1)[1])
    body = provider.notification(order, PaymentStatus.SUCCEEDED)
    headers = {"Content-Type": "application/json", HEADER: sign(provider.secret, body)}
    return await http.post(WEBHOOK_PATH, content=body, headers=headers)


# ---------------------------------------------------------------- (a) the database goes away


@dataclass
class Outcomes:
    """Every answer of the load, sorted: a success, a clean "unavailable", or neither."""

    phase: str = "before"
    ok: dict[str, int] = field(default_factory=dict)  # phase -> successes
    unavailable: int = 0
    bad: list[str] = field(default_factory=list)
    readings: dict[str, int] = field(default_factory=dict)  # idempotency key -> reading id
    payments: dict[str, int] = field(default_factory=dict)  # idempotency key -> payment id
    paid: set[int] = field(default_factory=set)  # payments whose webhook answered 200
    ready: dict[str, set[int]] = field(default_factory=dict)  # phase -> /readyz statuses

    def success(self) -> None:
        self.ok[self.phase] = self.ok.get(self.phase, 0) + 1

    def sort(self, what: str, response: httpx.Response) -> dict | None:
        """The JSON body of a success, None for a clean 503; anything else is noted."""
        body = _json(response)
        if response.status_code == 503:
            errors = body.get("errors") or [{}]
            if (
                response.headers.get("retry-after", "").isdigit()
                and "data" not in body
                and [e.get("extensions", {}).get("code") for e in errors] == ["SERVICE_UNAVAILABLE"]
            ):
                self.unavailable += 1
                return None
        elif response.status_code == 200 and not body.get("errors"):
            payload = next(iter((body.get("data") or {}).values()), None)
            if not (isinstance(payload, dict) and payload.get("userErrors")):
                self.success()
                return body
        self.bad.append(f"{what} in {self.phase}: {response.status_code} {response.text[:300]}")
        return None


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def until(stop: asyncio.Event, step: Callable[[], Awaitable[float]]) -> None:
    """Call `step` until stopped; it returns the pause before the next call."""
    while not stop.is_set():
        pause = await step()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)


def graphql(
    http: httpx.AsyncClient, query: str, variables: dict, headers: dict[str, str]
) -> Callable[[], Awaitable[httpx.Response]]:
    """The request, ready to be sent again as it is (same idempotency key)."""
    return lambda: http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def with_retries(
    outcomes: Outcomes, stop: asyncio.Event, what: str, send: Callable[[], Awaitable]
) -> dict | None:
    """Send until a success (a client retries a 503, with the same idempotency key)."""
    while not stop.is_set():
        body = outcomes.sort(what, await send())
        if body is not None:
            return body
        await asyncio.sleep(0.2)
    return None


async def submitter(http, headers, meter: dict, outcomes: Outcomes, stop) -> None:
    """Readings of one meter, each a little higher than the last, each with its own key."""
    values = {v["zone"]: Decimal(v["value"]) for v in meter["lastReading"]["values"]}
    for step in itertools.count(1):
        if stop.is_set():
            return
        key = uuid.uuid4().hex
        variables = {
            "input": {
                "meterId": meter["id"],
                "values": [
                    {"zone": z, "value": str(v + Decimal("0.1") * step)} for z, v in values.items()
                ],
                "takenOn": dt.datetime.now(MSK).date().isoformat(),
                "confirmUnusual": True,
                "idempotencyKey": key,
            }
        }
        body = await with_retries(
            outcomes, stop, "submitMeterReading", graphql(http, SUBMIT, variables, headers)
        )
        if body is not None:
            reading = body["data"]["submitMeterReading"]["reading"]
            outcomes.readings[key] = decode_id("MeterReading", reading["id"])
        await asyncio.sleep(0.05)


async def payer(http, headers, account_id: str, outcomes: Outcomes, stop) -> None:
    """payBill, then the acquirer's webhook saying it was paid (each retried on a 503)."""
    while not stop.is_set():
        key = uuid.uuid4().hex
        variables = {"input": {"accountId": account_id, "amount": "10.00", "idempotencyKey": key}}
        body = await with_retries(outcomes, stop, "payBill", graphql(http, PAY, variables, headers))
        if body is None:
            return
        payment = body["data"]["payBill"]["payment"]
        outcomes.payments[key] = decode_id("OnlinePayment", payment["id"])
        url = payment["confirmationUrl"]
        if await with_retries(outcomes, stop, "webhook", lambda u=url: notify_paid(http, u)):
            outcomes.paid.add(outcomes.payments[key])
        await asyncio.sleep(0.05)


async def test_database_away_and_back_under_load(own_database: str, tmp_path: Path) -> None:
    name = urlsplit(own_database).path.lstrip("/")
    async with kabinet(own_database, tmp_path, MAIL_WORKER_IN_PROCESS="false") as (http, server):
        outcomes, stop = Outcomes(), asyncio.Event()
        drivers = []
        for email in CABINETS:
            headers = await log_in(http, email)
            me = (await http.post("/graphql", json={"query": DASHBOARD}, headers=headers)).json()
            for account in me["data"]["me"]["accounts"]:
                for meter in account["meters"]:
                    drivers.append(submitter(http, headers, meter, outcomes, stop))
                drivers.append(payer(http, headers, account["id"], outcomes, stop))

            async def dashboard(h=headers) -> float:
                outcomes.sort(
                    "dashboard",
                    await http.post("/graphql", json={"query": DASHBOARD}, headers=h),
                )
                return 0.05

            drivers.append(until(stop, dashboard))

        async def login() -> float:
            variables = {"input": {"email": CABINETS[0], "password": demo.DEMO_PASSWORD}}
            response = await http.post("/graphql", json={"query": LOGIN, "variables": variables})
            outcomes.sort("login", response)
            return 0.3

        async def readiness() -> float:
            status = (await http.get("/readyz")).status_code
            outcomes.ready.setdefault(outcomes.phase, set()).add(status)
            return 0.1

        drivers += [until(stop, login), until(stop, readiness)]
        load = asyncio.gather(*drivers)
        try:
            await wait_for(lambda: outcomes.ok.get("before", 0) >= 20, "load to start")

            # the database goes away: no new connections, and the open ones are cut
            await admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )
            outcomes.phase = "away"
            await wait_for(
                lambda: outcomes.unavailable >= 20 and 503 in outcomes.ready.get("away", ()),
                "clean 503s while the database is away",
            )
            await asyncio.sleep(1)

            # ... and comes back; the same process serves again, no restart
            await admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            outcomes.phase = "back"
            await wait_for(lambda: outcomes.ok.get("back", 0) >= 30, "the load to recover")
        finally:
            stop.set()
            await load
        assert server.poll() is None  # the process that served before serves after
        assert (await http.get("/readyz")).status_code == 200

    print(  # shown with -s: what the load saw
        f"successes {outcomes.ok}, clean 503s {outcomes.unavailable}, readings "
        f"{len(outcomes.readings)}, payments {len(outcomes.payments)} ({len(outcomes.paid)} paid)"
    )
    assert outcomes.bad == [], outcomes.bad[:5]
    assert outcomes.ready["away"] >= {503} and outcomes.ready["back"] >= {200}
    assert outcomes.readings and outcomes.payments and outcomes.paid
    await assert_all_stored(own_database, outcomes)


async def wait_for(condition: Callable[[], bool], what: str, within: float = 60) -> None:
    for _ in range(int(within * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"waited {within} s for {what}")


async def assert_all_stored(url: str, outcomes: Outcomes) -> None:
    """Every success the clients saw is in the database: the reading each submission's
    key names, each payment, and for each confirmed one the ledger entry and its mail."""
    conn = await asyncpg.connect(pg(url))
    try:
        rows = await conn.fetch(
            "SELECT s.idempotency_key, s.reading_id FROM reading_submission s "
            "JOIN meter_reading r ON r.id = s.reading_id WHERE s.idempotency_key = ANY($1)",
            list(outcomes.readings),
        )
        assert {r["idempotency_key"]: r["reading_id"] for r in rows} == outcomes.readings
        rows = await conn.fetch(
            "SELECT idempotency_key, id, status, ledger_payment_id FROM online_payment "
            "WHERE idempotency_key = ANY($1)",
            list(outcomes.payments),
        )
        assert {r["idempotency_key"]: r["id"] for r in rows} == outcomes.payments
        confirmed = {r["id"]: r for r in rows if r["id"] in outcomes.paid}
        assert len(confirmed) == len(outcomes.paid)
        assert all(
            r["status"] == "succeeded" and r["ledger_payment_id"] for r in confirmed.values()
        )
        ledger = await conn.fetchval(
            "SELECT count(*) FROM payment WHERE id = ANY($1)",
            [r["ledger_payment_id"] for r in confirmed.values()],
        )
        assert ledger == len(confirmed)
        mailed = await conn.fetchval(
            "SELECT count(*) FROM mail_outbox WHERE template = 'payment_received'"
        )
        assert mailed >= len(confirmed)  # written with the payment, in its transaction
    finally:
        await conn.close()


# ---------------------------------------------------------------- (b) SMTP goes away

SMTP_OUTAGE_SECONDS = 30


async def test_mail_waits_out_an_smtp_outage(
    own_database: str, smtp: SmtpSink, tmp_path: Path
) -> None:
    """The worker's backoff is made short (1 s doubling to at most 3 s instead of 30 s to
    an hour) so that the mail goes out within seconds of SMTP's return; the outage
    itself is the issue's 30 s. SMTP is stopped between batches: a message cut off in the
    middle of its DATA would rightly be sent again (at least once, same Message-ID)."""
    async with kabinet(
        own_database,
        tmp_path,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp.port),
        SMTP_TLS="none",
        SMTP_TIMEOUT="2",
        MAIL_POLL_SECONDS="0.2",
        MAIL_RETRY_BASE_SECONDS="1",
        MAIL_RETRY_MAX_SECONDS="3",
    ) as (http, _server):

        async def enqueue(i: int) -> None:
            """A reset link, or a paid bill's receipt: mail written with the change."""
            email = CABINETS[i // 2 % len(CABINETS)]
            if i % 2:
                response = await http.post(
                    "/graphql", json={"query": RESET, "variables": {"e": email}}
                )
                assert response.json()["data"]["requestPasswordReset"]["accepted"], response.text
                return
            headers = await log_in(http, email)
            me = (await http.post("/graphql", json={"query": DASHBOARD}, headers=headers)).json()
            variables = {
                "input": {
                    "accountId": me["data"]["me"]["accounts"][0]["id"],
                    "amount": "10.00",
                    "idempotencyKey": uuid.uuid4().hex,
                }
            }
            paid = await http.post(
                "/graphql", json={"query": PAY, "variables": variables}, headers=headers
            )
            payment = paid.json()["data"]["payBill"]["payment"]
            assert (await notify_paid(http, payment["confirmationUrl"])).status_code == 200

        await enqueue(0)
        await enqueue(1)
        await smtp.wait_for(2, within=30)

        smtp.stop()
        loop = asyncio.get_running_loop()
        back_at = loop.time() + SMTP_OUTAGE_SECONDS
        during = 0
        while loop.time() < back_at - 3:  # the API works meanwhile; mail waits
            await enqueue(2 + during)
            during += 1
            await asyncio.sleep(3)
        await asyncio.sleep(max(back_at - loop.time(), 0))
        assert len(smtp.messages) == 2  # nothing got through while SMTP was down
        waiting = [row for row in await outbox(own_database) if row["state"] != "sent"]
        assert len(waiting) == during  # each tried, put back, waiting for the next attempt
        assert all(row["state"] == "pending" and row["last_error"] for row in waiting), waiting
        smtp.start()

        await smtp.wait_for(2 + during, within=30)
        await asyncio.sleep(1)  # time for a duplicate, if there were one, to arrive
    print(f"mail: 2 before the outage, {during} during it")
    stored = await outbox(own_database)
    assert {row["state"] for row in stored} == {"sent"}
    copies = smtp.by_message_id()
    assert sorted(copies) == sorted(row["message_id"] for row in stored)
    assert all(len(c) == 1 for c in copies.values())


async def outbox(url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(pg(url))
    try:
        return await conn.fetch("SELECT message_id, state, last_error FROM mail_outbox")
    finally:
        await conn.close()
