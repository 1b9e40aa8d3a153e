"""A fixed-rate load of the realistic mix: throughput, latency, errors and memory.

    python bench/load.py [--duration 60] [--database-url URL] [--cabinets 50]

A server process (uvicorn, one worker) serves the app on PostgreSQL (`--database-url`,
else TEST_DATABASE_URL; a fresh database beside it) or, with neither, on SQLite. The data
is the demo's (two years of monthly readings, payments and receipts with zone lines) once
per five cabinets, each copy under new account numbers and meter serials; each copy's
cabinets hold two accounts, one, one, one and one. The reading window is open all month.

The mix, of every 100 requests: 40 dashboards (bench/dashboard.py's query), 20 pages of
an account's readings history, 20 receipts lists, 15 submitted readings (each with a key
of its own, a little higher than the meter's last, so that every one is accepted) and 5
logins (Argon2), from random cabinets.

1. Closed loop (`--concurrency` clients, each sending its next request when the last is
   answered) for `--max-seconds`: the maximum throughput.
2. Open loop at 50% and then 80% of it for `--duration` seconds each: requests start on a
   fixed schedule whatever the answers, and latency counts from the scheduled start, so
   a stalled server is not excused by the requests it delayed (no coordinated omission).

Prints per phase the throughput achieved, p50 and p99, the errors (any non-200 answer,
any GraphQL error, any userError, any transport failure; goal: 0) and the server's RSS
(VmRSS) before and after, and the CPU the server and the client used beside the machine's
load average (other work on the machine takes the server's CPU, and the figures with it);
then p99 at 80% / p99 at 50% and RSS at the end / after the warm-up (goal: flat).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Fresh, served  # noqa: E402
from bench.dashboard import QUERY as DASHBOARD  # noqa: E402

MSK = ZoneInfo("Europe/Moscow")
PASSWORD = "bench-Load-Password-1"
CABINET_SHAPES = ((0, 1), (2,), (3,), (4,), (5,))  # demo accounts held by each cabinet
HISTORY = """query History($id: ID!) { account(id: $id) { readings(first: 24) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { id takenOn source status values { zone value } } } } }"""
RECEIPTS = """query Receipts($id: ID!) { account(id: $id) { receipts(first: 12) {
  totalCount nodes { id period issuedOn dueOn charged paid amountDue } } } }"""
SUBMIT = """mutation Submit($input: SubmitMeterReadingInput!) { submitMeterReading(input: $input) {
  reading { id status } consumption { zone kwh } estimatedCharge userErrors { code message } } }"""
LOGIN = """mutation Login($e: String!, $p: String!) { login(input: {email: $e, password: $p}) {
  token userErrors { code } } }"""
MIX = {"dashboard": 40, "history": 20, "receipts": 20, "submit": 15, "login": 5}
DEADLINE = 15  # seconds a request may take before it counts as an error


# ---------------------------------------------------------------- data


@dataclass
class Meter:
    id: str
    values: dict[int, Decimal]  # its last reading's; each submission goes a little higher
    submitted: int = 0


@dataclass
class Cabinet:
    email: str
    token: str
    accounts: list[str]
    meters: list[Meter] = field(default_factory=list)


def copied_demo(copies: int, today: dt.date) -> dict[str, list[list[str]]]:
    """The demo's five exports `copies` times, each copy under its own account numbers
    (the first two digits, 00 in the demo, become the copy's) and meter serials."""
    from services.ops import demo

    files = demo.build(today)
    renames = [(a.number, a.meter_serial) for a in demo.ACCOUNTS]
    out: dict[str, list[list[str]]] = {}
    for kind in ("accounts", "meters", "readings", "payments", "receipts"):
        header, *rows = getattr(files, kind)
        out[kind] = [header]
        for copy in range(1, copies + 1):
            for row in rows:
                cells = list(row)
                for number, serial in renames:
                    new_number = f"{copy:02d}{number[2:]}"
                    cells = [
                        c.replace(number, new_number).replace(serial, f"C{copy:02d}-{serial}")
                        for c in cells
                    ]
                out[kind].append(cells)
    return out


async def prepare(url: str, cabinets: int) -> list[Cabinet]:
    """Migrate, import the copies, create the cabinets with their sessions."""
    from models import db
    from models.accounts import Account
    from models.cabinets import Cabinet as CabinetRow
    from models.cabinets import CabinetAccount
    from models.metering import Meter as MeterRow
    from models.metering import MeterReading, ReadingStatus
    from services.billing import importer as billing_import
    from services.core.ids import encode_id
    from services.ops import demo
    from services.security import sessions
    from services.security.passwords import hash_password

    copies = math.ceil(cabinets / len(CABINET_SHAPES))
    await db.apply_migrations(url)
    await db.close_db()
    await db.open_db(url)
    for kind, rows in copied_demo(copies, dt.datetime.now(MSK).date()).items():
        text = io.StringIO()
        csv.writer(text, delimiter=";", lineterminator="\n").writerows(rows)
        await billing_import.import_stream(
            billing_import.KINDS[kind], io.BytesIO(text.getvalue().encode()), tz=MSK
        )
    password_hash = await hash_password(PASSWORD)
    prepared = []
    for copy in range(1, copies + 1):
        numbers = [f"{copy:02d}{a.number[2:]}" for a in demo.ACCOUNTS]
        for index, shape in enumerate(CABINET_SHAPES):
            email = f"c{copy}-{index}@bench.example"
            row = await CabinetRow.create(email=email, password_hash=password_hash)
            accounts = [await Account.get(number=numbers[i]) for i in shape]
            for account in accounts:
                await CabinetAccount.create(cabinet=row, account=account)
            token, _ = await sessions.create(row, sessions.Client("127.0.0.1", "bench"))
            cabinet = Cabinet(email, token, [encode_id("Account", a.id) for a in accounts])
            for meter in await MeterRow.filter(account_id__in=[a.id for a in accounts]):
                last = (
                    await MeterReading.filter(meter_id=meter.id, status=ReadingStatus.ACCEPTED)
                    .order_by("-taken_on", "-id")
                    .first()
                )
                values = {z: getattr(last, f"t{z}") for z in range(1, meter.zones + 1)}
                cabinet.meters.append(Meter(encode_id("Meter", meter.id), values))
            prepared.append(cabinet)
    await db.close_db()
    return prepared[:cabinets]


# ---------------------------------------------------------------- the requests


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> ms
    errors: list[str] = field(default_factory=list)
    answered: int = 0
    started: float = 0.0
    finished: float = 0.0

    def add(self, kind: str, ms: float, error: str | None) -> None:
        self.answered += 1
        self.latencies.setdefault(kind, []).append(ms)
        if error is not None:
            self.errors.append(f"{kind}: {error}")

    def all(self) -> list[float]:
        return [ms for values in self.latencies.values() for ms in values]


def problem(response, kind: str) -> str | None:
    """None for a clean success; else what was wrong with the answer."""
    if response.status_code != 200:
        return f"HTTP {response.status_code} {response.text[:200]}"
    body = response.json()
    if body.get("errors"):
        return f"errors {body['errors']}"
    payload = next(iter((body.get("data") or {}).values()), None)
    if isinstance(payload, dict) and payload.get("userErrors"):
        return f"userErrors {payload['userErrors']}"
    if kind == "login" and not payload.get("token"):
        return "no token"
    return None


class Mix:
    """The next request of the mix, for a random cabinet (seeded: runs are comparable)."""

    def __init__(self, http, cabinets: list[Cabinet]) -> None:
        self.http = http
        self.cabinets = cabinets
        self.rng = random.Random(20261125)  # a benchmark's dice, seeded: runs are comparable
        self.kinds = list(MIX)
        self.weights = list(MIX.values())

    def next(self) -> tuple[str, Callable[[], Awaitable]]:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        cabinet = self.rng.choice(self.cabinets)
        headers = {"Authorization": f"Bearer {cabinet.token}"}
        account = self.rng.choice(cabinet.accounts)
        if kind == "dashboard":
            body = {"query": DASHBOARD, "variables": {"n": 12}}
        elif kind == "history":
            body = {"query": HISTORY, "variables": {"id": account}}
        elif kind == "receipts":
            body = {"query": RECEIPTS, "variables": {"id": account}}
        elif kind == "submit":
            body = {"query": SUBMIT, "variables": {"input": self.reading(cabinet)}}
        else:
            body = {"query": LOGIN, "variables": {"e": cabinet.email, "p": PASSWORD}}
            headers = {}
        return kind, lambda: self.http.post("/graphql", json=body, headers=headers)

    def reading(self, cabinet: Cabinet) -> dict:
        """A meter's next reading: 0.01 kWh a zone above its previous submission."""
        meter = self.rng.choice(cabinet.meters)
        meter.submitted += 1
        step = Decimal("0.01") * meter.submitted
        return {
            "meterId": meter.id,
            "values": [{"zone": z, "value": str(v + step)} for z, v in meter.values.items()],
            "takenOn": dt.datetime.now(MSK).date().isoformat(),
            "idempotencyKey": uuid.uuid4().hex,
        }


async def timed(results: Results, kind: str, send, since: float) -> None:
    """Send; record the latency from `since` (the scheduled start in the open loop). No
    answer within DEADLINE seconds is an error: a run against a server that cannot keep
    up ends DEADLINE seconds after its schedule, with the backlog counted, not awaited."""
    try:
        async with asyncio.timeout(DEADLINE):
            response = await send()
        error = problem(response, kind)
    except TimeoutError:
        error = f"no answer within {DEADLINE} s"
    except Exception as exc:  # a refused or broken connection is an error too
        error = f"{type(exc).__name__}: {exc}"
    results.add(kind, (time.perf_counter() - since) * 1000, error)


async def closed_loop(mix: Mix, concurrency: int, seconds: float) -> Results:
    results = Results(started=time.perf_counter())
    deadline = results.started + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            kind, send = mix.next()
            await timed(results, kind, send, time.perf_counter())

    await asyncio.gather(*(client() for _ in range(concurrency)))
    results.finished = time.perf_counter()
    return results


async def open_loop(mix: Mix, rate: float, seconds: float) -> Results:
    """Start request i at start + i/rate, whatever became of the earlier ones."""
    results = Results(started=time.perf_counter())
    tasks = []
    for i in range(int(rate * seconds)):
        scheduled = results.started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        kind, send = mix.next()
        tasks.append(asyncio.create_task(timed(results, kind, send, scheduled)))
    await asyncio.gather(*tasks)
    results.finished = time.perf_counter()
    return results


# ---------------------------------------------------------------- measuring


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used, user and system (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Gauge:
    """The server's RSS and the CPU both processes used over a phase."""

    pid: int
    rss: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    def read(self) -> Gauge:
        return Gauge(self.pid, rss_mib(self.pid), cpu_seconds(self.pid), time.process_time())


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(label: str, results: Results, before: Gauge, after: Gauge) -> None:
    elapsed = results.finished - results.started
    values = results.all()
    print(
        f"{label:<26} {results.answered / elapsed:6.1f} req/s  p50 {percentile(values, 50):6.1f} ms"
        f"  p99 {percentile(values, 99):7.1f} ms  errors {len(results.errors)}"
        f"  RSS {before.rss:.1f} -> {after.rss:.1f} MiB"
    )
    server = (after.server_cpu - before.server_cpu) / elapsed
    client = (after.client_cpu - before.client_cpu) / elapsed
    kinds = "  ".join(
        f"{kind} {percentile(ms, 50):.0f}/{percentile(ms, 99):.0f}"
        for kind, ms in sorted(results.latencies.items())
        if len(ms) >= 2
    )
    print(f"{'':<26} p50/p99 ms: {kinds}")
    print(
        f"{'':<26} CPU (cores): server {server:.2f}, this client {client:.2f}; the machine's "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for error in results.errors[:3]:
        print(f"{'':<26} error: {error[:300]}")


async def run(port: int, pid: int, cabinets: list[Cabinet], args: argparse.Namespace) -> None:
    import httpx

    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits
    ) as http:
        mix = Mix(http, cabinets)
        warm = await closed_loop(mix, args.concurrency, 5)
        if warm.errors:
            raise SystemExit(f"the warm-up failed: {warm.errors[:3]}")
        start = gauge = Gauge(pid).read()

        most = await closed_loop(mix, args.concurrency, args.max_seconds)
        maximum = most.answered / (most.finished - most.started)
        report(f"closed loop, {args.concurrency} clients", most, gauge, gauge := gauge.read())

        p99 = {}
        for share in (0.5, 0.8):
            rate = maximum * share
            results = await open_loop(mix, rate, args.duration)
            report(f"open loop {share:.0%} ({rate:.0f}/s)", results, gauge, gauge := gauge.read())
            p99[share] = percentile(results.all(), 99)
    print(
        f"max {maximum:.1f} req/s; p99 at 80% / p99 at 50%: {p99[0.8] / p99[0.5]:.2f}; "
        f"RSS end / after warm-up: {gauge.rss / start.rss:.3f} "
        f"({start.rss:.1f} -> {gauge.rss:.1f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of each open loop")
    parser.add_argument("--max-seconds", type=float, default=15, help="seconds of the closed loop")
    parser.add_argument("--concurrency", type=int, default=16, help="clients of the closed loop")
    parser.add_argument("--cabinets", type=int, default=50)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="postgres:// URL of a server to measure on (default: TEST_DATABASE_URL; "
        "without either: SQLite)",
    )
    args = parser.parse_args()
    # The window is open whatever today is: every submitted reading is accepted.
    os.environ.update(READING_WINDOW_START_DAY="1", READING_WINDOW_END_DAY="31")
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Fresh(args.database_url or "sqlite", Path(tmp))
        try:
            url = fresh.new()
            started = time.perf_counter()
            cabinets = asyncio.run(prepare(url, args.cabinets))
            backend = "PostgreSQL" if args.database_url else "SQLite"
            meters = sum(len(c.meters) for c in cabinets)
            print(
                f"{backend}: {len(cabinets)} cabinets, {meters} meters, prepared in "
                f"{time.perf_counter() - started:.1f} s; mix {MIX}"
            )
            with served("server:app_factory", url, tmp) as server:
                asyncio.run(run(server.port, server.pid, cabinets, args))
        finally:
            fresh.drop_all()


if __name__ == "__main__":
    main()
