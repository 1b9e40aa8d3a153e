"""Does a stream of logins (Argon2) slow the dashboard down?

    python bench/login_under_load.py [--rate 20] [--seconds 15] [--rounds 3] [--database URL]

A server process (uvicorn, one worker) serves the app; an open-loop client sends the
2x12 dashboard query at a fixed rate, alone and while logins with the right password
arrive at 10/s, the two conditions alternating in `--rounds` rounds (so a change in the
machine's load falls on both alike), `--seconds` of each in all. Every latency counts
from the request's scheduled start, so a stall is not hidden by the requests it held
back. Prints p50/p99 of the dashboard both ways, the ratio of the p99s (goal <= 1.5) and
the longest event-loop stall the server saw (goal <= 10 ms), measured inside the server
by a task that sleeps 5 ms again and again and records the overshoot on the
`perf_counter` clock (uvloop's own clock counts whole milliseconds); then whether each
goal is met. Beside each p99 it prints the server's own time a dashboard (from the
request's arrival to its answer's last byte), which tells the server's part of a tail
from the client's and the machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Fresh, served  # noqa: E402
from bench.dashboard import QUERY, prepare  # noqa: E402

PASSWORD = "bench-Login-Password-1"
LOGIN = """mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) {
  token userErrors { code } } }"""
LOGINS_PER_SECOND = 10
LOGIN_USERS = 50
PROBE_SLEEP = 0.005
GOAL_RATIO = 1.5
GOAL_STALL_MS = 10.0
# what the server's probe reports of a stretch of time (longest stalls and GC pause, ms)
NO_STALLS = {"max": 0.0, "busy": 0.0, "over": 0, "probes": 0, "gc": 0.0, "gc_generation": 0}


def server_app():
    """The real app plus a probe: GET /bench/stall answers the stalls seen since the
    last call (the first call starts the probe task) and how long the server took over
    each dashboard meanwhile, from the request's arrival to its answer's last byte."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from server import create_app

    app = create_app()
    state = {"task": None, "gc_started": 0.0}
    seen = dict(NO_STALLS)

    def garbage_collection(phase: str, info: dict) -> None:
        """The longest pause of the cycle collector: one cause of a stall to tell apart."""
        if phase == "start":
            state["gc_started"] = time.perf_counter()
        else:
            pause = (time.perf_counter() - state["gc_started"]) * 1000
            if pause > seen["gc"]:
                seen["gc"], seen["gc_generation"] = pause, info["generation"]

    gc.callbacks.append(garbage_collection)

    async def monitor() -> None:
        """Sleep 5 ms again and again; an overshoot is a stall. `busy` is the part of a
        stall the loop thread spent computing - work that blocked the loop - leaving out
        time the machine gave to other threads and processes."""
        while True:
            started, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(PROBE_SLEEP)
            overshoot = (time.perf_counter() - started - PROBE_SLEEP) * 1000
            busy = min(overshoot, (time.thread_time() - cpu) * 1000)
            seen["max"] = max(seen["max"], overshoot)
            seen["busy"] = max(seen["busy"], busy)
            seen["over"] += busy > GOAL_STALL_MS
            seen["probes"] += 1

    served: list[float] = []

    async def stall(_request: Request) -> JSONResponse:
        if state["task"] is None:
            state["task"] = asyncio.create_task(monitor())
        worst = {**seen, "served": list(served)}
        seen.update(NO_STALLS)
        served.clear()
        return JSONResponse(worst)

    # first: the web client answers every other GET path with its page
    app.router.routes.insert(0, Route("/bench/stall", stall, methods=["GET"]))

    async def timed(scope: dict, receive: Any, send: Any) -> None:
        """The dashboards (the requests with a session: a login has none), timed."""
        if scope["type"] != "http" or not any(k == b"authorization" for k, _ in scope["headers"]):
            return await app(scope, receive, send)
        started = time.perf_counter()

        async def sending(message: dict) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                served.append((time.perf_counter() - started) * 1000)

        return await app(scope, receive, sending)

    return timed


def login_emails(count: int = LOGIN_USERS) -> list[str]:
    return [f"login{i}@bench.example" for i in range(count)]


async def add_login_users(url: str, count: int = LOGIN_USERS) -> list[str]:
    """Cabinets that log in in turn: the logins of one cabinet from one address at once
    count as failures until each is proven (the login throttle), and customers who log
    in at 10/s are many."""
    from models import db
    from models.cabinets import Cabinet
    from services.security.passwords import hash_password

    await db.open_db(url)
    emails = login_emails(count)
    password_hash = await hash_password(PASSWORD)
    await Cabinet.bulk_create([Cabinet(email=e, password_hash=password_hash) for e in emails])
    await db.close_db()
    return emails


