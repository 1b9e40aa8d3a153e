"""The sweeper: payments left PENDING past PAYMENT_PENDING_TIMEOUT_MINUTES become FAILED.

An acquirer that can be asked (`PollingProvider`, YooKassa) is asked first about the
payments still pending, so a lost notification delays a payment, never loses it.

Each server process runs one in its lifespan (one UPDATE per PAYMENT_SWEEP_SECONDS,
harmless when several processes do it); with PAYMENT_PROVIDER=none no process starts it
and a round does nothing. Tests call `services.payments.rules.fail_stale()`
after moving `services.core.clock.clock`, or `Sweeper.run_once()`; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib

from config import Settings
from payments.providers import ProviderError, provider_for
from services.core.background import every
from services.payments.recurring import Charger
from services.payments.rules import check_pending, fail_stale


class Sweeper:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def run_once(self) -> int:
        try:
            provider = provider_for(self.settings)
        except ProviderError:
            provider = None
        if provider is not None and hasattr(provider, "payment_status"):
            await check_pending(provider, provider.name)
        return await fail_stale()


def running_charger(settings: Settings) -> contextlib.AbstractAsyncContextManager[asyncio.Task]:
    """Autopay's charger in a background task for the duration of the block (the lifespan;
    every process runs one, and each due bill is claimed by one of them)."""
    return every("autopay charger", settings.autopay_poll_seconds, Charger(settings).run_once)


def running_sweeper(settings: Settings) -> contextlib.AbstractAsyncContextManager[asyncio.Task]:
    """A sweeper in a background task for the duration of the block (the lifespan)."""
    return every("payment sweeper", settings.payment_sweep_seconds, Sweeper(settings).run_once)
