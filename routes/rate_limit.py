"""The request rate limit: RATE_LIMIT_PER_MINUTE requests per client IP (an IPv6 client by
its /64) in any moving minute, in each server process. The `limits` library's moving-window
strategy counts them, over a storage of our own (`Windows`) instead of
`limits.storage.MemoryStorage`: that one sweeps every client's window from a timer thread
every 10 ms while requests come (measured: with 5,000 clients active in a minute the event
loop runs at about two thirds of its speed, with 20,000 at under half), and keeps every
client it has seen until the sweep finds its window empty."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import OrderedDict, deque
from typing import Any

from limits import RateLimitItemPerMinute
from limits.storage import MovingWindowSupport, Storage
from limits.strategies import MovingWindowRateLimiter
from starlette.responses import JSONResponse

from config import Settings
from services.core import telemetry
from services.core.throttle import client_key


class Windows(Storage, MovingWindowSupport):
    """Moving windows in this process's memory, for the event loop's thread alone (no
    locks, no threads). A window is the times of the requests it counted, oldest first;
    what has left the window is dropped when the window is next read, so a request costs
    O(1) amortized. Clients are kept in order of their last request: every request also
    drops up to two clients quiet for longer than the window, and past `max_clients` the
    longest quiet goes, so memory follows the clients of the last minute and has a bound."""

    STORAGE_SCHEME = None  # made directly, not from a storage URI

    def __init__(self, max_clients: int = 100_000) -> None:
        super().__init__()
        self.max_clients = max_clients
        self.windows: OrderedDict[str, deque[float]] = OrderedDict()

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        now = time.time()
        window = self._current(self.windows.pop(key, None), now, expiry)
        allowed = len(window) + amount <= limit
        if allowed:
            window.extend([now] * amount)
        if window:
            self.windows[key] = window  # the most recently active client now
        self._forget_quiet(now, expiry)
        return allowed

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(when the oldest request still counted was made, how many are counted)."""
        now = time.time()
        window = self.windows.get(key)
        if window is not None:
            self._current(window, now, expiry)
        return (window[0], len(window)) if window else (now, 0)

    @staticmethod
    def _current(window: deque[float] | None, now: float, expiry: float) -> deque[float]:
        window = window if window is not None else deque()
        while window and window[0] <= now - expiry:
            window.popleft()
        return window

    def _forget_quiet(self, now: float, expiry: float) -> None:
        for _ in range(2):
            oldest = next(iter(self.windows.values()), None)
            if oldest is None or oldest[-1] > now - expiry:
                break
            self.windows.popitem(last=False)
        while len(self.windows) > self.max_clients:
            self.windows.popitem(last=False)

    # The fixed-window counters of the other strategies: the moving window needs none.

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("Windows serves the moving-window strategy only")

    def get(self, key: str) -> int:
        return len(self.windows.get(key, ()))

    def get_expiry(self, key: str) -> float:
        return time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        count = len(self.windows)
        self.windows.clear()
        return count

    def clear(self, key: str) -> None:
        self.windows.pop(key, None)


class RateLimit:
    """RATE_LIMIT_PER_MINUTE requests per client IP in any moving minute, counted in each
    process by the `limits` library; past it 429 with Retry-After. Every answer carries the
    RateLimit-* headers, and `rateLimit` in the API reads the same count."""

    EXEMPT = ("/healthz", "/readyz", "/metrics")

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.limit = settings.rate_limit_per_minute
        self.per_minute = RateLimitItemPerMinute(self.limit)
        # In memory, so the synchronous API blocks nothing (limits.aio costs three to eight
        # times the CPU per request).
        self.limiter = MovingWindowRateLimiter(Windows())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and self.limit > 0:
            await self._handshake(scope, receive, send)
            return
        if scope["type"] != "http" or self.limit <= 0 or scope["path"] in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        client = client_key((scope.get("client") or ("", 0))[0])  # an IPv6 client by its /64
        allowed = self.limiter.hit(self.per_minute, client)
        stats = self.limiter.get_window_stats(self.per_minute, client)
        # The budget is full again a window after the last request counted: this one when
        # it was allowed; a refused one is not counted, so that is at the latest.
        full_in = self.per_minute.get_expiry()
        scope.setdefault("state", {})["rate_limit"] = {
            "limit": self.limit,
            "remaining": stats.remaining,
            "reset_at": dt.datetime.now(dt.UTC) + dt.timedelta(seconds=full_in),
        }
        headers = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(stats.remaining).encode()),
            (b"ratelimit-reset", str(full_in).encode()),
        ]
        if not allowed:
            # One request comes back when the oldest counted leaves the window.
            wait = max(math.ceil(stats.reset_time - time.time()), 1)
            await self._refuse(wait, headers, scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _handshake(self, scope: Any, receive: Any, send: Any) -> None:
        """A WebSocket's handshake counts as one request of its client; past the budget it
        is refused (before it is accepted: an HTTP 403 to the client)."""
        client = client_key((scope.get("client") or ("", 0))[0])
        if self.limiter.hit(self.per_minute, client):
            await self.app(scope, receive, send)
            return
        telemetry.RATE_LIMITED.inc()
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008, "reason": "Too many requests"})

    async def _refuse(
        self, wait: int, headers: list[tuple[bytes, bytes]], scope: Any, receive: Any, send: Any
    ) -> None:
        telemetry.RATE_LIMITED.inc()
        response = JSONResponse(
            {
                "errors": [
                    {
                        "message": "Too many requests: slow down and retry later.",
                        "extensions": {"code": "RATE_LIMITED", "retryAfter": wait},
                    }
                ]
            },
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
        response.raw_headers.extend(headers)
        await response(scope, receive, send)
