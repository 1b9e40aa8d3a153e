"""The background pools (Argon2, receipt PDFs) leave a core to the event loop."""

from __future__ import annotations

import pytest

from services.core import pools


@pytest.mark.parametrize("cpus, threads", [(1, 1), (2, 1), (3, 2), (8, 4), (64, 4)])
def test_a_pool_has_a_thread_for_every_cpu_but_one(monkeypatch, cpus: int, threads: int) -> None:
    monkeypatch.setattr(pools, "usable_cpus", lambda: cpus)
    assert pools.pool_size() == threads
