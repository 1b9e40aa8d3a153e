"""Work a server process does beside answering requests: loops in background tasks for
the duration of its lifespan (the mail worker, the e-receipt dispatcher, the payment
sweeper, the attachments cleanup). Each stops cleanly when the lifespan ends, and a round
that fails (the database is away) is logged and the loop goes on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from models import db

log = logging.getLogger("kabinet")


async def poll_rounds(
    stop: asyncio.Event,
    run_once: Callable[[], Awaitable[int | object]],
    *,
    pause: float,
    what: str,
    full: int | None = None,
) -> None:
    """Call `run_once` until `stop` is set. With `full`, `run_once` returns how many items
    it handled and a full round is followed at once by the next (a backlog drains without
    pauses); otherwise, and after a round that was not full, wait `pause` seconds (or
    until stopped)."""
    while not stop.is_set():
        try:
            handled = await run_once()
        except Exception as exc:
            if (cause := db.outage_cause(exc)) is not None:  # expected; the next round retries
                reason = db.describe_outage(cause)
                log.warning("%s: round failed, database unavailable: %s", what, reason)
            else:
                log.exception("%s: round failed", what)
            handled = 0
        if full is None or not isinstance(handled, int) or handled < full:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)


@contextlib.asynccontextmanager
async def running_loop(
    name: str, run: Callable[[asyncio.Event], Awaitable[None]], grace_seconds: float = 10
) -> AsyncIterator[asyncio.Task]:
    """`run(stop)` in a background task for the duration of the block (the server's
    lifespan). On exit `stop` is set and the loop finishes its round, or is cancelled
    after `grace_seconds`; what it had claimed and not finished is retried after its
    lease."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(stop), name=name)
    try:
        yield task
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, grace_seconds)
        except TimeoutError:
            log.warning("%s did not stop within %s s and was cancelled", name, grace_seconds)


def every(
    name: str, seconds: float, run_once: Callable[[], Awaitable[object]]
) -> contextlib.AbstractAsyncContextManager[asyncio.Task]:
    """`run_once` every `seconds` in a background task for the duration of the block."""

    async def run(stop: asyncio.Event) -> None:
        await poll_rounds(stop, run_once, pause=seconds, what=name)

    return running_loop(name, run)
