"""The compiled plan against graphql-core's interpreter, in process, on the same
document and the same data.

    python bench/executor.py [--rounds 200] [--database URL]

Loads the dashboard's two cabinets (bench/dashboard.py: 2 accounts x 12 items and
5 accounts x 50), opens one request context per cabinet, and executes the dashboard
document with graphql-core's `execute` and each executor class in turn (alternating,
so both see the same machine): the interpreter (`GRAPHQL_EXECUTOR=graphql-core`) and
the compiled plan (`compiled`). The context's DataLoaders are primed by a first
execution, so no SQL runs in the measured ones: what is measured is execution itself,
the resolvers our schema calls included. Both answers are checked equal first. Prints
microseconds an execution of each and their ratio (goal: the plan >= 5x faster).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Fresh  # noqa: E402
from bench.dashboard import QUERY, SHAPES, prepare  # noqa: E402


def request_context(token: str, settings):
    from starlette.requests import Request
    from starlette.responses import Response

    from resolvers.context import Context

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
        "query_string": b"",
    }
    return Context.for_request(Request(scope), Response(), settings)


async def measure(url: str, rounds: int) -> dict[str, dict[str, float]]:
    from graphql import parse
    from graphql.execution import execute
    from graphql.execution.middleware import MiddlewareManager
    from strawberry.execution.is_awaitable import optimized_is_awaitable

    from config import get_settings
    from models import db
    from schema.execution import EXECUTION_CONTEXTS

    tokens = await prepare(url)
    await db.open_db(url)
    settings = get_settings()
    from schema.root import build_schema

    schema = build_schema(dataclasses.replace(settings, graphql_executor="compiled"))._schema
    document = parse(QUERY)
    figures: dict[str, dict[str, float]] = {}
    try:
        for shape, (_accounts, items) in SHAPES.items():
            context = request_context(tokens[shape], settings)

            async def run(executor: str, context=context, items=items):
                result = execute(
                    schema,
                    document,
                    context_value=context,
                    variable_values={"n": items},
                    middleware=MiddlewareManager(),
                    is_awaitable=optimized_is_awaitable,
                    executor_class=EXECUTION_CONTEXTS[executor],
                )
                if optimized_is_awaitable(result):
                    result = await result
                return result

            answers = {name: await run(name) for name in ("graphql-core", "compiled")}
            for name, answer in answers.items():
                if answer.errors:
                    raise SystemExit(f"{shape} {name}: {answer.errors}")
            if answers["graphql-core"].data != answers["compiled"].data:
                raise SystemExit(f"{shape}: the two executors answered differently")
            times: dict[str, list[float]] = {"graphql-core": [], "compiled": []}
            for _ in range(rounds):
                for name in times:
                    started = time.perf_counter()
                    await run(name)
                    times[name].append(time.perf_counter() - started)
            slow = statistics.median(times["graphql-core"]) * 1e6
            fast = statistics.median(times["compiled"]) * 1e6
            figures[shape] = {"graphql-core": slow, "compiled": fast, "speedup": slow / fast}
    finally:
        await db.close_db()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database", default="sqlite", help="sqlite, or a postgres:// URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Fresh(args.database, Path(tmp))
        try:
            figures = asyncio.run(measure(fresh.new(), args.rounds))
        finally:
            fresh.drop_all()
    print(f"{'shape':6} {'graphql-core us':>16} {'compiled us':>12} {'speedup':>8}  goal >= 5x")
    for shape, row in figures.items():
        print(
            f"{shape:6} {row['graphql-core']:16.0f} {row['compiled']:12.0f} "
            f"{row['speedup']:7.1f}x  {'met' if row['speedup'] >= 5 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
