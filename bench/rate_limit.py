"""What the request rate limiter costs the event loop while many clients are active.

The limiter (routes/rate_limit.py) counts with the `limits` library's moving window. Its
stock `MemoryStorage` sweeps every client's window from a timer thread every 10 ms while
requests come; `Windows`, ours, drops what has left a window when it is next read. For each
number of clients active in the last minute, this fills a limiter of each kind, keeps
requests coming (as a server does), and times a fixed piece of pure-Python work on the main
thread against the same work with no limiter at all, measured in the same run.

    .venv/bin/python bench/rate_limit.py [--clients 1000,5000,20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from routes.rate_limit import Windows

ITEM = RateLimitItemPerMinute(600)


def work(n: int = 3_000_000) -> float:
    """Seconds of a fixed loop: what the event loop would be doing."""
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - start


def slowdown(storage: object, clients: int) -> float:
    limiter = MovingWindowRateLimiter(storage)  # type: ignore[arg-type]
    for client in range(clients):
        limiter.hit(ITEM, f"203.0.113.{client}")
    stop = threading.Event()

    def requests() -> None:  # a request every 5 ms keeps MemoryStorage's sweep going
        while not stop.is_set():
            limiter.hit(ITEM, "198.51.100.1")
            time.sleep(0.005)

    thread = threading.Thread(target=requests)
    thread.start()
    try:
        return work()
    finally:
        stop.set()
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1000,5000,20000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("clients active | event loop's speed with MemoryStorage | with Windows (1.00 = none)")
    for clients in (int(c) for c in args.clients.split(",")):
        # In turns, so a drift of the machine's speed touches all three alike.
        times: dict[str, list[float]] = {"none": [], "stock": [], "ours": []}
        for _ in range(args.repeat):
            times["none"].append(work())
            times["stock"].append(slowdown(MemoryStorage(), clients))
            times["ours"].append(slowdown(Windows(), clients))
        none, stock, ours = (min(times[k]) for k in ("none", "stock", "ours"))
        print(f"{clients:>14} | {none / stock:>37.2f} | {none / ours:>13.2f}")


if __name__ == "__main__":
    main()
