"""Retention (issue 22, item 3): each kind of personal data goes exactly when it is due and
nothing younger, what must stay stays, and `kabinet retention --dry-run` changes nothing.
The data is made through the real API on a frozen clock; a round runs as the server's
hourly loop runs it, and through the real command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from config import ROOT
from models.auth import SecurityEvent, Session
from models.cabinets import Cabinet
from models.mail import MailState, OutboxMessage
from services.core.clock import clock
from services.privacy import retention
from tests.auth.test_email_flows import VERIFY, mail_to, token_of
from tests.conftest import with_settings
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready
from tests.questions.support import asked
from tests.support import (
    ACCOUNT_1,
    ACCOUNT_2,
    ACCOUNT_3,
    AMOUNT_1,
    AMOUNT_2,
    AMOUNT_3,
    Api,
    codes,
)

pytestmark = pytest.mark.usefixtures("demo_data")

DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)
LOGOUT = "mutation { logout { endedSessions } }"
EVENTS = "{ me { securityEvents(first: 100) { nodes { kind at } } } }"


async def verified(api: Api, smtp, settings, account: str, amount: str, email: str) -> Api:
    user = await api.signed_up(account, amount, email)
    token = token_of((await mail_to(smtp, settings, email))[0], "/verify-email")
    assert (await api.data(VERIFY, {"t": token}))["verifyEmail"]["userErrors"] == []
    return user


async def test_unverified_cabinets_go_after_seven_days_unless_something_must_stay(
    api: Api, smtp, smtp_settings
) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock.freeze(start)
    # given a confirmed cabinet, an unconfirmed one, and an unconfirmed one that asked a question
    await verified(api, smtp, smtp_settings, ACCOUNT_1, AMOUNT_1, "kept@mail.ru")
    await api.signed_up(ACCOUNT_2, AMOUNT_2, "typo@mial.ru")
    asking = await api.signed_up(ACCOUNT_3, AMOUNT_3, "asker@mail.ru")
    await asked(asking)

    # a second before the seventh day ends nothing goes
    clock.freeze(start + 7 * DAY - SECOND)
    assert (await retention.run_round())["unverified cabinets"] == 0
    assert (await api.login("typo@mial.ru"))["userErrors"] == []

    # when it ends, the unconfirmed cabinet goes with its sessions and log
    clock.freeze(start + 7 * DAY + SECOND)
    typo = await Cabinet.get(email="typo@mial.ru")
    assert (await retention.run_round())["unverified cabinets"] == 1
    assert not await Cabinet.filter(id=typo.id).exists()
    assert not await Session.filter(cabinet_id=typo.id).exists()
    assert not await SecurityEvent.filter(cabinet_id=typo.id).exists()
    api.http.cookies.clear()  # the session cookie of the deleted cabinet's last login
    assert codes(await api.login("typo@mial.ru")) == ["INVALID_CREDENTIALS"]
    # the account is free: its holder registers it again, with the right address
    again = await api.register(ACCOUNT_2, AMOUNT_2, "right@mail.ru")
    assert again["userErrors"] == [], again
    # the confirmed cabinet and the one with a question stay, and a second round finds nothing
    assert (await api.login("kept@mail.ru"))["userErrors"] == []
    assert (await api.login("asker@mail.ru"))["userErrors"] == []
    assert (await retention.run_round())["unverified cabinets"] == 0


async def test_ended_sessions_go_ninety_days_after_they_ended(
    api: Api, smtp, smtp_settings
) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock.freeze(start)
    user = await verified(api, smtp, smtp_settings, ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
    await user.data(LOGOUT)  # ended at start (the session of `verified`)
    clock.freeze(start + DAY)
    later = user.as_user((await api.login("ivanova@mail.ru"))["token"])
    await later.data(LOGOUT)  # ended a day later
    clock.freeze(start + 30 * DAY)
    live = user.as_user((await api.login("ivanova@mail.ru"))["token"])

    clock.freeze(start + 90 * DAY + SECOND)
    assert (await retention.run_round())["ended sessions"] == 1
    assert await user.session_ended() == "INVALID"  # deleted: no session ever had it
    assert await later.session_ended() == "REVOKED"  # ended 89 days ago: kept
    # idle since day 30 (SESSION_IDLE_MINUTES: 14 days), ended on day 44: kept until day 134
    clock.freeze(start + 90 * DAY + DAY + SECOND)
    assert (await retention.run_round())["ended sessions"] == 1
    assert await later.session_ended() == "INVALID"
    assert await live.session_ended() == "EXPIRED"
    clock.freeze(start + 134 * DAY - SECOND)
    assert (await retention.run_round())["ended sessions"] == 0
    clock.freeze(start + 134 * DAY + SECOND)
    assert (await retention.run_round())["ended sessions"] == 1
    assert await live.session_ended() == "INVALID"


async def test_security_events_go_after_three_years(api: Api, smtp, smtp_settings) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock.freeze(start)
    await verified(api, smtp, smtp_settings, ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
    first = await SecurityEvent.all().count()
    clock.freeze(start + DAY)
    await api.login("ivanova@mail.ru")  # one LOGIN a day later

    clock.freeze(start + 1095 * DAY - SECOND)
    assert (await retention.run_round())["security events"] == 0
    clock.freeze(start + 1095 * DAY + SECOND)
    assert (await retention.run_round())["security events"] == first
    api.http.cookies.clear()  # its session went with the round too
    user = api.as_user((await api.login("ivanova@mail.ru"))["token"])
    kinds = [e["kind"] for e in (await user.data(EVENTS))["me"]["securityEvents"]["nodes"]]
    assert kinds == ["LOGIN", "LOGIN"]  # today's and the one of day 1; the rest are gone


async def test_undelivered_mail_loses_its_content_after_seven_days(
    api: Api, smtp, smtp_settings
) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock.freeze(start)
    smtp.answer("550 5.1.1 no such mailbox", at="rcpt")
    await api.register(ACCOUNT_1, AMOUNT_1, "nobody@mail.ru")
    await mail_to(smtp, smtp_settings, "nobody@mail.ru")
    [failed] = await OutboxMessage.filter(state=MailState.FAILED)
    assert failed.content

    clock.freeze(failed.created_at + 7 * DAY - SECOND)
    assert (await retention.run_round())["mail bodies"] == 0
    clock.freeze(failed.created_at + 7 * DAY + SECOND)
    assert (await retention.run_round())["mail bodies"] == 1
    await failed.refresh_from_db()
    assert failed.content == b""
    assert failed.recipient == "nobody@mail.ru" and failed.message_id and failed.subject
    # nothing is left to send: `mail retry` refuses it
    from mail import outbox

    with pytest.raises(outbox.RequeueRefused, match="MAIL_BODY_RETENTION_DAYS"):
        await outbox.requeue(failed.id)
    assert await outbox.requeue_failed() == 0


def kabinet(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *args],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "VAR_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_command_line_dry_run_changes_nothing_and_a_run_removes(
    api: Api, db, tmp_path: Path
) -> None:
    # given a cabinet registered 8 days ago and never confirmed, with a session ended then,
    # and one as old that asked a question
    user = await api.signed_up(ACCOUNT_2, AMOUNT_2, "typo@mial.ru")
    await user.data(LOGOUT)
    await asked(await api.signed_up(ACCOUNT_3, AMOUNT_3, "asker@mail.ru"))
    old = dt.datetime.now(dt.UTC) - 8 * DAY
    await Cabinet.all().update(created_at=old)
    typo = await Cabinet.get(email="typo@mial.ru")
    await Session.filter(cabinet_id=typo.id).update(
        revoked_at=old - 90 * DAY, created_at=old - 91 * DAY
    )
    sessions, cabinets = await Session.all().count(), await Cabinet.all().count()

    dry = kabinet(db.url, tmp_path, "retention", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = {line.split("  ")[0]: line for line in dry.stdout.splitlines()}
    assert " 1 due (to delete with their sessions" in lines["unverified cabinets"]
    assert f"oldest from {(old + dt.timedelta(hours=3)):%Y-%m-%d}" in lines["unverified cabinets"]
    assert "1 as old kept: closed, or payments, readings or questions" in dry.stdout
    assert " 1 due (to delete)" in lines["ended sessions"]
    assert " 0 due (to delete)" in lines["security events"]
    assert "dry run: nothing was changed" in dry.stdout
    assert (await Session.all().count(), await Cabinet.all().count()) == (sessions, cabinets)

    run = kabinet(db.url, tmp_path, "retention")
    assert run.returncode == 0, run.stderr
    assert "unverified cabinets          1 removed" in run.stdout
    assert not await Cabinet.filter(email="typo@mial.ru").exists()
    assert await Cabinet.filter(email="asker@mail.ru").exists()
    assert await Session.all().count() == 1  # the asker's, live


async def test_two_rounds_at_once_remove_each_row_once(api: Api, smtp, smtp_settings) -> None:
    """As two server processes would: each due row is removed by exactly one of them (on
    PostgreSQL the second skips the rows the first holds), and nothing that is not due."""
    settings = with_settings(smtp_settings, retention_batch_size=3)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock.freeze(start)
    user = await verified(api, smtp, settings, ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
    for _ in range(10):
        ended = user.as_user((await api.login("ivanova@mail.ru"))["token"])
        await ended.data(LOGOUT)
    clock.freeze(start + DAY)
    kept = user.as_user((await api.login("ivanova@mail.ru"))["token"])
    await kept.data(LOGOUT)

    clock.freeze(start + 90 * DAY + SECOND)
    first, second = await asyncio.gather(retention.run_round(), retention.run_round())
    # the 10 logouts of the first day; signed_up's session (idle since the start, so ended
    # on day 14) and the one of day 1 are not due yet
    assert first["ended sessions"] + second["ended sessions"] == 10
    assert await Session.all().count() == 2
    assert await kept.session_ended() == "REVOKED"
    assert await user.session_ended() == "EXPIRED"


async def test_every_server_process_runs_the_job(api: Api, db, tmp_path: Path) -> None:
    await api.signed_up(ACCOUNT_2, AMOUNT_2, "typo@mial.ru")
    await Cabinet.filter(email="typo@mial.ru").update(created_at=dt.datetime.now(dt.UTC) - 8 * DAY)
    port = free_port()
    process = start_kabinet("serve", "--port", str(port), url=db.url, tmp_path=tmp_path)
    try:
        await wait_until_ready(port, process)
        for _ in range(300):  # the first round runs at start-up
            if not await Cabinet.filter(email="typo@mial.ru").exists():
                break
            await asyncio.sleep(0.1)
        assert not await Cabinet.filter(email="typo@mial.ru").exists()
    finally:
        _code, err = stop_kabinet(process)
    assert "Traceback" not in err, err
