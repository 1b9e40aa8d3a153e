"""Submitted meter readings per second: GraphQL against a hand-written route.

    python bench/submit_reading.py [--requests 1500] [--rounds 2] [--concurrency 8] [--database URL]

A server process (uvicorn, one worker) serves the real `submitMeterReading` and, in the
same process, a plain Starlette route that does the same work with hand-written SQL:
the session, the idempotency key, the meter's owner, the window, then in one
transaction the key's claim, the meter's lock, the window's earlier submission, the
last 12 months of readings, the same-day row, the latest receipt's rates, the checks
(lower values, rollovers, plausibility) and the INSERT. Every request submits the first
reading of the window for a meter of its own (2 zones, a year of history), so both
sides do the same writes. The two are driven in alternating rounds of `--requests`
requests at a fixed concurrency; the best round of each is printed with their ratio
(goal >= 0.3).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import itertools
import json
import os
import sys
import tempfile
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Fresh, served  # noqa: E402

MSK = ZoneInfo("Europe/Moscow")
MUTATION = """
mutation Submit($input: SubmitMeterReadingInput!) {
  submitMeterReading(input: $input) {
    reading { id status }
    consumption { zone kwh }
    estimatedCharge
    userErrors { code message }
  }
}"""
HISTORY_MONTHS = 12


def today() -> dt.date:
    return dt.datetime.now(MSK).date()


# ---------------------------------------------------------------- data


def csvs(meters: int) -> dict[str, list[list[str]]]:
    """`meters` accounts with one 2-zone meter, a year of readings and a receipt with rates."""
    files: dict[str, list[list[str]]] = {
        "accounts": [["number", "holder_name", "address"]],
        "meters": [["account_number", "serial", "zones", "digits"]],
        "readings": [["serial", "taken_on", "t1", "t2", "t3"]],
        "receipts": [
            [
                *("account_number", "period", "issued_on", "due_on", "opening_balance"),
                *("charged", "paid", "amount_due", "t1_rate", "t2_rate"),
            ]
        ],
    }
    day = today()
    period = (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for index in range(meters):
        number = f"9{index:011d}"
        files["accounts"].append([number, f"Holder {index}", "Nizhny Novgorod"])
        files["meters"].append([number, f"B{number}", "2", "6"])
        for month in range(HISTORY_MONTHS, 0, -1):
            taken = day - dt.timedelta(days=30 * month)
            step = HISTORY_MONTHS - month
            files["readings"].append(
                [
                    f"B{number}",
                    taken.isoformat(),
                    str(10000 + 300 * step),
                    str(5000 + 150 * step),
                    "",
                ]
            )
        first = day.replace(day=1).isoformat()
        files["receipts"].append(
            [number, period.strftime("%Y-%m"), first, first, "0", "0", "0", "0", "6.00", "3.00"]
        )
    return files


async def prepare(url: str, meters: int) -> tuple[str, list[int]]:
    """Load the data and one cabinet holding every account; (session token, meter ids)."""
    from models import db
    from models.accounts import Account
    from models.cabinets import Cabinet, CabinetAccount
    from models.metering import Meter
    from services.billing import importer as billing_import
    from services.security import sessions

    await db.apply_migrations(url)
    await db.close_db()
    await db.open_db(url)
    for kind, rows in csvs(meters).items():
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        await billing_import.import_stream(
            billing_import.KINDS[kind], io.BytesIO(text.getvalue().encode()), tz=MSK
        )
    cabinet = await Cabinet.create(email="reader@bench.example", password_hash="x")
    accounts = await Account.all().order_by("id").values_list("id", flat=True)
    await CabinetAccount.bulk_create(
        [CabinetAccount(cabinet=cabinet, account_id=a) for a in accounts], batch_size=1000
    )
    meter_ids = list(await Meter.all().order_by("id").values_list("id", flat=True))
    token, _ = await sessions.create(cabinet, sessions.Client("127.0.0.1", "bench"))
    await db.close_db()
    return token, meter_ids


# ---------------------------------------------------------------- the hand-written route


class Refused(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


def _window_open(day: dt.date, start: int, end: int) -> bool:
    return start <= day.day <= end


async def baseline_submit(token: str, body: dict) -> dict:
    """The same checks and writes as submitMeterReading, by hand."""
    from tortoise.transactions import in_transaction

    from models import sql
    from services.security.sessions import hash_token

    conn = sql.connection()
    session = await sql.fetch_one(
        conn,
        "SELECT cabinet_id FROM session WHERE token_hash = ? AND revoked_at IS NULL",
        [hash_token(token)],
    )
    if session is None:
        return {"error": "UNAUTHENTICATED"}
    cabinet_id, key = session["cabinet_id"], body["key"]
    earlier = await sql.fetch_one(
        conn,
        "SELECT reading_id, consumption, estimated_charge FROM reading_submission "
        "WHERE cabinet_id = ? AND idempotency_key = ?",
        [cabinet_id, key],
    )
    if earlier is not None:
        return {"readingId": earlier["reading_id"], "replayed": True}
    meter = await sql.fetch_one(
        conn,
        "SELECT m.id, m.account_id, m.zones, m.digits FROM meter m JOIN cabinet_account ca "
        "ON ca.account_id = m.account_id WHERE m.id = ? AND ca.cabinet_id = ?",
        [body["meterId"], cabinet_id],
    )
    if meter is None:
        return {"error": "NOT_FOUND"}
    taken_on = dt.date.fromisoformat(body["takenOn"])
    day = today()
    start, end = (
        int(os.environ["READING_WINDOW_START_DAY"]),
        int(os.environ["READING_WINDOW_END_DAY"]),
    )
    if taken_on > day or not _window_open(day, start, end):
        return {"error": "OUTSIDE_WINDOW"}
    capacity = Decimal(10) ** meter["digits"]
    values = {v["zone"]: Decimal(v["value"]).quantize(Decimal("0.001")) for v in body["values"]}
    if sorted(values) != list(range(1, meter["zones"] + 1)):
        return {"error": "MISSING_ZONE"}
    if any(v < 0 or v >= capacity for v in values.values()):
        return {"error": "BAD_VALUE"}
    window_start = day.replace(day=start)
    now = dt.datetime.now(dt.UTC)
    try:
        async with in_transaction() as tx:
            await sql.execute(
                tx,
                "INSERT INTO reading_submission (cabinet_id, idempotency_key, fingerprint, "
                "meter_id, window_start, created_at) VALUES (?, ?, '', ?, ?, ?)",
                [cabinet_id, key, meter["id"], window_start, now],
            )
            lock = " FOR UPDATE" if sql.dialect(tx) == "postgres" else ""
            await sql.fetch(tx, f"SELECT id FROM meter WHERE id = ?{lock}", [meter["id"]])
            active = await sql.fetch_one(
                tx,
                "SELECT r.id FROM reading_submission s JOIN meter_reading r ON r.id = s.reading_id "
                "WHERE s.meter_id = ? AND s.window_start = ? AND r.status IN ('accepted', 'review') "
                "ORDER BY s.id DESC LIMIT 1",
                [meter["id"], window_start],
            )
            history = await sql.fetch(
                tx,
                "SELECT id, taken_on, t1, t2, t3 FROM meter_reading WHERE meter_id = ? "
                "AND status = 'accepted' AND id <> ? AND taken_on >= ? ORDER BY taken_on, id",
                [meter["id"], active["id"] if active else -1, day - dt.timedelta(days=365)],
            )
            same_day = await sql.fetch_one(
                tx,
                "SELECT id, status FROM meter_reading WHERE meter_id = ? AND taken_on = ? "
                "AND source = 'customer'",
                [meter["id"], taken_on],
            )
            receipt = await sql.fetch_one(
                tx,
                "SELECT lines FROM receipt WHERE account_id = ? ORDER BY period DESC LIMIT 1",
                [meter["account_id"]],
            )
            if same_day is not None:
                raise Refused("DATE_BEFORE_PREVIOUS")
            consumption = _check(history, values, taken_on, capacity)
            lines = receipt["lines"] if receipt else []
            lines = json.loads(lines) if isinstance(lines, str) else lines
            rates = {line["zone"]: Decimal(line["rate"]) for line in lines if line.get("rate")}
            charge = sum((kwh * rates[z] for z, kwh in consumption.items()), Decimal(0))
            charge = charge.quantize(Decimal("0.01"), ROUND_HALF_UP)
            row = await sql.fetch_one(
                tx,
                "INSERT INTO meter_reading (meter_id, taken_on, t1, t2, t3, source, status, "
                "created_at) VALUES (?, ?, ?, ?, NULL, 'customer', 'accepted', ?) RETURNING id",
                [meter["id"], taken_on, values[1], values[2], now],
            )
            await sql.execute(
                tx,
                "UPDATE reading_submission SET reading_id = ?, consumption = ?, "
                "estimated_charge = ? WHERE cabinet_id = ? AND idempotency_key = ?",
                [
                    row["id"],
                    json.dumps({str(z): str(k) for z, k in consumption.items()}),
                    charge,
                    cabinet_id,
                    key,
                ],
            )
    except Refused as refused:
        return {"error": refused.code}
    return {
        "readingId": row["id"],
        "consumption": [{"zone": z, "kwh": str(k)} for z, k in sorted(consumption.items())],
        "estimatedCharge": str(charge),
    }


def _check(history: list[dict], values: dict, taken_on: dt.date, capacity: Decimal) -> dict:
    from models import sql

    last = history[-1]
    days = max((taken_on - sql.as_date(last["taken_on"])).days, 1)
    span = (sql.as_date(last["taken_on"]) - sql.as_date(history[0]["taken_on"])).days
    consumption = {}
    for zone, value in values.items():
        series = [sql.as_decimal(r[f"t{zone}"]) for r in history]
        used_before = sum(
            (b - a if b >= a else capacity - a + b for a, b in itertools.pairwise(series)),
            Decimal(0),
        )
        limit = min(Decimal(5) * used_before / span * days, Decimal(300) * days)
        previous = series[-1]
        used = value - previous if value >= previous else capacity - previous + value
        if used > limit:
            raise Refused("LOWER_THAN_PREVIOUS" if value < previous else "IMPLAUSIBLE_VALUE")
        consumption[zone] = used
    return consumption


def server_app():
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from server import create_app

    app = create_app()

    async def route(request: Request) -> Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        body = await baseline_submit(token, await request.json())
        return Response(json.dumps(body), media_type="application/json")

    # first: the web client answers every other GET path with its page
    app.router.routes.insert(0, Route("/bench/submit", route, methods=["POST"]))
    return app


# ---------------------------------------------------------------- the client


def encode_id(kind: str, pk: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


def graphql_request(http, token: str, meter: int):
    values = [{"zone": 1, "value": "13500.5"}, {"zone": 2, "value": "6800"}]
    variables = {
        "input": {
            "meterId": encode_id("Meter", meter),
            "values": values,
            "takenOn": today().isoformat(),
            "idempotencyKey": uuid.uuid4().hex,
        }
    }
    return http.post(
        "/graphql",
        json={"query": MUTATION, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )


def baseline_request(http, token: str, meter: int):
    body = {
        "meterId": meter,
        "values": [{"zone": 1, "value": "13500.5"}, {"zone": 2, "value": "6800"}],
        "takenOn": today().isoformat(),
        "key": uuid.uuid4().hex,
    }
    return http.post("/bench/submit", json=body, headers={"Authorization": f"Bearer {token}"})


def accepted(kind: str, body: dict) -> dict:
    """The answer's consumption and charge; fails loudly on any refusal."""
    if kind == "graphql":
        result = body["data"]["submitMeterReading"]
        assert result["userErrors"] == [], result
        return {"consumption": result["consumption"], "estimatedCharge": result["estimatedCharge"]}
    assert "error" not in body, body
    return {"consumption": body["consumption"], "estimatedCharge": body["estimatedCharge"]}


