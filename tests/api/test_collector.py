"""The cycle collector after startup (server.py's lifespan): what was loaded by then is
frozen out of its sight, and the cycles requests leave behind go in small, regular full
collections - not in one large one, long after startup, that stalls the event loop."""

from __future__ import annotations

import gc

import server
from server import create_app


def _churn(objects: int) -> None:
    """Cycles that only the collector can free, alive long enough to reach its oldest
    generation (as a request's do while the request is under way)."""
    alive: list[list] = []
    for _ in range(objects):
        cycle: list = []
        cycle.append(cycle)
        alive.append(cycle)
        if len(alive) == 5_000:
            alive = []


async def test_full_collections_after_startup_do_not_wait_for_the_frozen_heap(
    settings, monkeypatch
) -> None:
    # A young generation of CPython's size: the server's own (server.GC_YOUNG) lets more
    # pass between two full collections than a quarter of the frozen heap, and the churn
    # below could not tell whether the collector still counts that heap.
    monkeypatch.setattr(server, "GC_YOUNG", 700)
    app = create_app(settings, manage_db=False)
    full: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(info["collected"])

    before = gc.get_threshold()
    async with app.router.lifespan_context(app):
        # Left counting the frozen heap as its long-lived objects, the collector would
        # wait for a quarter of that many to pile up before a full collection; half that
        # is churned here, several times what the server's thresholds let pass between
        # two looks at the oldest generation.
        young, middle, oldest = gc.get_threshold()
        churn = gc.get_freeze_count() // 8
        assert churn > 3 * young * middle * oldest
        gc.callbacks.append(note)
        try:
            _churn(churn)
        finally:
            gc.callbacks.remove(note)
    assert gc.get_threshold() == before  # the process's own again after shutdown
    assert full, "no full collection"
    assert sum(full) > 0
