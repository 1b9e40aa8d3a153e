"""Dashboard and recovery-check latency on a utility-sized database (PostgreSQL only).

    python bench/scale.py [--accounts 200000] [--small 1000] [--months 36] [--requests 400]
                          [--database-url URL]

Two fresh databases beside the server of `--database-url` (default TEST_DATABASE_URL,
else postgres://postgres@127.0.0.1:5432/test), both migrated by the real migrations and
dropped at the end: one with `--small` accounts, one with `--accounts`, each account with
1-3 meters and `--months` of monthly readings, receipts and payments, ~42% of them in
cabinets (bench/scale_data.py: the shapes, and the load by binary COPY). The generator is
deterministic, so the small database is exactly the first accounts of the large one.

Each database gets a server process (uvicorn, one worker). A client measures, one
request at a time and each request on both servers back to back, the latency of
- the dashboard (the GraphQL operation of bench/dashboard.py, 12 items per list) for
  cabinets of 1-3 accounts, logged in by their sessions;
- `startRecoveryWithoutEmail` with the right amount (the proof of ownership and the start
  of recovery), each call on another linked account; a success gives its attempt back, so
  the attempt limits never answer instead of the query.
Both sizes serve the same cabinets and accounts with the same rows. It prints p50/p99 of
each and the ratio large/small (goal <= 1.2: every query is indexed), then the plan
(EXPLAIN) of every SQL statement both operations issue on the large database, flagging
any sequential scan of a table holding more than 10,000 rows.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Fresh, served  # noqa: E402
from bench.dashboard import QUERY as DASHBOARD  # noqa: E402
from bench.scale_data import (  # noqa: E402
    MONTH_SLOTS,
    Generator,
    Loaded,
    load,
    pg_url,
    session_token,
)

RECOVERY = """
mutation Recover($input: StartRecoveryWithoutEmailInput!) {
  startRecoveryWithoutEmail(input: $input) { recoveryToken userErrors { code } }
}"""
BIG_TABLE_ROWS = 10_000
ITEMS = 12  # items per list on the dashboard, as the 2x12 shape of bench/dashboard.py

# ---------------------------------------------------------------- the databases


async def build(url: str, generator: Generator, accounts: int) -> Loaded:
    """Migrate (the committed migrations, as `kabinet migrate`) and fill one database."""
    from models import db

    started = time.perf_counter()
    await db.apply_migrations(url)
    await db.close_db()
    migrated = time.perf_counter() - started
    loaded = await load(url, generator, accounts)
    loaded.seconds = {"migrate": migrated, **loaded.seconds}
    return loaded


async def table_sizes(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(pg_url(url))
    try:
        rows = await conn.fetch(
            "SELECT relname, reltuples::bigint AS n FROM pg_class c "
            "JOIN pg_namespace ns ON ns.oid = c.relnamespace "
            "WHERE ns.nspname = 'public' AND c.relkind = 'r'"
        )
        return {r["relname"]: max(r["n"], 0) for r in rows}
    finally:
        await conn.close()


# ---------------------------------------------------------------- the workload


@dataclass(frozen=True)
class Workload:
    """What both sizes serve identically: dashboards of cabinets, proofs of accounts."""

    dashboards: list[str]  # session tokens
    proofs: list[tuple[str, str]]  # (account number, amount of a recent payment)


async def workload(url: str, small: int, secret: str, cabinets: int) -> Workload:
    import asyncpg

    conn = await asyncpg.connect(pg_url(url))
    try:
        # Cabinets of 1, 2 and 3 accounts in turn, from the first accounts.
        sized = await conn.fetch(
            "SELECT cabinet_id, count(*) AS n FROM cabinet_account WHERE account_id <= $1 "
            "GROUP BY cabinet_id ORDER BY cabinet_id",
            small,
        )
        by_size: dict[int, list[int]] = {}
        for row in sized:
            by_size.setdefault(row["n"], []).append(row["cabinet_id"])
        chosen = [c for group in zip(*by_size.values(), strict=False) for c in group][:cabinets]
        proofs = await conn.fetch(
            "SELECT a.number, (SELECT p.amount FROM payment p WHERE p.account_id = a.id "
            "ORDER BY p.paid_at DESC LIMIT 1) AS amount FROM account a "
            "JOIN cabinet_account ca ON ca.account_id = a.id WHERE a.id <= $1 ORDER BY a.id",
            small,
        )
    finally:
        await conn.close()
    return Workload(
        [session_token(c, secret) for c in chosen],
        [(r["number"], f"{r['amount']:.2f}") for r in proofs if r["amount"] is not None],
    )


def dashboard_request(token: str) -> tuple[dict, dict]:
    return (
        {"query": DASHBOARD, "variables": {"n": ITEMS}},
        {"Authorization": f"Bearer {token}"},
    )


def recovery_request(proof: tuple[str, str]) -> tuple[dict, dict]:
    number, amount = proof
    return (
        {
            "query": RECOVERY,
            "variables": {"input": {"accountNumber": number, "paymentAmount": amount}},
        },
        {},
    )


def check(operation: str, body: dict) -> None:
    if "errors" in body:
        raise RuntimeError(f"{operation}: {body['errors']}")
    if operation == "recovery":
        payload = body["data"]["startRecoveryWithoutEmail"]
        if payload["userErrors"] or not payload["recoveryToken"]:
            raise RuntimeError(f"recovery failed: {payload}")
    elif not body["data"]["me"]["accounts"]:
        raise RuntimeError("dashboard: no accounts")


async def timed(http, operation: str, request: tuple[dict, dict]) -> float:
    payload, headers = request
    started = time.perf_counter()
    response = await http.post("/graphql", json=payload, headers=headers)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    check(operation, response.json())
    return elapsed


async def measure(
    ports: dict[str, int], work: Workload, requests: int
) -> dict[tuple[str, str], list[float]]:
    """Latencies (s) per (size, operation), one request at a time: each request goes to
    both servers back to back, in turn first, so the machine's noise falls on both alike."""
    import httpx

    plans = {
        "dashboard": [dashboard_request(t) for t in work.dashboards],
        "recovery": [recovery_request(p) for p in work.proofs],
    }
    samples: dict[tuple[str, str], list[float]] = {(size, op): [] for size in ports for op in plans}
    clients = {
        size: httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60)
        for size, port in ports.items()
    }
    try:
        for http in clients.values():  # warm up: connections, caches, pools
            for op, requests_of in plans.items():
                for request in requests_of[:20]:
                    await timed(http, op, request)
        for i in range(requests):
            order = list(clients.items())
            for op, requests_of in plans.items():
                for size, http in order if i % 2 else order[::-1]:
                    request = requests_of[i % len(requests_of)]
                    samples[(size, op)].append(await timed(http, op, request))
    finally:
        for http in clients.values():
            await http.aclose()
    return samples


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# ---------------------------------------------------------------- the plans