async def drive(port: int, kind: str, token: str, meters: list[int], concurrency: int) -> float:
    """Submit one reading to each meter of `meters`; returns readings/s."""
    import httpx

    make = graphql_request if kind == "graphql" else baseline_request
    queue = list(reversed(meters))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:

        async def worker() -> None:
            while queue:
                response = await make(http, token, queue.pop())
                response.raise_for_status()
                accepted(kind, response.json())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(meters) / (time.perf_counter() - started)


async def compare(port: int, token: str, meters: list[int], args: argparse.Namespace) -> None:
    import httpx

    pool = iter(meters)

    def take(n: int) -> list[int]:
        return [next(pool) for _ in range(n)]

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        [a], [b] = take(1), take(1)
        via_graphql = accepted("graphql", (await graphql_request(http, token, a)).json())
        by_hand = accepted("baseline", (await baseline_request(http, token, b)).json())
        assert via_graphql == by_hand, (via_graphql, by_hand)
        for _ in range(20):  # warm both up
            accepted("graphql", (await graphql_request(http, token, next(pool))).json())
            accepted("baseline", (await baseline_request(http, token, next(pool))).json())
    best = {"graphql": 0.0, "baseline": 0.0}
    for _ in range(args.rounds):
        for kind in best:
            rate = await drive(port, kind, token, take(args.requests), args.concurrency)
            best[kind] = max(best[kind], rate)
    ratio = best["graphql"] / best["baseline"]
    print(
        f"GraphQL {best['graphql']:7.1f} readings/s   hand-written route "
        f"{best['baseline']:7.1f} readings/s   ratio {ratio:4.2f} (goal >= 0.3)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="submissions per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each, best kept")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database", help="postgres:// URL of a server to measure on")
    args = parser.parse_args()
    # The window is open whatever today is, in the server and in the baseline alike.
    os.environ.update(READING_WINDOW_START_DAY="1", READING_WINDOW_END_DAY="31")
    meters_needed = 2 + 40 + 2 * args.rounds * args.requests
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Fresh(args.database or "sqlite", Path(tmp))
        try:
            url = fresh.new()
            started = time.perf_counter()
            token, meters = asyncio.run(prepare(url, meters_needed))
            print(f"prepared {len(meters)} meters in {time.perf_counter() - started:.1f} s")
            with served("bench.submit_reading:server_app", url, tmp) as server:
                backend = "postgres" if args.database else "sqlite"
                print(
                    f"database: {backend}, concurrency {args.concurrency}, "
                    f"{args.rounds} rounds of {args.requests} submissions each"
                )
                asyncio.run(compare(server.port, token, meters, args))
        finally:
            fresh.drop_all()


if __name__ == "__main__":
    main()
