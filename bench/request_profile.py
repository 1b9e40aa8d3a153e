"""Where the CPU of one dashboard request goes, by stage, in one process.

    python bench/request_profile.py [--shape 2x12] [--requests 400] [--database URL] [--baseline]
                                    [--cprofile FILE] [--instructions]

The dashboard query of bench/dashboard.py, sent over and over through the whole ASGI app
(every middleware, the GraphQL endpoint, the database) by a raw ASGI call in the same
process, one request at a time - no HTTP client, no socket, no uvicorn (with --baseline,
bench/dashboard.py's hand-written route for the same answer instead). It prints:

- CPU per request: the process's, the event loop's thread's, and the other threads'
  (aiosqlite runs SQLite in a thread of its own); no profiler is running meanwhile;
- the share of each stage of the request, from a sampling profiler (SIGPROF every
  `--interval` of CPU): each sample goes to the stage of the innermost frame that
  belongs to one (a resolver's SQL counts as SQL, the JSON encoder as JSON encoding),
  samples of the loop waiting in select() to the other threads; the stages are then
  scaled to the CPU measured without the profiler, and grouped as the executor,
  SQL/ORM and everything else;
- with --cprofile, cProfile's busiest functions, and the profile written to FILE;
- with --instructions, instructions per request counted by valgrind's callgrind (two
  runs of different lengths, their difference divided by the extra requests: start-up
  cancels out; repeatable within a fraction of a percent on a busy machine).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import itertools
import json
import os
import pstats
import re
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

import brotli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Fresh  # noqa: E402
from bench.dashboard import QUERY, SHAPES, prepare  # noqa: E402
from bench.login_under_load import LOGIN, PASSWORD, add_login_users, login_emails  # noqa: E402

# ---------------------------------------------------------------- stages

EXECUTOR = "executor"
SQL = "SQL/ORM"
REST = "everything else"

# (stage, group, path prefixes relative to the project or to site-packages/the stdlib;
# the longest prefix that matches a file names its stage)
STAGES: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "graphql-core execution",
        EXECUTOR,
        (
            "graphql/execution/",
            "graphql/type/",
            "strawberry/execution/is_awaitable.py",
            "schema/execution.py",
            "schema/compiler.py",
        ),
    ),
    (
        "Strawberry field wrappers",
        EXECUTOR,
        (
            "strawberry/schema/schema_converter.py",
            "strawberry/types/",
            "strawberry/permission.py",
            "strawberry/relay/",
            "strawberry/extensions/field_extension.py",
        ),
    ),
    ("resolvers, types, read models (ours)", EXECUTOR, ("resolvers/", "schema/", "services/")),
    ("DataLoaders", EXECUTOR, ("strawberry/dataloader.py", "resolvers/dataloaders.py")),
    (
        "ORM and driver (loop's thread)",
        SQL,
        ("tortoise/", "pypika", "iso8601/", "aiosqlite/", "asyncpg/", "sqlite3/", "models/"),
    ),
    ("SQLite's thread", SQL, ()),
    # --login: the pool's Argon2 hash runs beside SQLite's thread; the two are not told apart
    ("other threads: Argon2's pool and SQLite's", REST, ()),
    (
        "operation pipeline: parse, validate, extensions",
        REST,
        (
            "strawberry/schema/",
            "strawberry/extensions/",
            "strawberry/execution/",
            "strawberry/utils/",
            "graphql/",
            "schema/limits.py",
            "schema/metrics.py",
            "schema/tracing.py",
            "schema/root.py",
            "services/core/persisted_queries.py",
        ),
    ),
    (
        "context, session lookup",
        REST,
        (
            "resolvers/context.py",
            "services/security/",
            "services/core/throttle.py",
            "services/core/messages.py",
        ),
    ),
    ("JSON encoding", REST, ("json/encoder.py", "orjson")),
    ("JSON decoding", REST, ("json/decoder.py",)),
    (
        "HTTP view, request, response",
        REST,
        (
            "schema/http.py",
            "schema/http_cache.py",
            "starlette/requests.py",
            "starlette/responses.py",
            "starlette/formparsers.py",
        ),
    ),
    (
        "compression",
        REST,
        ("routes/compression.py", "gzip.py", "brotli", "services/core/qvalues.py"),
    ),
    ("middleware and routing", REST, ("routes/", "starlette/", "limits/")),
    ("metrics, logging", REST, ("prometheus_client/", "logging/", "services/core/telemetry.py")),
    ("garbage collection", REST, ()),
    (
        "event loop",
        REST,
        ("asyncio/base_events.py", "asyncio/events.py", "asyncio/selector_events.py", "uvloop/"),
    ),
    ("other", REST, ()),
]
# Functions whose stage is not their file's: Strawberry builds each resolver's `info` in
# its schema module, called by graphql-core for every field with a resolver.
FUNCTIONS = {("strawberry/schema/schema.py", "build_resolve_info"): "Strawberry field wrappers"}
# Helpers that work for whoever calls them: their samples go to the caller's stage.
TRANSPARENT = (
    "asyncio/",
    "contextlib.py",
    "functools.py",
    "typing.py",
    "enum.py",
    "abc.py",
    "inspect.py",
    "dataclasses.py",
    "collections/",
    "copy.py",
    "re/",
    "weakref.py",
    "_weakrefset.py",
    "types.py",
    "base64.py",
    "datetime.py",
    "decimal.py",
    "_pydecimal.py",
    "starlette/datastructures.py",
    "starlette/_utils.py",
    "starlette/concurrency.py",
    "anyio/",
    "graphql/pyutils/",
    "json/__init__.py",
)
IDLE = "selectors.py"
_STDLIB = sysconfig.get_paths()["stdlib"] + "/"
_SITE = sysconfig.get_paths()["purelib"] + "/"
_ROOT = str(ROOT) + "/"


def _relative(filename: str) -> str:
    for prefix in (_SITE, _ROOT, _STDLIB):
        if filename.startswith(prefix):
            return filename[len(prefix) :]
    return filename


def _stage_of(code: Any) -> str | None:
    """The stage a frame of this code marks; None for a helper (the caller's stage)."""
    path = _relative(code.co_filename)
    if (path, code.co_name) in FUNCTIONS:
        return FUNCTIONS[path, code.co_name]
    if path.startswith("<"):  # generated (dataclasses' methods), frozen (abc)
        return None
    if path.startswith("bench/"):
        return "event loop"  # the bench's own frames: below run_until_complete
    if path.startswith(TRANSPARENT):
        return None
    matches = [
        (len(p), stage) for stage, _, prefixes in STAGES for p in prefixes if path.startswith(p)
    ]
    return max(matches)[1] if matches else "other"  # the most specific prefix


def _name(frame: Any) -> str:
    """file:function, with its caller's for generated code (dataclasses' methods are all
    `<string>`) and the abc module's isinstance."""
    code = frame.f_code
    name = f"{_relative(code.co_filename)}:{code.co_name}"
    if code.co_filename.startswith("<") and frame.f_back is not None:
        name += f" < {_name(frame.f_back)}"
    return name


class Sampler:
    """SIGPROF every `interval` seconds of the process's CPU; each sample counted under
    the stage of its innermost staged frame."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.stages: collections.Counter[str] = collections.Counter()
        self.functions: collections.Counter[tuple[str, str]] = collections.Counter()
        self.idle = 0
        self._codes: dict[Any, str | None] = {}
        self._collecting = False

    def _gc(self, phase: str, _info: Any) -> None:
        self._collecting = phase == "start"

    def _sample(self, _signum: int, frame: Any) -> None:
        if self._collecting:  # the frame is whichever allocation set the collector off
            self.stages["garbage collection"] += 1
            return
        if frame is not None and frame.f_code.co_filename.endswith(IDLE):
            self.idle += 1
            return
        codes = self._codes
        stage, leaf = None, frame
        while frame is not None:
            code = frame.f_code
            if code not in codes:
                codes[code] = _stage_of(code)
            stage = codes[code]
            if stage is not None:
                break
            frame = frame.f_back
        if frame is None:
            stage = "event loop"
        else:
            self.functions[stage, _name(leaf)] += 1
        self.stages[stage] += 1

    def __enter__(self) -> Sampler:
        gc.callbacks.append(self._gc)
        signal.signal(signal.SIGPROF, self._sample)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *_exc: Any) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_DFL)
        gc.callbacks.remove(self._gc)


# ---------------------------------------------------------------- the request


def settings_for(url: str, tmp: str):
    from config import load_settings

    # as bench/common.py's `served` starts the server of bench/dashboard.py
    environ = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "b" * 40,
        "LOG_LEVEL": "warning",
        "MAIL_WORKER_IN_PROCESS": "false",
        "VAR_DIR": tmp,
        "RATE_LIMIT_PER_MINUTE": "0",
    }
    return load_settings(environ, env_file=None)


def _json(document: str, variables: dict[str, Any]) -> bytes:
    return json.dumps(
        {"query": document, "variables": variables}, ensure_ascii=False, separators=(",", ":")
    ).encode()


class Caller:
    """A request as httpx sends it, through the app by a raw ASGI call: the dashboard
    (`kind` "dashboard"), bench/dashboard.py's hand-written route for the same answer
    ("baseline"), or bench/login_under_load.py's login ("login"), each call as the next
    of its cabinets."""

    def __init__(self, app: Any, token: str, items: int, kind: str) -> None:
        self.app = app
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"accept", b"*/*"),
            (b"accept-encoding", b"gzip, deflate, br"),
            (b"connection", b"keep-alive"),
            (b"user-agent", b"python-httpx/0.28.1"),
        ]
        method, path, query = "POST", "/graphql", b""
        if kind == "baseline":  # GET, no body
            method, path, query = "GET", "/bench/dashboard", f"n={items}".encode()
            bodies = [b""]
        elif kind == "login":  # no session
            bodies = [_json(LOGIN, {"e": email, "p": PASSWORD}) for email in login_emails()]
        else:
            bodies = [_json(QUERY, {"n": items})]
        if kind != "login":
            headers.append((b"authorization", f"Bearer {token}".encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        content = [(b"content-type", b"application/json")]
        self.requests = itertools.cycle(
            [
                (
                    {
                        **scope,
                        "headers": headers
                        + ([(b"content-length", str(len(b)).encode()), *content] if b else []),
                    },
                    b,
                )
                for b in bodies
            ]
        )

    async def __call__(self) -> tuple[int, dict[bytes, bytes], bytes]:
        sent = False
        scope, body = next(self.requests)
        answer: dict[str, Any] = {"body": bytearray()}

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)  # http.disconnect only when the client leaves
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = dict(message["headers"])
            else:
                answer["body"].extend(message.get("body", b""))

        await self.app({**scope, "state": {}}, receive, send)
        return answer["status"], answer["headers"], bytes(answer["body"])


def decoded(headers: dict[bytes, bytes], body: bytes) -> Any:
    coding = headers.get(b"content-encoding")
    if coding == b"br":
        body = brotli.decompress(body)
    elif coding == b"gzip":
        import gzip

        body = gzip.decompress(body)
    return json.loads(body)


async def open_app(url: str, tmp: str, token: str, items: int, kind: str) -> Caller:
    from bench.dashboard import with_baseline
    from models import db
    from server import create_app

    await db.open_db(url)
    app = with_baseline(create_app(settings_for(url, tmp), manage_db=False))
    call = Caller(app, token, items, kind)
    status, headers, body = await call()
    assert status == 200, (status, body[:500])
    answer = decoded(headers, body)
    if kind == "login":
        if "errors" in answer or not answer["data"]["login"]["token"]:
            raise SystemExit(f"unexpected answer: {answer}")
    elif (
        "errors" in answer or len(answer["data"]["me"]["accounts"][0]["payments"]["nodes"]) != items
    ):
        raise SystemExit(f"unexpected answer: {answer}")
    for _ in range(50):  # warm: parser and validation caches, the ORM's, the plans
        await call()
    gc.collect()
    gc.freeze()  # as the server's lifespan does
    return call


def cpu() -> tuple[float, float]:
    return time.process_time(), time.thread_time()


async def profile(url: str, tmp: str, token: str, items: int, args: argparse.Namespace) -> None:
    from models import db

    try:
        await _profile(url, tmp, token, items, args)
    finally:
        await db.close_db()


async def _profile(url: str, tmp: str, token: str, items: int, args: argparse.Namespace) -> None:
    from models import db

    call = await open_app(url, tmp, token, items, args.kind)
    # 1. CPU per request, no profiler
    best = None
    for _ in range(args.rounds):
        (p0, t0), started = cpu(), time.perf_counter()
        for _ in range(args.requests):
            await call()
        (p1, t1), wall = cpu(), time.perf_counter() - started
        figures = ((p1 - p0), (t1 - t0), wall)
        best = figures if best is None or figures[0] < best[0] else best
    process, thread, wall = (x * 1000 / args.requests for x in best)
    others = max(process - thread, 0.0)
    # 2. where it goes
    sampler = Sampler(args.interval)
    with sampler:
        for _ in range(args.sampled):
            await call()
    busy = sum(sampler.stages.values())
    share = {stage: n / busy for stage, n in sampler.stages.items()}
    ms = {stage: thread * part for stage, part in share.items()}
    if args.kind == "login":
        ms["other threads: Argon2's pool and SQLite's"] = others
    else:
        ms["SQLite's thread"] = others
    load = os.getloadavg()
    print(
        f"{args.title}, {db.dialect_of(url)}: {args.requests} requests x {args.rounds} rounds, "
        f"one at a time; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(
        f"CPU per request: {process:.2f} ms (event loop's thread {thread:.2f} ms, other threads "
        f"{others:.2f} ms); wall {wall:.2f} ms; {busy} samples"
    )
    print(f"\n{'stage':50} {'ms':>6} {'share':>6}")
    for group in (EXECUTOR, SQL, REST):
        stages = [(s, ms.get(s, 0.0)) for s, g, _ in STAGES if g == group]
        total = sum(m for _, m in stages)
        print(f"{group.upper():50} {total:6.2f} {total / process:6.1%}")
        for stage, value in sorted(stages, key=lambda item: -item[1]):
            if value >= 0.005:
                print(f"  {stage:48} {value:6.2f} {value / process:6.1%}")
    print("\nbusiest functions (innermost frame; share of the loop's thread):")
    for (stage, function), n in sampler.functions.most_common(args.top):
        print(f"  {n / busy:6.1%}  {function:70} [{stage}]")
    print("\nin each stage of everything else, its busiest functions:")
    for stage, group, _ in STAGES:
        top = [(f, n) for (s, f), n in sampler.functions.most_common() if s == stage][:4]
        if group == REST and top:
            print(f"  {stage}: " + ", ".join(f"{f} {n / busy:.1%}" for f, n in top))
    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            await call()
        profiler.disable()
        profiler.dump_stats(args.cprofile)
        print(f"\ncProfile ({args.cprofile}), by own time:")
        pstats.Stats(args.cprofile).sort_stats("tottime").print_stats(args.top)


# ---------------------------------------------------------------- instruction counts


async def loop_only(url: str, tmp: str, token: str, items: int, requests: int, kind: str) -> None:
    from models import db

    try:
        call = await open_app(url, tmp, token, items, kind)
        for _ in range(requests):
            await call()
    finally:
        await db.close_db()


def instructions(
    url: str, tmp: str, token: str, items: int, short: int, long: int, kind: str
) -> float:
    """Instructions per request (callgrind), start-up cancelled out."""
    counts = []
    for requests in (short, long):
        out = Path(tmp) / f"callgrind.{requests}.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                "--dump-instr=no",
                "--compress-strings=no",
                sys.executable,
                __file__,
                "--loop-only",
                url,
                token,
                str(items),
                str(requests),
                kind,
            ],
            check=True,
            capture_output=True,
        )
        match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
        assert match, f"no totals in {out}"
        counts.append(int(match.group(1)))
    return (counts[1] - counts[0]) / (long - short)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--loop-only":  # the child of --instructions
        url, token, items, requests, kind = sys.argv[2:7]
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(loop_only(url, tmp, token, int(items), int(requests), kind))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=SHAPES, default="2x12")
    parser.add_argument("--requests", type=int, default=400, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3, help="CPU timing rounds, best kept")
    parser.add_argument(
        "--sampled", type=int, default=2000, help="requests sampled (about 250 samples/s)"
    )
    parser.add_argument("--interval", type=float, default=0.001, help="sampling period, s")
    parser.add_argument("--top", type=int, default=25, help="functions listed")
    parser.add_argument("--database", help="postgres:// URL of a server to measure on")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="profile bench/dashboard.py's hand-written route instead of the GraphQL request",
    )
    parser.add_argument(
        "--login",
        action="store_true",
        help="profile bench/login_under_load.py's login (Argon2 in its pool) instead",
    )
    parser.add_argument("--cprofile", metavar="FILE", help="also run cProfile, write it here")
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions (callgrind)"
    )
    args = parser.parse_args()
    args.kind = "login" if args.login else "baseline" if args.baseline else "dashboard"
    args.title = {"login": "login", "baseline": f"baseline {args.shape}"}.get(args.kind, args.shape)
    items = SHAPES[args.shape][1]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Fresh(args.database or "sqlite", Path(tmp))
        try:
            url = fresh.new()
            token = asyncio.run(prepare(url))[args.shape]
            if args.login:
                asyncio.run(add_login_users(url))
            asyncio.run(profile(url, tmp, token, items, args))
            if args.instructions:
                per_request = instructions(url, tmp, token, items, 20, 120, args.kind)
                print(f"\ninstructions per request (callgrind): {per_request / 1e6:.2f} M")
        finally:
            fresh.drop_all()


if __name__ == "__main__":
    main()
