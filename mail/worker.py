"""Delivery of the outbox: claim due messages, send them, record the outcome.

A claim is one atomic statement that moves up to MAIL_BATCH_SIZE due rows to `sending`
with a lease (`due_at` becomes the end of the lease) and a claim token of its own. On
PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so workers on any number of
hosts take disjoint batches without waiting on each other; SQLite runs one writer at a
time, which makes the same statement atomic there. Every later update of a claimed row
is fenced by its claim token: a worker whose lease ran out cannot overwrite what the
worker that took the row over recorded.

Rows whose lease expired are due again: a worker that died mid-send is thereby retried.
Delivery is at least once; the stored Message-ID makes a duplicate recognisable.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from config import Settings
from mail.outbox import Clock, utcnow
from mail.transport import Rejected, Transport, Unreachable, transport_for
from models import sql
from models.mail import MailState
from services.core.background import poll_rounds, running_loop

log = logging.getLogger("kabinet.mail")


@dataclass(frozen=True)
class Claimed:
    id: int
    message_id: str
    recipient: str
    subject: str
    content: bytes
    attempts: int  # this attempt included


@dataclass(frozen=True)
class Batch:
    token: str  # the claim: fences every update of these rows
    messages: list[Claimed]
    lease_until: dt.datetime


def retry_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: base, 2*base, 4*base... up to cap, each scaled by a
    random factor in [0.5, 1] so that messages failed together do not return together."""
    return min(cap, base * 2 ** max(attempt - 1, 0)) * rng.uniform(0.5, 1.0)


