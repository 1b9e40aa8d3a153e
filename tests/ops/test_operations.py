"""What operators run: `kabinet check` on a deployment's configuration, `kabinet migrate` on
a server without the database yet, and `serve --workers N` whose /metrics counts every
worker's requests."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio

from config import account_key_is_valid, inn_is_valid
from tests.conftest import (
    BACKEND,
    create_empty_database,
    drop_database,
    drop_postgres_database,
    postgres_url_for,
)
from tests.ops.test_cli import kabinet
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready


def with_check_digit(prefix: str, valid) -> str:
    """`prefix` completed by the one last digit that makes it valid."""
    return next(prefix + d for d in "0123456789" if valid(prefix + d))


BIC = "044525999"


def with_key(head: str, tail: str, *, correspondent: bool) -> str:
    """A bank account number with its key (the 9th digit) computed for BIC."""
    return next(
        account
        for account in (f"{head}{d}{tail}" for d in "0123456789")
        if account_key_is_valid(account, BIC, correspondent=correspondent)
    )


def production(**changes: str) -> dict[str, str]:
    """The environment of a deployment that does everything right."""
    settlement = with_key("40702810", "00000054321", correspondent=False)
    correspondent = with_key("30101810", "00000000999", correspondent=True)
    env = {
        "ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_WEB_URL": "https://lk.energosbyt-volga.ru",
        "SMTP_HOST": "smtp.energosbyt-volga.ru",
        "SMTP_TLS": "starttls",
        "MAIL_FROM": "Энергосбыт <noreply@energosbyt-volga.ru>",
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        "PAYMENT_PROVIDER": "tests.acquirer",
        "PAYMENT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "COMPANY_NAME": "АО «Энергосбыт Волги»",
        "COMPANY_INN": with_check_digit("526098765", inn_is_valid),
        "COMPANY_KPP": "526101001",
        "COMPANY_ADDRESS": "603000, г. Нижний Новгород, ул. Большая Покровская, д. 1",
        "COMPANY_PHONE": "8 (831) 300-00-00",
        "COMPANY_SITE": "energosbyt-volga.ru",
        "COMPANY_BANK_NAME": "ПАО «Волжский банк»",
        "COMPANY_BIC": BIC,
        "COMPANY_CORRESPONDENT_ACCOUNT": correspondent,
        "COMPANY_SETTLEMENT_ACCOUNT": settlement,
        "SUPPORT_PHONE": "8 (831) 300-00-01",
        "SUPPORT_EMAIL": "help@energosbyt-volga.ru",
    }
    return {**env, **changes}


def problems(output: str) -> list[str]:
    return re.findall(r"^problem: (.*)$", output, flags=re.M)


async def test_check_names_what_a_development_setup_lacks(db, tmp_path: Path) -> None:
    result = kabinet("check", url=db.url, tmp_path=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    found = "\n".join(problems(result.stdout))
    for expected in ("ENV is 'development'", "SMTP_HOST is empty", "COMPANY_INN is the fictional"):
        assert expected in found, result.stdout
    assert "not ready for production" in result.stdout
    assert "Traceback" not in result.stderr


async def test_check_passes_a_complete_production_setup(db, tmp_path: Path) -> None:
    result = kabinet("check", url=db.url, tmp_path=tmp_path, **production())
    if BACKEND == "postgres":
        assert result.returncode == 0, result.stdout + result.stderr
        assert problems(result.stdout) == []
        assert "ready for production" in result.stdout
        assert "FCM_CREDENTIALS_FILE is empty: pushes to Android and web" in result.stdout
        assert "APNS_KEY_FILE is empty: pushes to iOS would be written" in result.stdout
    else:  # the one thing a SQLite deployment cannot fix by settings
        assert result.returncode == 1
        assert problems(result.stdout) == [
            "DATABASE_URL is SQLite: production runs on PostgreSQL (several processes)"
        ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"PUBLIC_WEB_URL": "http://lk.energosbyt-volga.ru"}, "PUBLIC_WEB_URL"),
        ({"SMTP_TLS": "none"}, "SMTP_TLS is none"),
        ({"FORWARDED_ALLOW_IPS": "*"}, "FORWARDED_ALLOW_IPS is *"),
        ({"CORS_ORIGINS": "http://app.example.ru"}, "CORS_ORIGINS"),
        ({"MAIL_FROM": "noreply@example.com"}, "MAIL_FROM"),
        ({"FCM_CREDENTIALS_FILE": "/nonexistent/firebase.json"}, "FCM_CREDENTIALS_FILE"),
        (
            {
                "APNS_KEY_FILE": "/nonexistent/AuthKey.p8",
                "APNS_KEY_ID": "ABC123DEFG",
                "APNS_TEAM_ID": "DEF123GHIJ",
                "APNS_TOPIC": "ru.example.kabinet",
            },
            "APNS_KEY_FILE",
        ),
    ],
)
async def test_check_finds_each_mistake(db, tmp_path: Path, change, expected) -> None:
    result = kabinet("check", url=db.url, tmp_path=tmp_path, **production(**change))
    assert result.returncode == 1
    assert any(expected in problem for problem in problems(result.stdout)), result.stdout


@pytest_asyncio.fixture
async def empty_url(tmp_path: Path) -> AsyncIterator[str]:
    url = await create_empty_database(tmp_path)
    yield url
    await drop_database(url)


async def test_check_finds_a_database_behind_the_code(empty_url: str, tmp_path: Path) -> None:
    result = kabinet("check", url=empty_url, tmp_path=tmp_path, **production())
    assert result.returncode == 1
    assert any("lacks migrations" in p and "0001_initial" in p for p in problems(result.stdout))


async def test_check_reports_an_unreachable_database(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    (tmp_path / "a-file").write_text("not a directory")
    url = (
        f"postgres://postgres@127.0.0.1:{port}/kabinet"
        if BACKEND == "postgres"
        else f"sqlite://{tmp_path / 'a-file' / 'kabinet.sqlite3'}"
    )
    result = kabinet("check", url=url, tmp_path=tmp_path, **production())
    assert result.returncode == 1
    assert any("cannot be reached" in p for p in problems(result.stdout)), result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite creates its file by itself")
async def test_migrate_creates_a_missing_database(tmp_path: Path) -> None:
    url = postgres_url_for(f"kabinet_new_{secrets.token_hex(4)}")
    try:
        first = kabinet("migrate", url=url, tmp_path=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "created the database" in first.stdout
        again = kabinet("migrate", url=url, tmp_path=tmp_path)
        assert again.returncode == 0 and "created the database" not in again.stdout
        assert "0 migration(s) applied" in again.stdout
    finally:
        await drop_postgres_database(url)
    assert urlsplit(url).path.startswith("/kabinet_new_")


@pytest.mark.skipif(BACKEND != "postgres", reason="several workers share PostgreSQL")
async def test_metrics_count_every_workers_requests(db, tmp_path: Path) -> None:
    port = free_port()
    server = start_kabinet(
        "serve", "--port", str(port), "--workers", "2", url=db.url, tmp_path=tmp_path
    )
    try:
        await wait_until_ready(port, server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            sent = 60
            for _ in range(sent):  # new connections: the kernel spreads them over workers
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as once:
                    assert (await once.get("/healthz")).status_code == 200
            text = (await http.get("/metrics")).text
        counted = sum(
            float(value)
            for value in re.findall(
                r'^kabinet_http_requests_total\{[^}]*route="/healthz"[^}]*status="200"[^}]*\} (\S+)$',
                text,
                flags=re.M,
            )
        )
        assert counted == sent, text  # wait_until_ready asks /readyz
        assert (tmp_path / "var" / "metrics").is_dir()
        assert len(list((tmp_path / "var" / "metrics").glob("counter_*.db"))) >= 2
    finally:
        _code, err = stop_kabinet(server)
        assert "Traceback" not in err, err
