"""What tracing costs: the dashboard query with tracing off and on, measured in one run.

    python bench/tracing.py [--seconds 5] [--concurrency 8] [--rounds 3] [--database URL]

Two server processes (uvicorn, one worker each) on the same database: one as deployed
without OTEL_EXPORTER_OTLP_ENDPOINT (tracing off: no middleware, no extension, no
patched driver), one with it pointing at a local OTLP/HTTP receiver, so every request
makes its spans (request, operation, each SQL statement) and the batch exporter sends
them. A client drives the two in short alternating slices at a fixed concurrency, adds each
one's slices up, and prints requests/s, server CPU per request (the exporter's thread
included) and the ratio on/off, with the number of spans the receiver got.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Fresh, served  # noqa: E402
from bench.dashboard import QUERY, Side, drive, prepare  # noqa: E402
from tests.ops.test_tracing import Collector  # noqa: E402  (the tests' OTLP/HTTP receiver)


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """`served` copies os.environ: these for the server started inside."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


async def measure(ports: dict[str, int], pids: dict[str, int], token: str, args) -> dict:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}

    def dashboard(http):
        return http.post("/graphql", json={"query": QUERY, "variables": {"n": 12}}, headers=headers)

    sides = {name: Side() for name in ports}
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
            )
            for name, port in ports.items()
        }
        for http in clients.values():
            for _ in range(20):  # warm up
                (await dashboard(http)).raise_for_status()
        for _ in range(max(1, round(args.seconds / args.slice))):
            for name, http in clients.items():
                sides[name].add(
                    *await drive(http, dashboard, args.slice, args.concurrency, pids[name])
                )
    return sides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15, help="of each server, in all")
    parser.add_argument("--slice", type=float, default=0.5, help="they alternate this often, s")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database", default="sqlite", help="sqlite or a postgres:// URL")
    args = parser.parse_args()
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        del os.environ[name]  # the "off" server must not inherit the caller's tracing

    with tempfile.TemporaryDirectory() as tmp, Collector() as collector:
        endpoint = collector.url
        fresh = Fresh(args.database, Path(tmp))
        try:
            url = fresh.new()
            tokens = asyncio.run(prepare(url))
            with contextlib.ExitStack() as stack:
                off = stack.enter_context(served("server:app_factory", url, tmp))
                with environment(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint):
                    on = stack.enter_context(served("server:app_factory", url, tmp))
                ports = {"off": off.port, "on": on.port}
                pids = {"off": off.pid, "on": on.pid}
                sides = asyncio.run(measure(ports, pids, tokens["2x12"], args))
        finally:
            fresh.drop_all()

    off_rps, on_rps = sides["off"].rate, sides["on"].rate
    off_cpu = sides["off"].cpu * 1000 / sides["off"].done
    on_cpu = sides["on"].cpu * 1000 / sides["on"].done
    spans = len(collector.spans())
    print(
        f"dashboard 2x12, {args.database.split(':')[0]}, concurrency {args.concurrency}, "
        f"{args.seconds:g} s of each in alternating slices of {args.slice:g} s"
    )
    print(f"tracing off: {off_rps:7.1f} req/s   server CPU {off_cpu:5.2f} ms/request")
    print(f"tracing on:  {on_rps:7.1f} req/s   server CPU {on_cpu:5.2f} ms/request")
    print(
        f"overhead ratio (on/off): throughput {on_rps / off_rps:4.2f}, "
        f"CPU per request {on_cpu / off_cpu:4.2f}; spans exported: {spans}"
    )
    if not spans:
        raise SystemExit("the traced server exported no span: the measurement is void")


if __name__ == "__main__":
    main()