class Phase:
    """What one condition measured over its rounds."""

    def __init__(self) -> None:
        self.dashboard: list[float] = []
        self.logins: list[float] = []
        self.client_lag = 0.0  # the client's own lateness in starting a request, ms
        self.stall = dict(NO_STALLS)
        self.served: list[float] = []  # the server's own time a dashboard, ms

    def add_stall(self, seen: dict) -> None:
        self.served += seen["served"]
        if seen["gc"] > self.stall["gc"]:
            self.stall["gc_generation"] = seen["gc_generation"]
        for key in ("max", "busy", "gc"):
            self.stall[key] = max(self.stall[key], seen[key])
        for key in ("over", "probes"):
            self.stall[key] += seen[key]


async def run(port: int, token: str, emails: list[str], rate: float, seconds: float, rounds: int):
    import httpx

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits
    ) as http:
        headers = {"Authorization": f"Bearer {token}"}

        async def dashboard() -> None:
            response = await http.post(
                "/graphql", json={"query": QUERY, "variables": {"n": 12}}, headers=headers
            )
            response.raise_for_status()
            assert "errors" not in response.json(), response.text

        turn = itertools.count()

        async def login() -> None:
            email = emails[next(turn) % len(emails)]
            response = await http.post(
                "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": PASSWORD}}
            )
            assert response.json()["data"]["login"]["token"], response.text

        async def open_loop(make, per_second: float, span: float, into: list, phase: Phase):
            """Start a request every 1/per_second seconds whatever the answers' speed;
            each latency counts from the request's scheduled start."""

            async def timed(scheduled: float) -> None:
                phase.client_lag = max(phase.client_lag, (time.perf_counter() - scheduled) * 1000)
                await make()
                into.append((time.perf_counter() - scheduled) * 1000)

            tasks = []
            start = time.perf_counter()
            for i in range(round(per_second * span)):
                scheduled = start + i / per_second
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(timed(scheduled)))
            await asyncio.gather(*tasks)

        for _ in range(20):
            await dashboard()
        for _ in range(3):  # the login document parsed and validated once, as in service
            await login()
        await http.get("/bench/stall")
        await asyncio.sleep(0.5)

        alone, loaded = Phase(), Phase()
        span = seconds / rounds
        for _ in range(rounds):
            await http.get("/bench/stall")
            await open_loop(dashboard, rate, span, alone.dashboard, alone)
            alone.add_stall((await http.get("/bench/stall")).json())
            await asyncio.gather(
                open_loop(dashboard, rate, span, loaded.dashboard, loaded),
                open_loop(login, LOGINS_PER_SECOND, span, loaded.logins, loaded),
            )
            loaded.add_stall((await http.get("/bench/stall")).json())
    return alone, loaded


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(alone: Phase, loaded: Phase, rate: float) -> None:
    for label, phase in (
        (f"dashboard at {rate:.0f}/s alone:           ", alone),
        (f"dashboard at {rate:.0f}/s + logins at {LOGINS_PER_SECOND}/s:", loaded),
    ):
        stall = phase.stall
        print(
            f"{label} p50 {pct(phase.dashboard, 50):6.1f} ms   "
            f"p99 {pct(phase.dashboard, 99):6.1f} ms   ({len(phase.dashboard)} requests); "
            f"in the server p50 {pct(phase.served, 50):.1f} ms, p99 {pct(phase.served, 99):.1f} ms\n"
            f"    longest loop stall {stall['max']:5.1f} ms, of it the loop's own work "
            f"{stall['busy']:5.1f} ms; {stall['over']} of {stall['probes']} probes over "
            f"{GOAL_STALL_MS:.0f} ms; longest GC pause {stall['gc']:.1f} ms "
            f"(generation {stall['gc_generation']}); the client's own lag <= "
            f"{phase.client_lag:.1f} ms"
        )
    print(
        f"logins: {len(loaded.logins)} succeeded, p50 {pct(loaded.logins, 50):.1f} ms, "
        f"p99 {pct(loaded.logins, 99):.1f} ms"
    )
    ratio = pct(loaded.dashboard, 99) / pct(alone.dashboard, 99)
    busy = max(alone.stall["busy"], loaded.stall["busy"])
    print(
        f"p99 ratio {ratio:4.2f} (goal <= {GOAL_RATIO}): "
        f"{'met' if ratio <= GOAL_RATIO else 'NOT met'}; longest stall by the loop's own "
        f"work {busy:.1f} ms (goal <= {GOAL_STALL_MS:.0f}): "
        f"{'met' if busy <= GOAL_STALL_MS else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20, help="dashboard requests per second")
    parser.add_argument("--seconds", type=float, default=15, help="of each condition, in all")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two")
    parser.add_argument("--database", help="postgres:// URL of a server to measure on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Fresh(args.database or "sqlite", Path(tmp))
        try:
            url = fresh.new()
            tokens = asyncio.run(prepare(url))
            emails = asyncio.run(add_login_users(url))
            with served("bench.login_under_load:server_app", url, tmp) as server:
                alone, loaded = asyncio.run(
                    run(server.port, tokens["2x12"], emails, args.rate, args.seconds, args.rounds)
                )
        finally:
            fresh.drop_all()
    report(alone, loaded, args.rate)


if __name__ == "__main__":
    main()
