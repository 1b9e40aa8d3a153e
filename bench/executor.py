"""The compiled plan against graphql-core's interpreter, in process, on the same
document and the same data.

    python bench/executor.py [--rounds 200] [--database URL]

Loads the dashboard's two cabinets (bench/dashboard.py: 2 accounts x 12 items and
5 accounts x 50) and measures two things, each executor in turn (alternating, so both
see the same machine), each answer checked equal to the other first:

1. The executor alone (goal: the plan >= 5x faster): the dashboard document over
   ready-made data with default resolvers - schema.graphql built by graphql-core, the
   dashboard's own answer as the root value - executed by graphql-core's stock
   `execute` and by the compiled plan.
2. With kabinet's resolvers: the real schema and a request context whose DataLoaders a
   first execution primed (no SQL runs in the measured ones), executed by the
   interpreter (`GRAPHQL_EXECUTOR=graphql-core`) and the plan (`compiled`): what the
   plan saves of a request's execution, our resolvers' own work included.

Prints the median microseconds of an execution of each and their ratio.
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
    from graphql import build_schema as build_graphql_schema
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
    sdl = build_graphql_schema((ROOT / "schema.graphql").read_text())
    compiled = EXECUTION_CONTEXTS["compiled"]
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
            figures[f"{shape} resolvers"] = await compare(run, rounds)

            root = answers["compiled"].data

            async def bare(executor: str, root=root, items=items):
                kwargs = {} if executor == "graphql-core" else {"executor_class": compiled}
                result = execute(
                    sdl, document, root_value=root, variable_values={"n": items}, **kwargs
                )
                if optimized_is_awaitable(result):
                    result = await result
                return result

            for name in ("graphql-core", "compiled"):
                answer = await bare(name)
                if answer.errors or answer.data != root:
                    raise SystemExit(f"{shape} {name} over ready-made data: {answer.errors}")
            figures[f"{shape} executor"] = await compare(bare, rounds)
    finally:
        await db.close_db()
    return figures


async def compare(run, rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {"graphql-core": [], "compiled": []}
    for _ in range(rounds):
        for name in times:
            started = time.perf_counter()
            await run(name)
            times[name].append(time.perf_counter() - started)
    slow = statistics.median(times["graphql-core"]) * 1e6
    fast = statistics.median(times["compiled"]) * 1e6
    return {"graphql-core": slow, "compiled": fast, "speedup": slow / fast}


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
    print(f"{'':20} {'graphql-core us':>16} {'compiled us':>12} {'speedup':>8}")
    for name, row in sorted(figures.items(), key=lambda item: item[0].split()[::-1]):
        goal = ""
        if name.endswith("executor"):
            goal = "  goal >= 5x: " + ("met" if row["speedup"] >= 5 else "NOT met")
        print(
            f"{name:20} {row['graphql-core']:16.0f} {row['compiled']:12.0f} "
            f"{row['speedup']:7.1f}x{goal}"
        )


if __name__ == "__main__":
    main()
