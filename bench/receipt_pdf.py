"""Speed and memory of the printable bill, against serialising the same data as JSON.

    python bench/receipt_pdf.py [--count 200] [--account 001234567890] [--database URL]

Loads the demo into a fresh database (a temporary SQLite file, or a new database
beside --database's PostgreSQL one, dropped afterwards), takes the account's latest
receipt (by default the two-zone demo bill: a typical one) and prints, measured in
this run:
- load: `load_receipt_document`, the three queries behind a bill;
- render: `render_receipt_pdf` of that document, in PDFs per second;
- baseline: `json.dumps` of the same document, the cheapest way to hand the data out;
- memory: peak Python allocations of one render (tracemalloc) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Fresh  # noqa: E402  (a fresh database per measurement)
from config import Settings  # noqa: E402
from models import db  # noqa: E402
from models.billing import Receipt  # noqa: E402
from services.ops import demo  # noqa: E402
from services.receipts.document import ReceiptDocument, load_receipt_document  # noqa: E402
from services.receipts.pdf import render_receipt_pdf  # noqa: E402

TZ = ZoneInfo("Europe/Moscow")


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:10,.1f}/s  ({seconds / count * 1000:7.3f} ms each)"


def timed(count: int, work) -> float:
    started = time.perf_counter()
    for _ in range(count):
        work()
    return time.perf_counter() - started


def as_json(doc: ReceiptDocument) -> str:
    return json.dumps(dataclasses.asdict(doc), default=str, ensure_ascii=False)


async def measure(url: str, number: str, count: int) -> None:
    await db.apply_migrations(url)
    await db.close_db()
    await db.open_db(url)
    try:
        await demo.seed(dt.datetime.now(TZ).date(), TZ)
        receipt = await Receipt.filter(account__number=number).order_by("-period").first()
        if receipt is None:
            raise SystemExit(f"no receipt for account {number}")
        settings = Settings()
        loads = max(count // 4, 1)
        started = time.perf_counter()
        for _ in range(loads):
            doc = await load_receipt_document(receipt.id, settings)
        load_seconds = time.perf_counter() - started
    finally:
        await db.close_db()
    assert doc is not None

    pdf = render_receipt_pdf(doc)  # warm-up: imports, font lookup
    render_seconds = timed(count, lambda: render_receipt_pdf(doc))
    json_count = count * 50
    json_seconds = timed(json_count, lambda: as_json(doc))

    tracemalloc.start()
    render_receipt_pdf(doc)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    backend = url.split(":", 1)[0]
    zones = len(doc.zones)
    print(f"receipt {doc.period:%Y-%m} of {number} ({zones} zones), {backend}")
    print(f"  load     {per_second(loads, load_seconds)}   load_receipt_document")
    print(f"  render   {per_second(count, render_seconds)}   PDF, {len(pdf):,} bytes")
    print(f"  baseline {per_second(json_count, json_seconds)}   JSON, {len(as_json(doc)):,} bytes")
    ratio = (render_seconds / count) / (json_seconds / json_count)
    print(f"  one PDF costs {ratio:,.0f} JSON serialisations of the same data")
    print(f"  memory   {peak / 2**20:.1f} MB peak Python allocations in one render; ", end="")
    print(f"process peak RSS {rss_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="PDFs to render")
    parser.add_argument("--account", default="001234567890", help="demo account number")
    parser.add_argument("--database", help="a postgres:// URL to load from PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Fresh(args.database or "sqlite", Path(tmp))
        try:
            asyncio.run(measure(fresh.new(), args.account, args.count))
        finally:
            fresh.drop_all()


if __name__ == "__main__":
    main()