class MailWorker:
    """Delivers the outbox. `run()` loops until stopped; tests call `claim()`, `deliver()`
    and `run_once()` directly, with a clock of their own."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        name: str | None = None,
        transport: Callable[[Settings], Transport] = transport_for,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.transport = transport
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self.outage = 0  # connection failures in a row, for the backoff of the whole batch
        self._claims = itertools.count(1)

    # ------------------------------------------------------------ one round

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns the number of messages claimed."""
        batch = await self.claim()
        await self.deliver(batch)
        return len(batch.messages)

    async def claim(self, limit: int | None = None) -> Batch:
        now = self.clock()
        lease_until = now + dt.timedelta(seconds=self.settings.mail_lease_seconds)
        token = f"{self.name}#{next(self._claims)}"[-64:]
        rows = await sql.claim_due(
            sql.connection(),
            "mail_outbox",
            "id, message_id, recipient, subject, content, attempts, lane",
            now=now,
            limit=self.settings.mail_batch_size if limit is None else limit,
            token=token,
            lease_until=lease_until,
            order="lane, due_at",  # security notices first, however much routine mail waits
        )
        messages = [
            Claimed(
                row["id"],
                row["message_id"],
                row["recipient"],
                row["subject"],
                bytes(row["content"]),
                row["attempts"],
            )
            for row in sorted(rows, key=lambda r: (r["lane"], r["id"]))
        ]
        return Batch(token, messages, lease_until)

    async def deliver(self, batch: Batch) -> None:
        """Send a claimed batch over one connection and record each outcome."""
        if not batch.messages:
            return
        transport = self.transport(self.settings)
        try:
            await transport.open()
        except Unreachable as exc:
            self.outage += 1
            delay = self._delay(self.outage)
            waiting = len(batch.messages)
            log.warning("mail: %s; %d message(s) wait %.0f s", exc.reason, waiting, delay)
            await self._release(batch, batch.messages, exc.reason, delay)
            return
        self.outage = 0
        sent: list[int] = []
        try:
            await self._send_all(transport, batch, sent)
        finally:
            await self._mark_sent(batch, sent)
            await transport.close()

    async def _send_all(self, transport: Transport, batch: Batch, sent: list[int]) -> None:
        timeout = self.settings.smtp_timeout
        margin = min(4 * timeout, self.settings.mail_lease_seconds / 2)
        deadline = batch.lease_until - dt.timedelta(seconds=margin)
        for index, message in enumerate(batch.messages):
            if message.attempts > self.settings.mail_max_attempts:
                reason = f"gave up: claimed {message.attempts} times without an answer"
                await self._finish(batch, message, MailState.FAILED, reason)
                continue
            if self.clock() >= deadline:  # let another worker have the rest in time
                await self._release(batch, batch.messages[index:], "lease ran out", 0)
                return
            try:
                await transport.deliver(
                    message.id, message.recipient, message.subject, message.content
                )
            except Rejected as exc:
                await self._rejected(batch, message, exc)
            except Unreachable as exc:
                # It may have reached the server: this attempt counts, the rest do not.
                log.warning("mail: %s; the batch is put back", exc.reason)
                await self._rejected(batch, message, Rejected(exc.reason, permanent=False))
                await self._release(batch, batch.messages[index + 1 :], exc.reason, 0)
                return
            else:
                sent.append(message.id)

    # ------------------------------------------------------------ outcomes

    def _delay(self, attempt: int) -> float:
        s = self.settings
        return retry_delay(attempt, s.mail_retry_base_seconds, s.mail_retry_max_seconds, self.rng)

    async def _rejected(self, batch: Batch, message: Claimed, exc: Rejected) -> None:
        if exc.permanent:
            log.warning("mail #%d to %s rejected: %s", message.id, message.recipient, exc.reason)
            await self._finish(batch, message, MailState.FAILED, exc.reason)
        elif message.attempts >= self.settings.mail_max_attempts:
            reason = f"gave up after {message.attempts} attempts: {exc.reason}"
            log.warning("mail #%d to %s: %s", message.id, message.recipient, reason)
            await self._finish(batch, message, MailState.FAILED, reason)
        else:
            delay = self._delay(message.attempts)
            await self._finish(batch, message, MailState.PENDING, exc.reason, delay)

    async def _finish(
        self, batch: Batch, message: Claimed, state: MailState, reason: str, delay: float = 0
    ) -> None:
        due = self.clock() + dt.timedelta(seconds=delay)
        await self._update(
            "UPDATE mail_outbox SET state = ?, due_at = ?, last_error = ? "
            "WHERE claimed_by = ? AND state = 'sending' AND id = ?",
            [state.value, due, reason, batch.token, message.id],
            batch,
            1,
        )

    async def _release(
        self, batch: Batch, messages: Sequence[Claimed], reason: str, delay: float
    ) -> None:
        """Put messages back untried: their claim does not count as an attempt."""
        if not messages:
            return
        ids = [m.id for m in messages]
        due = self.clock() + dt.timedelta(seconds=delay)
        await self._update(
            "UPDATE mail_outbox SET state = 'pending', due_at = ?, attempts = attempts - 1, "  # noqa: S608 (only ?)
            "last_error = ? WHERE claimed_by = ? AND state = 'sending' "
            f"AND id IN ({sql.marks(ids)})",
            [due, reason, batch.token, *ids],
            batch,
            len(ids),
        )

    async def _mark_sent(self, batch: Batch, ids: list[int]) -> None:
        """Record delivery and drop the message body: its links (a reset, a confirmation)
        would stay live in every backup of the table. The row keeps what an audit needs:
        recipient, subject, Message-ID, when it was queued and when it was sent."""
        if not ids:
            return
        await self._update(
            "UPDATE mail_outbox SET state = 'sent', sent_at = ?, last_error = NULL, "  # noqa: S608 (only ?)
            f"content = ? WHERE claimed_by = ? AND state = 'sending' AND id IN ({sql.marks(ids)})",
            [self.clock(), b"", batch.token, *ids],
            batch,
            len(ids),
        )

    async def _update(self, statement: str, params: list, batch: Batch, expected: int) -> None:
        changed = await sql.execute(sql.connection(), statement, params)
        if changed != expected:
            log.warning(
                "mail: claim %s lost %d row(s) to another worker after its lease ran out; "
                "they may be delivered twice (same Message-ID)",
                batch.token,
                expected - changed,
            )

    # ------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; finishes the batch in hand before returning."""
        where = (
            f"SMTP {self.settings.smtp_host}:{self.settings.smtp_port}"
            if self.settings.smtp_host
            else f"the development mailbox {self.settings.var_path / 'mail'}"
        )
        log.info("mail worker %s delivers to %s", self.name, where)
        if self.settings.is_production and not self.settings.smtp_host:
            log.warning("mail: SMTP_HOST is not set in production: nobody will get any mail")
        await poll_rounds(
            stop,
            self.run_once,
            full=self.settings.mail_batch_size,
            pause=self.settings.mail_poll_seconds,
            what=f"mail worker {self.name}",
        )
        log.info("mail worker %s stopped", self.name)


def running_worker(
    settings: Settings, grace_seconds: float = 10
) -> contextlib.AbstractAsyncContextManager[asyncio.Task]:
    """A mail worker in a background task for the duration of the block."""
    return running_loop("mail-worker", MailWorker(settings).run, grace_seconds)
