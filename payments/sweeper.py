"""The sweeper: payments left PENDING past PAYMENT_PENDING_TIMEOUT_MINUTES become FAILED.

Each server process runs one in its lifespan (one UPDATE per PAYMENT_SWEEP_SECONDS,
harmless when several processes do it). Tests call `services.payments.fail_stale()`
after moving `services.clock.clock`, or `Sweeper.run_once()`; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from config import Settings
from services.payments import fail_stale

log = logging.getLogger("kabinet.payments")


class Sweeper:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def run_once(self) -> int:
        return await fail_stale()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the database is away: try again next round
                log.exception("payment sweeper: round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.payment_sweep_seconds)


@contextlib.asynccontextmanager
async def running_sweeper(settings: Settings) -> AsyncIterator[asyncio.Task]:
    """A sweeper in a background task for the duration of the block (the lifespan)."""
    stop = asyncio.Event()
    task = asyncio.create_task(Sweeper(settings).run(stop), name="payment-sweeper")
    try:
        yield task
    finally:
        stop.set()
        await task
