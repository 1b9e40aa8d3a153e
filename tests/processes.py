"""kabinet as separate processes in tests: servers and workers on the test's database."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from config import ROOT
from tests.conftest import TEST_SECRET
from tests.mail_fixtures import free_port

__all__ = ["free_port", "start_kabinet", "stderr_of", "stop_kabinet", "wait_until_ready"]

_serial = itertools.count()
_logs: dict[int, Path] = {}


def start_kabinet(
    command: str, *args: str, url: str, tmp_path: Path, **env: str
) -> subprocess.Popen:
    """`kabinet COMMAND ARGS` as its own process on the database at `url`. Its stderr goes
    to a file (a pipe nobody reads until the end would fill and block a chatty server)."""
    environment = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": url,
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": TEST_SECRET,
        "PUBLIC_WEB_URL": "https://lk.example.ru",
        # The test's executor (tests/conftest.py's graphql_executor fixture sets it).
        "GRAPHQL_EXECUTOR": os.environ.get("GRAPHQL_EXECUTOR", "differential"),
        **env,
    }
    log = tmp_path / f"kabinet-{command}-{next(_serial)}.stderr"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), command, *args],
            cwd=tmp_path,
            env=environment,
            stderr=sink,
            text=True,
        )
    _logs[process.pid] = log
    return process


def stderr_of(process: subprocess.Popen) -> str:
    return _logs[process.pid].read_text(errors="replace")


# What schema/execution.py logs when differential execution finds a difference.
MISMATCH_LOGGED = "the compiled plan and graphql-core differ"


def stop_kabinet(process: subprocess.Popen) -> tuple[int, str]:
    """SIGTERM, then wait; returns (exit status, stderr). A difference differential
    execution found in the process fails the test here, even one whose
    EXECUTOR_MISMATCH error the test did not look at."""
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    err = stderr_of(process)
    assert MISMATCH_LOGGED not in err, err
    return process.returncode, err


async def wait_until_ready(port: int, process: subprocess.Popen, within: float = 60) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:
        for _ in range(int(within * 10)):
            if process.poll() is not None:
                raise AssertionError(f"kabinet exited: {stderr_of(process)}")
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"kabinet on port {port} never became ready")