class Statements(logging.Handler):
    """Every SQL statement Tortoise's clients and models.sql send, with its parameters."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.seen: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) == 2 and isinstance(args[0], str):
            query, params = args
            if params and isinstance(params[0], list | tuple):  # executemany: the first row
                params = params[0]
            if query.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
                self.seen.append((query, list(params or [])))


async def capture(url: str, work: Workload) -> dict[str, list[tuple[str, list[Any]]]]:
    """The statements of one dashboard and one recovery, run in process through the app."""
    import httpx

    from config import load_settings, use_settings
    from models import db
    from server import create_app

    settings = load_settings(
        {"DATABASE_URL": url, "SECRET_KEY": "b" * 40, "RATE_LIMIT_PER_MINUTE": "0"},
        env_file=None,
    )
    use_settings(settings)  # the rules read theirs from here, as in the server
    await db.open_db(url)
    app = create_app(settings, manage_db=False, mail_worker=False, payment_sweeper=False)
    logger = logging.getLogger("tortoise.db_client")
    found = {}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://bench"
        ) as http:
            for op, request in (
                ("dashboard", dashboard_request(work.dashboards[-1])),
                ("recovery", recovery_request(work.proofs[-1])),
            ):
                handler = Statements()
                logger.addHandler(handler)
                previous = logger.level
                logger.setLevel(logging.DEBUG)
                try:
                    await timed(http, op, request)
                finally:
                    logger.removeHandler(handler)
                    logger.setLevel(previous)
                found[op] = handler.seen
    finally:
        await db.close_db()
        use_settings(None)
    return found


def scans(plan: dict) -> Iterator[tuple[str, str, str]]:
    """(node type, table, index) of every scan in a plan."""
    kind = plan.get("Node Type", "")
    if kind.endswith("Scan") and ("Relation Name" in plan or "Index Name" in plan):
        yield kind, plan.get("Relation Name", ""), plan.get("Index Name", "")
    for child in plan.get("Plans", []):
        yield from scans(child)


async def explain(
    url: str, statements: dict[str, list[tuple[str, list[Any]]]], sizes: dict[str, int]
) -> list[str]:
    """Print how each statement finds its rows; return the big tables read by a Seq Scan.
    The plans are those of a custom plan for the parameters the app really sent."""
    import asyncpg

    conn = await asyncpg.connect(pg_url(url))
    problems = []
    try:
        for op, seen in statements.items():
            print(f"\nEXPLAIN of the {len(seen)} statements of one {op} (large database):")
            for query, params in seen:
                plan = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {query}", *params)
                root = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
                found = sorted(set(scans(root)))
                big = [
                    t
                    for kind, t, _ in found
                    if kind == "Seq Scan" and sizes.get(t, 0) > BIG_TABLE_ROWS
                ]
                problems += [f"{op}: Seq Scan on {t}" for t in big]
                how = (
                    ", ".join(
                        f"{kind} on {table}" + (f" using {index}" if index else "")
                        if kind == "Seq Scan"
                        else index
                        for kind, table, index in found
                    )
                    or "(no scan)"
                )
                flag = "SEQ SCAN OF A BIG TABLE  " if big else ""
                print(f"  {' '.join(query.split())[:60]:<60}  {flag}{how}")
    finally:
        await conn.close()
    return problems


# ---------------------------------------------------------------- main


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--accounts", type=int, default=200_000, help="accounts of the large database")
    add("--small", type=int, default=1_000, help="accounts of the small database")
    add("--months", type=int, default=36, help="months of history per account")
    add("--requests", type=int, default=400, help="measured requests per size and operation")
    add("--cabinets", type=int, default=30, help="cabinets whose dashboards are measured")
    add(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL server's URL; the bench creates and drops its databases beside it",
    )
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a postgres:// URL")
    if args.months >= MONTH_SLOTS or not 0 < args.small <= args.accounts:
        parser.error(f"need --months < {MONTH_SLOTS} and 0 < --small <= --accounts")
    return args


def fill(url: str, generator: Generator, accounts: int, size: str) -> None:
    loaded = asyncio.run(build(url, generator, accounts))
    seconds, rows = sum(loaded.seconds.values()), sum(loaded.rows.values())
    steps = ", ".join(f"{name} {s:.1f} s" for name, s in loaded.seconds.items())
    print(
        f"{size}: {accounts:,} accounts, {rows:,} rows in {seconds:.1f} s "
        f"({rows / seconds:,.0f} rows/s; {steps})"
    )
    print("  " + ", ".join(f"{t} {n:,}" for t, n in loaded.rows.items()))


def report(samples: dict[tuple[str, str], list[float]], counts: dict[str, int]) -> None:
    for op in ("dashboard", "recovery"):
        line, p = [f"{op:<9}"], {}
        for size, accounts in counts.items():
            p[size] = [percentile(samples[(size, op)], q) * 1000 for q in (50, 99)]
            line.append(
                f"{accounts:>7,} accounts: p50 {p[size][0]:6.2f} ms  p99 {p[size][1]:6.2f} ms"
            )
        small, large = p["small"], p["large"]
        line.append(
            f"ratio p50 {large[0] / small[0]:4.2f}  p99 {large[1] / small[1]:4.2f}  (goal <= 1.2)"
        )
        print("   ".join(line))


def main() -> None:
    args = arguments()
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
    generator = Generator(args.months, moment, os.urandom(6).hex())
    counts = {"small": args.small, "large": args.accounts}
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Fresh(args.database_url, Path(tmp))
        try:
            urls = {size: fresh.new() for size in counts}
            for size, url in urls.items():
                fill(url, generator, counts[size], size)
            work = asyncio.run(workload(urls["small"], args.small, generator.secret, args.cabinets))
            print(
                f"measuring {len(work.dashboards)} cabinets' dashboards and {len(work.proofs)} "
                f"accounts' recovery, {args.requests} requests per size and operation, "
                "one at a time, each on both sizes back to back"
            )
            with (
                served("server:create_app", urls["small"], tmp) as small,
                served("server:create_app", urls["large"], tmp) as large,
            ):
                ports = {"small": small.port, "large": large.port}
                samples = asyncio.run(measure(ports, work, args.requests))
            report(samples, counts)
            statements = asyncio.run(capture(urls["large"], work))
            sizes = asyncio.run(table_sizes(urls["large"]))
            problems = asyncio.run(explain(urls["large"], statements, sizes))
            print(f"\nsequential scans of big tables: {problems or 'none'}")
        finally:
            fresh.drop_all()


if __name__ == "__main__":
    main()
