"""What the benchmarks share: fresh databases, free ports, a kabinet server process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Tortoise.init writes its own TIMEZONE ("UTC") into os.environ, and kabinet's setting of
# that name is the company's time zone (the reading window, "today"): a server started
# after a bench has prepared its data must get the caller's value, not Tortoise's.
_TIMEZONE = os.environ.get("TIMEZONE")


class Fresh:
    """A new empty database per measurement: a temp SQLite file or a new PG database
    beside `base` (a postgres:// URL, or "sqlite"), all dropped by `drop_all`."""

    def __init__(self, base: str, tmp: Path) -> None:
        self.base = base
        self.tmp = tmp
        self.created: list[str] = []

    def new(self) -> str:
        if self.base == "sqlite":
            return f"sqlite://{self.tmp / f'bench-{secrets.token_hex(4)}.sqlite3'}"
        name = f"kabinet_bench_{os.getpid()}_{secrets.token_hex(4)}"
        self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return urlunsplit(urlsplit(self.base)._replace(path=f"/{name}"))

    def _admin(self, statement: str) -> None:
        import asyncpg

        async def run() -> None:
            conn = await asyncpg.connect(self.base.replace("postgres://", "postgresql://", 1))
            try:
                await conn.execute(statement)
            finally:
                await conn.close()

        asyncio.run(run())

    def drop_all(self) -> None:
        for name in self.created:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served(factory: str, url: str, tmp: str) -> Iterator[subprocess.Popen]:
    """uvicorn (one worker) serving `factory` ("module:function") on a free port; yields
    the process with `.port` set, once it accepts connections."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "b" * 40,
        "LOG_LEVEL": "warning",
        "MAIL_WORKER_IN_PROCESS": "false",
        "VAR_DIR": tmp,
        "RATE_LIMIT_PER_MINUTE": "0",  # one client IP drives the whole load
    }
    env.pop("TIMEZONE", None)
    if _TIMEZONE is not None:
        env["TIMEZONE"] = _TIMEZONE
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    server.port = port  # type: ignore[attr-defined]
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        server.wait(10)
