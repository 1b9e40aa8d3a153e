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


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's cpuset, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def pool_size() -> int:
    """Threads of each background pool: every CPU but one, which is left to the event
    loop, and at least one; at most 4 (an Argon2 hash holds 19 MiB while it runs)."""
    return max(1, min(4, usable_cpus() - 1))


def background_pool(name: str) -> ThreadPoolExecutor:
    """A small pool at a lower priority, leaving a core to the event loop: a flood of
    such work queues for the pool (its queue holds only the calls' arguments) instead
    of slowing every other request down."""
    return ThreadPoolExecutor(
        max_workers=pool_size(), thread_name_prefix=name, initializer=_lower_priority
    )
