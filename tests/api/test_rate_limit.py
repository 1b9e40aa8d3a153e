"""The request rate limit is a moving window: a request counts for one minute after it
was made, and the budget comes back as the requests of a minute ago leave the window."""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest

from routes.rate_limit import Windows
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


def test_a_refused_request_is_not_counted(clock) -> None:
    windows = Windows()
    assert [windows.acquire_entry("a", 2, 60) for _ in range(3)] == [True, True, False]
    assert windows.get_moving_window("a", 2, 60) == (clock[0], 2)
    clock[0] += 60  # both leave the window together
    assert windows.get_moving_window("a", 2, 60) == (clock[0], 0)
    assert windows.acquire_entry("a", 2, 60)


def test_clients_quiet_for_a_window_are_forgotten(clock) -> None:
    windows = Windows()
    for client in ("a", "b", "c"):
        windows.acquire_entry(client, 5, 60)
    clock[0] += 61
    windows.acquire_entry("d", 5, 60)  # each request drops up to two quiet clients
    assert list(windows.windows) == ["c", "d"]
    windows.acquire_entry("d", 5, 60)
    assert list(windows.windows) == ["d"]


def test_the_clients_kept_are_bounded(clock) -> None:
    windows = Windows(max_clients=3)
    for client in ("a", "b", "c", "d"):
        windows.acquire_entry(client, 5, 60)
        clock[0] += 1
    windows.acquire_entry("b", 5, 60)  # the fourth client pushed out a, the quietest;
    # b, active again, is now the last to go
    assert list(windows.windows) == ["c", "d", "b"]
