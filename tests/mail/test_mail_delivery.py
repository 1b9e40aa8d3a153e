"""The outbox and its workers against a real SMTP server, on both databases."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import aiosmtplib
import pytest
from tortoise.context import TortoiseContext
from tortoise.transactions import in_transaction

from mail import send
from mail.worker import MailWorker, retry_delay
from models import db as dbmod
from models.mail import MailState, OutboxMessage
from tests.conftest import BACKEND
from tests.mail_fixtures import ManualClock, SmtpSink, deliver_all, links_in

NOTICE = {
    "name": "Мария Петровна",
    "title": "Проверка",
    "paragraphs": ["Это проверка."],
    "action": {"label": "Открыть", "path": "/settings"},
}


async def enqueue(count: int, **kwargs) -> list[OutboxMessage]:
    return [
        await send("notice", to=f"user{i}@example.ru", context=NOTICE, **kwargs)
        for i in range(count)
    ]


async def states() -> dict[str, int]:
    rows = await OutboxMessage.all().values_list("state", flat=True)
    return {state: rows.count(state) for state in set(rows)}


# ---------------------------------------------------------------- the transaction


async def test_a_rolled_back_message_is_never_sent_a_committed_one_once(
    smtp: SmtpSink, smtp_settings, clock: ManualClock
) -> None:
    with pytest.raises(RuntimeError, match="the change failed"):
        async with in_transaction():
            await send("notice", to="rolled@example.ru", context=NOTICE)
            raise RuntimeError("the change failed")
    async with in_transaction():
        committed = await send("notice", to="committed@example.ru", context=NOTICE)

    assert await deliver_all(smtp_settings, clock=clock) == 1
    clock.advance(smtp_settings.mail_lease_seconds * 10)
    assert await deliver_all(smtp_settings, clock=clock) == 0

    assert [envelope[1] for envelope in smtp.envelopes] == [["committed@example.ru"]]
    [message] = smtp.messages
    assert message["Message-ID"] == committed.message_id
    row = await OutboxMessage.get(id=committed.id)
    assert (row.state, row.attempts, row.last_error) == (MailState.SENT, 1, None)
    assert row.sent_at is not None
    assert await OutboxMessage.filter(recipient="rolled@example.ru").count() == 0


async def test_the_stored_bytes_are_what_the_server_gets(smtp, smtp_settings) -> None:
    queued = await send("notice", to="Иванова Мария <maria@example.ru>", context=NOTICE)
    await deliver_all(smtp_settings)
    [message] = smtp.messages
    assert message.as_bytes().replace(b"\r\n", b"\n") == queued.content.replace(b"\r\n", b"\n")
    assert smtp.envelopes == [("noreply@lk.example.ru", ["maria@example.ru"])]
    assert all(link.startswith("https://lk.example.ru/") for link in links_in(message))


# ---------------------------------------------------------------- failures


async def test_smtp_down_for_a_while_delays_mail_and_loses_none(
    smtp: SmtpSink, smtp_settings, clock: ManualClock
) -> None:
    queued = await enqueue(25)
    smtp.stop()
    worker = MailWorker(smtp_settings, clock=clock)
    for _outage_round in range(3):
        await deliver_all(smtp_settings, worker=worker)
        assert await states() == {"pending": 25}
        clock.advance(smtp_settings.mail_retry_max_seconds)
    assert worker.outage == 3
    rows = await OutboxMessage.all()
    assert {row.attempts for row in rows} == {0}  # an outage uses up no attempts
    assert all("cannot connect" in row.last_error for row in rows)

    smtp.start()
    clock.advance(smtp_settings.mail_retry_max_seconds)
    assert await deliver_all(smtp_settings, worker=worker) == 25
    assert await states() == {"sent": 25}
    received = smtp.by_message_id()
    assert sorted(received) == sorted(row.message_id for row in queued)
    assert all(len(copies) == 1 for copies in received.values())


@pytest.mark.parametrize("at", ["rcpt", "data"])
async def test_a_transient_4xx_is_retried_with_the_same_message_id(
    smtp: SmtpSink, smtp_settings, clock: ManualClock, at: str
) -> None:
    [queued] = await enqueue(1)
    smtp.answer("451 4.3.0 Mailbox busy, try later", times=2, at=at)

    await deliver_all(smtp_settings, clock=clock)
    row = await OutboxMessage.get(id=queued.id)
    assert (row.state, row.attempts) == (MailState.PENDING, 1)
    assert row.last_error == "451 4.3.0 Mailbox busy, try later"
    wait = (row.due_at - clock()).total_seconds()
    base = smtp_settings.mail_retry_base_seconds
    assert base * 0.5 - 1 <= wait <= base  # backoff with jitter

    await deliver_all(smtp_settings, clock=clock)  # not due yet: nothing happens
    assert (await OutboxMessage.get(id=queued.id)).attempts == 1
    clock.advance(base)
    await deliver_all(smtp_settings, clock=clock)
    row = await OutboxMessage.get(id=queued.id)
    assert (row.state, row.attempts) == (MailState.PENDING, 2)
    assert (row.due_at - clock()).total_seconds() > base  # the delay doubled

    clock.advance(2 * base)
    await deliver_all(smtp_settings, clock=clock)
    row = await OutboxMessage.get(id=queued.id)
    assert (row.state, row.attempts, row.last_error) == (MailState.SENT, 3, None)
    assert [m["Message-ID"] for m in smtp.messages] == [queued.message_id]


async def test_a_5xx_fails_the_message_with_the_servers_answer_and_only_that_one(
    smtp: SmtpSink, smtp_settings, clock: ManualClock
) -> None:
    first, second = await enqueue(2)
    smtp.answer("550 5.1.1 <user0@example.ru>: mailbox unavailable", times=1)
    await deliver_all(smtp_settings, clock=clock)

    rejected = await OutboxMessage.get(id=first.id)
    assert rejected.state == MailState.FAILED
    assert rejected.last_error == "550 5.1.1 <user0@example.ru>: mailbox unavailable"
    assert (await OutboxMessage.get(id=second.id)).state == MailState.SENT
    clock.advance(10 * smtp_settings.mail_retry_max_seconds)
    assert await deliver_all(smtp_settings, clock=clock) == 0  # never retried by itself
    assert [m["Message-ID"] for m in smtp.messages] == [second.message_id]


async def test_a_connection_lost_mid_batch_counts_for_that_message_only(
    smtp: SmtpSink, smtp_settings, clock: ManualClock
) -> None:
    first, second, third = await enqueue(3)
    smtp.answer("421 4.3.2 Service shutting down", times=1, at="data")
    await deliver_all(smtp_settings, clock=clock)
    cut = await OutboxMessage.get(id=first.id)
    assert (cut.state, cut.attempts) == (MailState.PENDING, 1)
    assert cut.last_error.startswith("421 4.3.2 Service shutting down")
    others = await OutboxMessage.filter(id__in=[second.id, third.id])
    assert {(row.state, row.attempts) for row in others} == {(MailState.SENT, 1)}

    clock.advance(smtp_settings.mail_retry_base_seconds)
    await deliver_all(smtp_settings, clock=clock)
    assert (await OutboxMessage.get(id=first.id)).state == MailState.SENT
    assert sorted(m["Message-ID"] for m in smtp.messages) == sorted(
        row.message_id for row in (first, second, third)
    )


async def test_attempts_are_capped(smtp: SmtpSink, smtp_settings, clock: ManualClock) -> None:
    settings = dataclasses.replace(smtp_settings, mail_max_attempts=3)
    [queued] = await enqueue(1, settings=settings)
    smtp.answer("452 4.2.2 Mailbox full", at="data")
    for _attempt in range(5):
        await deliver_all(settings, clock=clock)
        clock.advance(settings.mail_retry_max_seconds)
    row = await OutboxMessage.get(id=queued.id)
    assert (row.state, row.attempts) == (MailState.FAILED, 3)
    assert row.last_error == "gave up after 3 attempts: 452 4.2.2 Mailbox full"
    assert smtp.messages == []


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    import random

    rng = random.Random(7)
    delays = [retry_delay(n, 30, 3600, rng) for n in range(1, 12)]
    assert all(15 * 2 ** (n - 1) <= d <= 30 * 2 ** (n - 1) for n, d in enumerate(delays[:7], 1))
    assert all(1800 <= d <= 3600 for d in delays[8:])
    assert len(set(delays)) == len(delays)


# ---------------------------------------------------------------- leases


async def test_a_worker_killed_after_claiming_is_replaced_after_the_lease(
    smtp: SmtpSink, smtp_settings, clock: ManualClock
) -> None:
    reached, lost = await enqueue(2)
    dead = MailWorker(smtp_settings, clock=clock, name="dead")
    batch = await dead.claim()
    assert [m.id for m in batch.messages] == [reached.id, lost.id]
    # The dead worker got the first message to the server, then died before recording it.
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp.port) as client:
        await client.sendmail("noreply@lk.example.ru", [reached.recipient], reached.content)

    survivor = MailWorker(smtp_settings, clock=clock, name="survivor")
    assert await deliver_all(smtp_settings, worker=survivor) == 0  # leased: hands off
    clock.advance(smtp_settings.mail_lease_seconds + 1)
    assert await deliver_all(smtp_settings, worker=survivor) == 2

    rows = await OutboxMessage.filter(id__in=[reached.id, lost.id])
    assert {(row.state, row.attempts) for row in rows} == {(MailState.SENT, 2)}
    received = smtp.by_message_id()
    assert sorted(received) == sorted([reached.message_id, lost.message_id])
    assert len(received[reached.message_id]) == 2  # the duplicate is recognisable...
    assert len(received[lost.message_id]) == 1  # ...and exactly one of each once deduplicated

    await dead.deliver(batch)  # the dead worker comes back: its claim is void
    rows = await OutboxMessage.filter(id__in=[reached.id, lost.id])
    assert all(row.claimed_by.startswith("survivor") for row in rows)


async def test_a_message_claimed_too_often_is_given_up(
    smtp: SmtpSink, smtp_settings, clock: ManualClock
) -> None:
    settings = dataclasses.replace(smtp_settings, mail_max_attempts=2)
    [queued] = await enqueue(1, settings=settings)
    worker = MailWorker(settings, clock=clock)
    for _crash in range(2):  # the worker dies on this message every time
        await worker.claim()
        clock.advance(settings.mail_lease_seconds + 1)
    await deliver_all(settings, worker=worker)
    row = await OutboxMessage.get(id=queued.id)
    assert row.state == MailState.FAILED
    assert row.last_error == "gave up: claimed 3 times without an answer"
    assert smtp.messages == []


async def test_claims_are_atomic_across_connections(db, smtp_settings) -> None:
    """Two workers on two connections of their own claim at the same time: no row twice."""
    await enqueue(300)
    both_connected = asyncio.Barrier(2)

    async def claim_half(name: str) -> list[int]:
        with TortoiseContext() as ctx:
            await dbmod.open_db(db.url)
            try:
                worker = MailWorker(smtp_settings, name=name)
                await worker.claim(limit=0)  # opens the connection
                await both_connected.wait()
                ids: list[int] = []
                for _claim in range(25):
                    ids += [m.id for m in (await worker.claim(limit=6)).messages]
                    await asyncio.sleep(0)
                return ids
            finally:
                await ctx.close_connections()

    first, second = await asyncio.gather(claim_half("one"), claim_half("two"))
    assert len(first) == len(second) == 150
    assert not set(first) & set(second)
    assert await states() == {"sending": 300}


@pytest.mark.skipif(
    BACKEND != "postgres", reason="SKIP LOCKED sharing is PostgreSQL's; SQLite has one writer"
)
async def test_two_workers_drain_a_thousand_messages_exactly_once(
    smtp: SmtpSink, smtp_settings
) -> None:
    settings = dataclasses.replace(smtp_settings, mail_batch_size=25)
    queued = await enqueue(1000, settings=settings)
    one, two = MailWorker(settings, name="one"), MailWorker(settings, name="two")
    delivered = await asyncio.gather(
        deliver_all(settings, worker=one), deliver_all(settings, worker=two)
    )
    assert sum(delivered) == 1000
    assert min(delivered) > 0, f"one worker did all the work: {delivered}"
    assert await states() == {"sent": 1000}
    received = smtp.by_message_id()
    assert len(smtp.messages) == 1000
    assert sorted(received) == sorted(row.message_id for row in queued)


# ---------------------------------------------------------------- where mail goes


async def test_starttls_refused_keeps_mail_queued(smtp, smtp_settings, clock) -> None:
    settings = dataclasses.replace(smtp_settings, smtp_tls="starttls")
    [queued] = await enqueue(1, settings=settings)
    await deliver_all(settings, clock=clock)
    row = await OutboxMessage.get(id=queued.id)
    assert (row.state, row.attempts) == (MailState.PENDING, 0)
    assert "STARTTLS" in row.last_error
    assert smtp.messages == []


async def test_development_mailbox(settings, caplog: pytest.LogCaptureFixture) -> None:
    assert settings.smtp_host == ""
    queued = await send("notice", to="Мария <maria@example.ru>", context=NOTICE)
    with caplog.at_level(logging.INFO, logger="kabinet.mail"):
        assert await deliver_all(settings) == 1
    files = list((Path(settings.var_dir) / "mail").glob("*.eml"))
    assert [f.name for f in files] == [f"{queued.id:08d}.eml"]
    assert files[0].read_bytes() == queued.content
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("mail to")]
    assert "maria@example.ru" in line
    assert "Проверка" in line
    assert "https://lk.example.ru/settings" in line
    assert (await OutboxMessage.get(id=queued.id)).state == MailState.SENT
