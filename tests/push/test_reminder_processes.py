"""Two server processes on one PostgreSQL, both running the reading-window reminders in
their background loops: each account is reminded once, and each reminder reaches each
device once (written to VAR_DIR/push/ by the processes' push workers)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from config import Settings
from models.push import PushMessage, PushState, ReadingReminder
from services.readings import reminders
from tests.conftest import BACKEND, with_settings
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready
from tests.push.test_devices import FCM_TOKEN, register
from tests.support import ACCOUNT_2, ACCOUNT_3, AMOUNT_2, AMOUNT_3, Api

pytestmark = [
    pytest.mark.usefixtures("demo_data"),
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="several server processes share PostgreSQL; a SQLite deployment is one process",
    ),
]

# Every day is in the window and every hour is past the reminders' hour, for the servers'
# real clock; the window closes on the month's last day (then "closing" is due instead).
ALWAYS_DUE = {
    "READING_WINDOW_START_DAY": "1",
    "READING_WINDOW_END_DAY": "31",
    "READING_REMINDER_HOUR": "0",
    "READING_REMINDER_DAYS_BEFORE_CLOSE": "0",
    "READING_REMINDER_POLL_SECONDS": "0.05",
    "MAIL_POLL_SECONDS": "0.1",
    "LOG_LEVEL": "warning",
}


async def test_two_processes_remind_each_account_once(
    api: Api, db, settings: Settings, tmp_path: Path
) -> None:
    users = [
        await api.signed_up(),
        await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru"),
        await api.signed_up(ACCOUNT_3, AMOUNT_3, "sidorov@mail.ru"),
    ]
    for n, user in enumerate(users):
        assert (await register(user, f"{FCM_TOKEN}-{n}"))["userErrors"] == []
    configured = with_settings(
        settings,
        reading_window_start_day=1,
        reading_window_end_day=31,
        reading_reminder_hour=0,
        reading_reminder_days_before_close=0,
    )
    due = reminders.due_now(configured)
    assert due is not None
    event = reminders.EVENTS[due.kind].value

    ports = [free_port(), free_port()]
    servers = []
    for port, host in zip(ports, ("host-a", "host-b"), strict=True):
        (tmp_path / host).mkdir()
        servers.append(
            start_kabinet(
                "serve", "--port", str(port), url=db.url, tmp_path=tmp_path / host, **ALWAYS_DUE
            )
        )
    try:
        for port, server in zip(ports, servers, strict=True):
            await wait_until_ready(port, server)
        for _ in range(600):
            sent = await PushMessage.filter(event=event, state=PushState.SENT).count()
            if sent >= 3:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # give a second reminder, if there were one, time to come
    finally:
        errors = [stop_kabinet(server)[1] for server in servers]
    for err in errors:
        assert "Traceback" not in err, err

    rows = await ReadingReminder.all()
    assert len(rows) == 3 and {(r.window_start, r.kind, r.pushed) for r in rows} == {
        (due.starts_on, due.kind, 1)
    }
    pushed = await PushMessage.filter(event=event)
    assert len(pushed) == 3 and {m.state for m in pushed} == {PushState.SENT}
    files = [
        json.loads(f.read_text())
        for host in ("host-a", "host-b")
        for f in (tmp_path / host / "var" / "push").glob("*.json")
    ]
    written = [f for f in files if event in json.dumps(f)]
    assert len(written) == 3  # each device's reminder written once, by one of the two
