"""Does a stream of logins (Argon2) slow the dashboard down?

    python bench/login_under_load.py [--rate 20] [--seconds 15] [--database URL]

A server process (uvicorn, one worker) serves the app; an open-loop client sends the
2x12 dashboard query at a fixed rate, first alone, then while logins with the right
password arrive at 10/s. Prints p50/p99 of the dashboard both times, the ratio of the
p99s (goal <= 1.5) and the longest event-loop stall the server saw (goal <= 10 ms),
measured inside the server by a task that sleeps 5 ms and records the overshoot.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Fresh, served  # noqa: E402
from bench.dashboard import QUERY, prepare  # noqa: E402

PASSWORD = "bench-Login-Password-1"
LOGIN = """mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) {
  token userErrors { code } } }"""


def server_app():
    """The real app plus two probes: /bench/stall (longest loop stall since the last
    call, in ms) measured by a task started with the first probe."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from server import create_app

    app = create_app()
    state = {"max": 0.0, "busy": 0.0, "task": None}

    async def monitor() -> None:
        """Sleep 5 ms again and again; an overshoot is a stall. `busy` is the part of a
        stall the loop thread spent computing - work that blocked the loop - leaving out
        time the machine gave to other threads and processes."""
        loop = asyncio.get_running_loop()
        while True:
            started, cpu = loop.time(), time.thread_time()
            await asyncio.sleep(0.005)
            overshoot = (loop.time() - started - 0.005) * 1000
            state["max"] = max(state["max"], overshoot)
            state["busy"] = max(state["busy"], min(overshoot, (time.thread_time() - cpu) * 1000))

    async def stall(_request: Request) -> JSONResponse:
        if state["task"] is None:
            state["task"] = asyncio.create_task(monitor())
        worst = {"max_stall_ms": state["max"], "max_busy_ms": state["busy"]}
        state["max"] = state["busy"] = 0.0
        return JSONResponse(worst)

    # first: the web client answers every other GET path with its page
    app.router.routes.insert(0, Route("/bench/stall", stall, methods=["GET"]))
    return app


async def add_login_user(url: str) -> str:
    from models import db
    from models.cabinets import Cabinet
    from services.security.passwords import hash_password

    await db.open_db(url)
    email = "login@bench.example"
    await Cabinet.create(email=email, password_hash=await hash_password(PASSWORD))
    await db.close_db()
    return email


async def run(port: int, token: str, email: str, rate: float, seconds: float) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        headers = {"Authorization": f"Bearer {token}"}

        async def dashboard() -> float:
            started = time.perf_counter()
            response = await http.post(
                "/graphql", json={"query": QUERY, "variables": {"n": 12}}, headers=headers
            )
            response.raise_for_status()
            return (time.perf_counter() - started) * 1000

        async def login() -> None:
            response = await http.post(
                "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": PASSWORD}}
            )
            assert response.json()["data"]["login"]["token"], response.text

        async def open_loop(make, per_second: float, results: list) -> None:
            """Start a request every 1/per_second seconds whatever the answers' speed."""
            tasks = []
            start = time.perf_counter()
            for i in range(int(per_second * seconds)):
                delay = start + i / per_second - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(make()))
            results.extend(r for r in await asyncio.gather(*tasks) if r is not None)

        for _ in range(20):
            await dashboard()
        await http.get("/bench/stall")
        await asyncio.sleep(0.5)

        alone: list[float] = []
        await open_loop(dashboard, rate, alone)
        stall_alone = (await http.get("/bench/stall")).json()

        loaded: list[float] = []
        await asyncio.gather(open_loop(dashboard, rate, loaded), open_loop(login, 10, []))
        stall_loaded = (await http.get("/bench/stall")).json()

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    p99_alone, p99_loaded = pct(alone, 99), pct(loaded, 99)
    for label, values, stall in (
        (f"dashboard at {rate:.0f}/s alone:           ", alone, stall_alone),
        (f"dashboard at {rate:.0f}/s + logins at 10/s:", loaded, stall_loaded),
    ):
        print(
            f"{label} p50 {pct(values, 50):6.1f} ms   p99 {pct(values, 99):6.1f} ms   "
            f"longest loop stall {stall['max_stall_ms']:5.1f} ms "
            f"(of it the loop's own work {stall['max_busy_ms']:5.1f} ms)"
        )
    busy = max(stall_alone["max_busy_ms"], stall_loaded["max_busy_ms"])
    print(
        f"p99 ratio {p99_loaded / p99_alone:4.2f} (goal <= 1.5); longest stall by the loop's "
        f"own work {busy:.1f} ms (goal <= 10)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20, help="dashboard requests per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--database", help="postgres:// URL of a server to measure on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Fresh(args.database or "sqlite", Path(tmp))
        try:
            url = fresh.new()
            tokens = asyncio.run(prepare(url))
            email = asyncio.run(add_login_user(url))
            with served("bench.login_under_load:server_app", url, tmp) as server:
                asyncio.run(run(server.port, tokens["2x12"], email, args.rate, args.seconds))
        finally:
            fresh.drop_all()


if __name__ == "__main__":
    main()
