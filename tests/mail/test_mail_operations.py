"""Where the worker runs (in the server, as `kabinet worker`) and the operators' commands."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

from mail import send
from models.mail import MailState, OutboxMessage
from server import create_app
from tests.mail_fixtures import ManualClock, SmtpSink, deliver_all, free_port
from tests.ops.test_cli import kabinet
from tests.processes import start_kabinet, stop_kabinet

NOTICE = {"name": "", "title": "Проверка", "paragraphs": ["Текст."], "action": None}


async def test_mail_status_and_retry(
    db, smtp: SmtpSink, smtp_settings, clock: ManualClock, tmp_path: Path
) -> None:
    rows = [await send("notice", to=f"u{i}@example.ru", context=NOTICE) for i in range(3)]
    smtp.answer("550 5.1.1 No such user", times=2)
    await deliver_all(smtp_settings, clock=clock)
    waiting = await send("notice", to="later@example.ru", context=NOTICE)
    failed = [row.id for row in rows[:2]]

    status = kabinet("mail", "status", url=db.url, tmp_path=tmp_path)
    assert status.returncode == 0, status.stderr
    assert re.search(r"^pending\s+1$", status.stdout, re.MULTILINE)
    assert re.search(r"^sent\s+1$", status.stdout, re.MULTILINE)
    assert re.search(r"^failed\s+2$", status.stdout, re.MULTILINE)
    assert re.search(
        rf"^oldest unsent: #{waiting.id} to later@example.ru, \d+ s old, pending, 0 attempt",
        status.stdout,
        re.MULTILINE,
    )

    one = kabinet("mail", "retry", str(failed[0]), url=db.url, tmp_path=tmp_path)
    assert (one.returncode, one.stdout) == (0, f"requeued #{failed[0]}\n")
    requeued = await OutboxMessage.get(id=failed[0])
    assert (requeued.state, requeued.attempts) == (MailState.PENDING, 0)
    rest = kabinet("mail", "retry", "--failed", url=db.url, tmp_path=tmp_path)
    assert (rest.returncode, rest.stdout) == (0, "requeued 1 failed message(s)\n")

    sent = kabinet("mail", "retry", str(rows[2].id), url=db.url, tmp_path=tmp_path)
    assert sent.returncode == 1
    assert f"message #{rows[2].id} is sent, only failed or pending" in sent.stderr
    missing = kabinet("mail", "retry", "999999", url=db.url, tmp_path=tmp_path)
    assert missing.returncode == 1
    assert "error: no message #999999 in the outbox" in missing.stderr
    usage = kabinet("mail", "retry", url=db.url, tmp_path=tmp_path)
    assert usage.returncode == 2
    assert "one of the arguments ID --failed is required" in usage.stderr
    assert "Traceback" not in sent.stderr + missing.stderr + usage.stderr

    assert await deliver_all(smtp_settings, clock=clock) == 3
    assert len(smtp.messages) == 4  # the rejected two, once each, and the two others
    assert await OutboxMessage.filter(state=MailState.SENT).count() == 4


async def test_in_process_worker_starts_and_stops_with_the_lifespan(smtp, smtp_settings) -> None:
    app = create_app(smtp_settings, manage_db=False, mail_worker=True)
    async with app.router.lifespan_context(app):
        task = app.state.mail_worker
        assert task is not None and not task.done()
        queued = await send("notice", to="maria@example.ru", context=NOTICE)
        await smtp.wait_for(1)
    assert task.done() and not task.cancelled() and task.exception() is None
    assert [m["Message-ID"] for m in smtp.messages] == [queued.message_id]

    quiet = create_app(smtp_settings, manage_db=False)  # what the other tests use
    async with quiet.router.lifespan_context(quiet):
        assert quiet.state.mail_worker is None


def start(command: str, *args: str, db, smtp: SmtpSink, tmp_path: Path) -> subprocess.Popen:
    """`kabinet COMMAND` as its own process, delivering to the test's SMTP server."""
    return start_kabinet(
        command,
        *args,
        url=db.url,
        tmp_path=tmp_path,
        **smtp.environment(poll_seconds=0.1),
    )


stop = stop_kabinet


async def test_kabinet_worker_process_delivers_and_stops_on_sigterm(
    db, smtp: SmtpSink, tmp_path: Path
) -> None:
    queued = [await send("notice", to=f"u{i}@example.ru", context=NOTICE) for i in range(3)]
    process = start("worker", db=db, smtp=smtp, tmp_path=tmp_path)
    try:
        await smtp.wait_for(3, within=60)
    finally:
        code, err = stop(process)
    assert code == 0, err
    assert "stopped" in err and "Traceback" not in err
    assert sorted(m["Message-ID"] for m in smtp.messages) == sorted(r.message_id for r in queued)
    assert await OutboxMessage.filter(state=MailState.SENT).count() == 3


async def test_serve_runs_a_worker_by_default(db, smtp: SmtpSink, tmp_path: Path) -> None:
    queued = await send("notice", to="maria@example.ru", context=NOTICE)
    process = start("serve", "--port", str(free_port()), db=db, smtp=smtp, tmp_path=tmp_path)
    try:
        await smtp.wait_for(1, within=60)
    finally:
        code, err = stop(process)
    # uvicorn shuts down gracefully, then re-raises the signal it got (exit status -15)
    assert code in (0, -signal.SIGTERM), err
    assert "mail worker" in err and "stopped" in err
    assert "Application shutdown complete" in err and "Traceback" not in err
    assert [m["Message-ID"] for m in smtp.messages] == [queued.message_id]
