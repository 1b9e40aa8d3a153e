"""Mail throughput: the outbox path against sending directly, to a local SMTP sink.

    python bench/mail_throughput.py [--messages 10000] [--database postgres://...]

An aiosmtpd sink runs in a process of its own and accepts (and discards) everything.
For each backend (SQLite, and PostgreSQL when --database gives a postgres:// URL whose
server can create databases), in a fresh database, each in a process of its own:
- outbox: `mail.send()` for each message (render, build, insert; each its own
  transaction, as a request would), then one worker drains the outbox with its
  batched claims and one SMTP connection per batch;
- direct: the same messages rendered and built by the same code, then sent one by one
  over a single aiosmtplib connection: what the application would do without an outbox.
Prints messages/s of both, the split of the outbox path, and the ratio (goal >= 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port  # noqa: E402

CONTEXT = {
    "name": "Мария Петровна",
    "title": "Квитанция за октябрь",
    "paragraphs": ["Квитанция за октябрь 2026 года готова.", "Сумма к оплате: 1 234,56 ₽."],
    "action": {"label": "Открыть квитанцию", "path": "/receipts/2026-10"},
}


# ---------------------------------------------------------------- the SMTP sink


class Discard:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 2.0.0 Accepted"


def run_sink(port: int) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    controller.stop()


# ---------------------------------------------------------------- measurements


def recipient(i: int) -> str:
    return f"Абонент {i} <user{i}@example.ru>"


async def outbox_path(settings, count: int) -> tuple[float, float]:
    from mail import send
    from mail.worker import MailWorker
    from models.mail import MailState, OutboxMessage

    started = time.perf_counter()
    for i in range(count):
        await send("notice", to=recipient(i), context=CONTEXT, settings=settings)
    enqueued = time.perf_counter()
    worker = MailWorker(settings)
    while await worker.run_once():
        pass
    delivered = time.perf_counter()
    assert await OutboxMessage.filter(state=MailState.SENT).count() == count
    return enqueued - started, delivered - enqueued


async def direct_path(settings, count: int) -> tuple[float, float]:
    """Build and send each message over one connection; also the send time alone."""
    import aiosmtplib

    from mail.compose import compose, parse_mailbox, render

    sender = parse_mailbox(settings.mail_from).addr_spec
    sending = 0.0
    started = time.perf_counter()
    async with aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port, start_tls=False
    ) as client:
        for i in range(count):
            rendered = render("notice", CONTEXT, "ru", settings.public_web_url)
            message = compose(
                rendered, sender=settings.mail_from, to=recipient(i), date=dt.datetime.now(dt.UTC)
            )
            before = time.perf_counter()
            await client.sendmail(sender, [message.recipient], message.content)
            sending += time.perf_counter() - before
    return time.perf_counter() - started, sending


async def child(mode: str, url: str, port: int, count: int) -> dict:
    from config import Settings
    from models import db

    settings = Settings(
        env="test",
        database_url=url,
        secret_key="bench-" + "x" * 40,
        public_web_url="https://lk.example.ru",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        mail_from="Личный кабинет <noreply@lk.example.ru>",
    )
    if mode == "direct":
        direct, sending = await direct_path(settings, count)
        return {"direct": direct, "sending": sending}
    await db.apply_migrations(url)
    await db.close_db()
    await db.open_db(url)
    try:
        enqueue, deliver = await outbox_path(settings, count)
    finally:
        await db.close_db()
    return {"enqueue": enqueue, "deliver": deliver}


def report(backend: str, count: int, r: dict) -> None:
    outbox = r["enqueue"] + r["deliver"]
    print(
        f"{backend:<9} {count:>7,} messages  outbox {count / outbox:>6,.0f} msg/s   "
        f"direct aiosmtplib {count / r['direct']:>6,.0f} msg/s   "
        f"ratio {r['direct'] / outbox:4.2f} (goal >= 0.5)"
    )
    print(
        f"{'':<9} outbox = enqueue {count / r['enqueue']:,.0f} msg/s ({r['enqueue']:.1f} s) "
        f"+ worker delivery {count / r['deliver']:,.0f} msg/s ({r['deliver']:.1f} s); "
        f"direct sendmail alone {count / r['sending']:,.0f} msg/s "
        f"(ratio against it {r['sending'] / outbox:4.2f})"
    )


# ---------------------------------------------------------------- databases


def run_child(mode: str, url: str, port: int, count: int) -> dict:
    """Each measurement in a process of its own (Tortoise keeps per-dialect state on the
    models, and neither measurement should inherit the other's heap)."""
    command = [sys.executable, __file__, "--child", mode, "--url", url, "--port", str(port)]
    out = subprocess.run(
        [*command, "--messages", str(count)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(url: str, port: int, count: int) -> dict:
    return run_child("direct", url, port, count) | run_child("outbox", url, port, count)


async def admin(base: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def on_postgres(base: str, port: int, count: int) -> dict:
    name = f"kabinet_bench_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(admin(base, f'CREATE DATABASE "{name}"'))
    try:
        return measure(urlunsplit(urlsplit(base)._replace(path=f"/{name}")), port, count)
    finally:
        asyncio.run(admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--database", help="a postgres:// URL to measure PostgreSQL too")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["direct", "outbox"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink)
        return
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.url, args.port, args.messages))))
        return

    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, __file__, "--sink", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
            report("sqlite", args.messages, measure(url, port, args.messages))
        if args.database:
            report("postgres", args.messages, on_postgres(args.database, port, args.messages))
    finally:
        sink.communicate(timeout=30)


if __name__ == "__main__":
    main()
