"""The request rate limit is a moving window: a request counts for one minute after it
was made, and the budget comes back as the requests of a minute ago leave the window."""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest

from server import create_app


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The wall clock the limiter reads, moved by the test."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


async def test_the_budget_comes_back_as_the_minute_moves(settings, clock) -> None:
    app = create_app(dataclasses.replace(settings, rate_limit_per_minute=3), manage_db=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        start = clock[0]
        for remaining in (2, 1, 0):  # at 0 s, 20 s and 40 s
            response = await http.get("/")
            assert response.status_code == 200
            assert response.headers["ratelimit-remaining"] == str(remaining)
            assert response.headers["ratelimit-reset"] == "60"  # full again a minute on
            clock[0] += 20

        clock[0] = start + 59.5  # the request made at 0 s still counts
        refused = await http.get("/")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert refused.json()["errors"][0]["extensions"]["retryAfter"] == 1

        clock[0] = start + 60.5  # it has left the window: one request is allowed again
        again = await http.get("/")
        assert again.status_code == 200
        assert again.headers["ratelimit-remaining"] == "0"
        refused = await http.get("/")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "20"  # when the one made at 20 s leaves
