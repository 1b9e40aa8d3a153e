"""Thread pools for CPU work that must not stall the event loop (password hashes, PDFs)."""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor


def _lower_priority() -> None:
    """The pool's work yields the CPU to request handling: it may wait a few milliseconds
    more, the dashboards of everyone else do not (Linux: nice applies per thread)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def background_pool(name: str) -> ThreadPoolExecutor:
    """A small pool at a lower priority, leaving a core to the event loop: a flood of
    such work queues for the pool instead of slowing every other request down."""
    return ThreadPoolExecutor(
        max_workers=max(1, min(4, (os.cpu_count() or 2) - 1)),
        thread_name_prefix=name,
        initializer=_lower_priority,
    )
