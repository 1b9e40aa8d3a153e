"""Import speed and memory of a payments export against a plain executemany.

    python bench/import_payments.py [--rows 200000] [--database URL]

For each backend (SQLite, and PostgreSQL when --database gives a postgres:// URL whose
server can create databases), in fresh databases and separate processes:
- import: the CLI's code path (`billing_import.import_file`) on an N-row CSV file;
- baseline: the same rows, already built as Python tuples (not timed), inserted with one
  plain executemany in one transaction on the raw driver connection.
Prints rows/s of both and their ratio (goal >= 0.5), and the import's peak RSS for N/4
and N rows (goal: flat in N).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Fresh  # noqa: E402

ACCOUNTS = 1000
TZ = ZoneInfo("Europe/Moscow")


def account_number(i: int) -> str:
    return f"{i:012d}"


def payment_row(i: int) -> tuple[str, str, str, str, str]:
    day = dt.datetime(2025, 1, 1, 9, 0) + dt.timedelta(minutes=7 * i)
    amount = f"{100 + (i * 37) % 5000},{i % 100:02d}"
    return (account_number(i % ACCOUNTS), day.isoformat(), amount, "Сбербанк Онлайн", f"B-{i}")


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["account_number", "paid_at", "amount", "channel", "external_id"])
        for i in range(rows):
            writer.writerow(payment_row(i))


# ---------------------------------------------------------------- child processes


async def prepare(url: str) -> None:
    from models import db, sql

    await db.apply_migrations(url)
    await db.close_db()
    await db.open_db(url)
    conn = sql.connection()
    now = dt.datetime.now(dt.UTC)
    await sql.copy_rows(
        conn,
        "account",
        ["number", "holder_name", "address", "tariff", "balance", "created_at", "updated_at"],
        [
            (account_number(i), f"Holder {i}", "Address", "", Decimal("0.00"), now, now)
            for i in range(ACCOUNTS)
        ],
    )


async def child_import(url: str, path: Path) -> dict:
    from models import db
    from services.billing import importer as billing_import

    await prepare(url)
    started = time.perf_counter()
    summary = await billing_import.import_file("payments", path, tz=TZ)
    seconds = time.perf_counter() - started
    await db.close_db()
    assert summary.inserted == summary.rows
    return {"rows": summary.rows, "seconds": seconds}


async def child_baseline(url: str, rows: int) -> dict:
    from models import db, sql

    await prepare(url)
    conn = sql.connection()
    ids = {r["number"]: r["id"] for r in await sql.fetch(conn, "SELECT id, number FROM account")}
    now = dt.datetime.now(dt.UTC)
    records = []
    for i in range(rows):
        number, paid_at, amount, channel, external_id = payment_row(i)
        records.append(
            (
                ids[number],
                Decimal(amount.replace(",", ".")),
                dt.datetime.fromisoformat(paid_at).replace(tzinfo=TZ).astimezone(dt.UTC),
                channel,
                external_id,
                now,
            )
        )
    insert = (
        "INSERT INTO payment (account_id, amount, paid_at, channel, external_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    started = time.perf_counter()
    async with conn.acquire_connection() as raw:
        if sql.dialect(conn) == "postgres":
            async with raw.transaction():
                await raw.executemany(sql.render(conn, insert), records)
        else:
            await raw.execute("BEGIN")
            await raw.executemany(insert, records)
            await raw.commit()
    seconds = time.perf_counter() - started
    await db.close_db()
    return {"rows": rows, "seconds": seconds}


def run_child(mode: str, url: str, rows: int, path: Path) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--url",
            url,
            "--rows",
            str(rows),
            "--file",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def child_main(args: argparse.Namespace) -> None:
    if args.child == "import":
        result = asyncio.run(child_import(args.url, Path(args.file)))
    else:
        result = asyncio.run(child_baseline(args.url, args.rows))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(base: str, rows: int, tmp: Path) -> None:
    fresh = Fresh(base, tmp)
    small = max(rows // 4, 1)
    try:
        big_file, small_file = tmp / "payments.csv", tmp / "payments-small.csv"
        write_csv(big_file, rows)
        write_csv(small_file, small)
        imported = run_child("import", fresh.new(), rows, big_file)
        baseline = run_child("baseline", fresh.new(), rows, big_file)
        imported_small = run_child("import", fresh.new(), small, small_file)
    finally:
        fresh.drop_all()
    import_rate = rows / imported["seconds"]
    base_rate = rows / baseline["seconds"]
    backend = "sqlite" if base == "sqlite" else "postgres"
    print(
        f"{backend:<9} {rows:>9,}  import {import_rate:>10,.0f} rows/s   "
        f"executemany {base_rate:>10,.0f} rows/s   ratio {import_rate / base_rate:5.2f} "
        f"(goal >= 0.5)"
    )
    print(
        f"{'':<9} peak RSS of the import: {imported_small['peak_rss_mb']:.0f} MB at "
        f"{small:,} rows, {imported['peak_rss_mb']:.0f} MB at {rows:,} rows   ratio "
        f"{imported['peak_rss_mb'] / imported_small['peak_rss_mb']:4.2f} (goal: flat, ~1.0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database", help="a postgres:// URL to measure PostgreSQL too")
    parser.add_argument("--child", choices=["import", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    bases = ["sqlite"] + ([args.database] if args.database else [])
    with tempfile.TemporaryDirectory() as tmp:
        for base in bases:
            measure(base, args.rows, Path(tmp))


if __name__ == "__main__":
    main()
