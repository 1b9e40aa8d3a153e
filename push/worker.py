"""Delivery of the push outbox, as `mail.worker` delivers mail: claim due pushes in one
atomic statement (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so workers on any number of
processes and hosts take disjoint batches), send each, record the outcome fenced by the
claim token. A push that failed for a reason that may pass (the service away, 429, 5xx)
waits with exponential backoff and jitter, at least what a Retry-After said; a worker that
died mid-send leaves its pushes to whoever claims them after the lease."""

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
from mail.worker import retry_delay
from models import sql
from models.push import PushDevice, PushPlatform, PushState
from push.outbox import utcnow
from push.transport import DeadToken, Push, Refused, Retry, Senders
from services.core.background import poll_rounds, running_loop

log = logging.getLogger("kabinet.push")

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Batch:
    token: str  # the claim: fences every update of these rows
    pushes: list[Push]
    lease_until: dt.datetime


class PushWorker:
    """Delivers the push outbox. `run()` loops until stopped; tests call `run_once()`
    with a clock of their own, then `close()`."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        name: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self._claims = itertools.count(1)
        self._senders: Senders | None = None

    @property
    def senders(self) -> Senders:
        if self._senders is None:
            self._senders = Senders(self.settings)
        return self._senders

    async def close(self) -> None:
        if self._senders is not None:
            await self._senders.close()
            self._senders = None

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns the number of pushes claimed."""
        batch = await self.claim()
        await self.deliver(batch)
        return len(batch.pushes)

    async def claim(self) -> Batch:
        now = self.clock()
        lease_until = now + dt.timedelta(seconds=self.settings.push_lease_seconds)
        token = f"{self.name}#{next(self._claims)}"[-64:]
        conn = sql.connection()
        rows = await sql.claim_due(
            conn,
            "push_outbox",
            "id, device_id, event, title, body, node_id, attempts",
            now=now,
            limit=self.settings.push_batch_size,
            token=token,
            lease_until=lease_until,
            order="due_at, id",
        )
        ids = sorted({row["device_id"] for row in rows})
        devices = {
            d["id"]: d
            for d in await PushDevice.filter(id__in=ids).values("id", "platform", "token")
        }
        pushes = [
            Push(
                id=row["id"],
                device_id=row["device_id"],
                platform=PushPlatform(devices[row["device_id"]]["platform"]),
                token=devices[row["device_id"]]["token"],
                event=row["event"],
                title=row["title"],
                body=row["body"],
                node_id=row["node_id"],
                attempts=row["attempts"],
            )
            for row in sorted(rows, key=lambda r: r["id"])
            if row["device_id"] in devices  # else the device (and the push) just went
        ]
        return Batch(token, pushes, lease_until)

    async def deliver(self, batch: Batch) -> None:
        margin = min(4 * self.settings.push_timeout, self.settings.push_lease_seconds / 2)
        deadline = batch.lease_until - dt.timedelta(seconds=margin)
        for index, push in enumerate(batch.pushes):
            if push.attempts > self.settings.push_max_attempts:
                reason = f"gave up: claimed {push.attempts} times without an answer"
                await self._finish(batch, push, PushState.FAILED, reason)
                continue
            if self.clock() >= deadline:  # let another worker have the rest in time
                await self._release(batch, batch.pushes[index:])
                return
            try:
                await self.senders.send(push)
            except DeadToken as exc:
                log.info("push #%d: the token is dead (%s): device dropped", push.id, exc.reason)
                # Its pushes, this one included, go with it (ON DELETE CASCADE).
                await PushDevice.filter(id=push.device_id).delete()
            except Refused as exc:
                log.warning("push #%d refused: %s", push.id, exc.reason)
                await self._finish(batch, push, PushState.FAILED, exc.reason)
            except Retry as exc:
                await self._retry(batch, push, exc)
            else:
                await self._sent(batch, push)

    # ------------------------------------------------------------ outcomes

    async def _retry(self, batch: Batch, push: Push, exc: Retry) -> None:
        s = self.settings
        if push.attempts >= s.push_max_attempts:
            reason = f"gave up after {push.attempts} attempts: {exc.reason}"
            log.warning("push #%d: %s", push.id, reason)
            await self._finish(batch, push, PushState.FAILED, reason)
            return
        delay = retry_delay(
            push.attempts, s.push_retry_base_seconds, s.push_retry_max_seconds, self.rng
        )
        delay = max(delay, min(exc.after or 0, s.push_retry_max_seconds))
        log.info("push #%d: %s; next attempt in %.0f s", push.id, exc.reason, delay)
        await self._finish(batch, push, PushState.PENDING, exc.reason, delay)

    async def _finish(
        self, batch: Batch, push: Push, state: PushState, reason: str, delay: float = 0
    ) -> None:
        due = self.clock() + dt.timedelta(seconds=delay)
        await self._update(
            "UPDATE push_outbox SET state = ?, due_at = ?, last_error = ? "
            "WHERE claimed_by = ? AND state = 'sending' AND id = ?",
            [state.value, due, reason, batch.token, push.id],
            batch,
        )

    async def _sent(self, batch: Batch, push: Push) -> None:
        await self._update(
            "UPDATE push_outbox SET state = 'sent', sent_at = ?, last_error = NULL "
            "WHERE claimed_by = ? AND state = 'sending' AND id = ?",
            [self.clock(), batch.token, push.id],
            batch,
        )

    async def _release(self, batch: Batch, pushes: Sequence[Push]) -> None:
        """Put pushes back untried: their claim does not count as an attempt."""
        for push in pushes:
            await self._update(
                "UPDATE push_outbox SET state = 'pending', due_at = ?, "
                "attempts = attempts - 1 WHERE claimed_by = ? AND state = 'sending' AND id = ?",
                [self.clock(), batch.token, push.id],
                batch,
            )

    async def _update(self, statement: str, params: list, batch: Batch) -> None:
        if await sql.execute(sql.connection(), statement, params) != 1:
            log.warning(
                "push: claim %s lost a push to another worker after its lease ran out, "
                "or its device went meanwhile",
                batch.token,
            )

    # ------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; finishes the batch in hand before returning."""
        log.info("push worker %s delivers to %s", self.name, self.senders.describe())
        s = self.settings
        if s.is_production and not (s.fcm_credentials_file and s.apns_key_file):
            log.warning(
                "push: FCM_CREDENTIALS_FILE or APNS_KEY_FILE is not set in production: "
                "those pushes go to %s, not to any phone",
                s.var_path / "push",
            )
        try:
            await poll_rounds(
                stop,
                self.run_once,
                full=self.settings.push_batch_size,
                pause=self.settings.mail_poll_seconds,
                what=f"push worker {self.name}",
            )
        finally:
            await self.close()
        log.info("push worker %s stopped", self.name)


def running_push_worker(
    settings: Settings, grace_seconds: float = 10
) -> contextlib.AbstractAsyncContextManager[asyncio.Task]:
    """A push worker in a background task for the duration of the block."""
    return running_loop("push-worker", PushWorker(settings).run, grace_seconds)
