"""The command line as an operator uses it: separate processes, real files, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from config import ROOT
from tests.conftest import create_empty_database, drop_database


@pytest_asyncio.fixture
async def fresh_url(tmp_path: Path) -> AsyncIterator[str]:
    url = await create_empty_database(tmp_path)
    yield url
    await drop_database(url)


def kabinet(*args: str, url: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": url,
        "VAR_DIR": str(tmp_path / "var"),
        "ENV": "development",
        **env,
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_migrate_then_seed_then_import(fresh_url: str, tmp_path: Path) -> None:
    first = kabinet("migrate", url=fresh_url, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "applied models.0001_initial" in first.stdout
    again = kabinet("migrate", url=fresh_url, tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 migration(s) applied" in again.stdout

    seeded = kabinet("seed-demo", "--if-empty", url=fresh_url, tmp_path=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "accounts: 6 rows, 6 inserted" in seeded.stdout
    assert "001234567890" in seeded.stdout
    skipped = kabinet("seed-demo", "--if-empty", url=fresh_url, tmp_path=tmp_path)
    assert "demo data not loaded" in skipped.stdout

    good = tmp_path / "payments.csv"
    good.write_text(
        "account_number;paid_at;amount;channel;external_id\n"
        "001234567890;2026-11-20T09:00:00;1 234,56;Сбербанк Онлайн;CLI-1\n",
        encoding="utf-8",
    )
    imported = kabinet("import", "payments", str(good), url=fresh_url, tmp_path=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("payments: 1 rows, 1 inserted, 0 updated, 0 unchanged")

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "account_number;paid_at;amount;channel;external_id\n"
        "001234567890;2026-11-21;10;Касса;CLI-2\n"
        "001234567890;2026-11-21;десять;Касса;CLI-3\n",
        encoding="utf-8",
    )
    rejected = kabinet("import", "payments", str(bad), url=fresh_url, tmp_path=tmp_path)
    assert rejected.returncode == 1
    assert "rejected, nothing was imported" in rejected.stderr
    assert f"{bad}:3: amount: 'десять' is not an amount of money" in rejected.stderr
    assert "Traceback" not in rejected.stderr
    reimported = kabinet("import", "payments", str(good), url=fresh_url, tmp_path=tmp_path)
    assert "0 inserted, 0 updated, 1 unchanged" in reimported.stdout  # CLI-2 never landed


async def test_console_script_and_usage_errors(fresh_url: str, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "kabinet"
    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    for command in ("serve", "migrate", "import", "seed-demo"):
        assert command in result.stdout
    unknown = kabinet("import", "invoices", "x.csv", url=fresh_url, tmp_path=tmp_path)
    assert unknown.returncode == 2
    assert "invalid choice" in unknown.stderr
    missing = kabinet("import", "payments", "nope.csv", url=fresh_url, tmp_path=tmp_path)
    assert missing.returncode == 2
    assert "nope.csv is not a file" in missing.stderr


async def test_production_without_a_secret_key_does_not_start(
    fresh_url: str, tmp_path: Path
) -> None:
    result = kabinet("migrate", url=fresh_url, tmp_path=tmp_path, ENV="production")
    assert result.returncode == 2
    assert "configuration error: SECRET_KEY" in result.stderr


async def test_an_unmigrated_database_is_named_not_a_traceback(
    fresh_url: str, tmp_path: Path
) -> None:
    result = kabinet("recovery", "log", "001234567890", url=fresh_url, tmp_path=tmp_path)
    assert result.returncode == 1
    assert "run: kabinet migrate" in result.stderr
    assert "Traceback" not in result.stderr
