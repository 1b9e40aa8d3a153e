"""Reading-window reminders to the apps: "the window is open" (READING_WINDOW_OPEN) and
"it closes soon and nothing was submitted" (READING_WINDOW_CLOSING), once per account per
window, in the company's time zone.

Every server process runs `send_due` in its background loop (READING_REMINDER_POLL_SECONDS).
From READING_REMINDER_HOUR of a window's day on, it picks accounts held by a cabinet with
a push device that have no reminder of the kind due today, and for each one, in one
transaction, inserts the `reading_reminder` row - unique per (account, window start,
kind) - and queues the pushes to every holder's devices. The insert is the claim: of two
processes (or rounds) taking the same account, the second's insert finds the row (on
PostgreSQL it waits for the first transaction, then finds it) and that process sends
nothing, so each account gets each reminder of a window once. A rolled-back round leaves
no row, and the next round sends it.

"Closes soon" is READING_REMINDER_DAYS_BEFORE_CLOSE days before the window's last day
through that day, for accounts with no reading submitted in the window; from then on the
"open" reminder is no longer sent (the "closing" one says it all)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from config import Settings, get_settings
from models import sql
from models.push import ReminderKind
from services.core.clock import now
from services.core.ids import encode_id
from services.core.timeutil import format_date_ru
from services.notifications.events import NotificationEvent
from services.notifications.push import announce
from services.readings.rules import window_of

log = logging.getLogger("kabinet.readings")

BATCH = 200  # accounts a round looks at before looking again

EVENTS = {
    ReminderKind.OPEN: NotificationEvent.READING_WINDOW_OPEN,
    ReminderKind.CLOSING: NotificationEvent.READING_WINDOW_CLOSING,
}

# Accounts with a meter, held by a cabinet with a push device, not yet reminded.
_DUE = """
SELECT DISTINCT a.id, a.number FROM account a
JOIN cabinet_account ca ON ca.account_id = a.id
WHERE EXISTS (SELECT 1 FROM push_device d WHERE d.cabinet_id = ca.cabinet_id)
AND EXISTS (SELECT 1 FROM meter m WHERE m.account_id = a.id)
AND NOT EXISTS (SELECT 1 FROM reading_reminder r
                WHERE r.account_id = a.id AND r.window_start = ? AND r.kind = ?)
"""
_NOTHING_SUBMITTED = """
AND NOT EXISTS (SELECT 1 FROM reading_submission s JOIN meter m ON m.id = s.meter_id
                WHERE m.account_id = a.id AND s.window_start = ? AND s.reading_id IS NOT NULL)
"""


@dataclass(frozen=True)
class Due:
    kind: ReminderKind
    starts_on: dt.date
    ends_on: dt.date


def due_now(settings: Settings) -> Due | None:
    """Which reminder is due at this moment in the company's time zone, if any."""
    local = now().astimezone(ZoneInfo(settings.timezone))
    window = window_of(local.date(), settings)
    if window is None or local.hour < settings.reading_reminder_hour:
        return None
    start, end = window
    closing_from = end - dt.timedelta(days=settings.reading_reminder_days_before_close)
    kind = ReminderKind.CLOSING if local.date() >= closing_from else ReminderKind.OPEN
    return Due(kind, start, end)


async def send_due(settings: Settings | None = None) -> int:
    """One round: send every reminder due now; returns how many accounts were reminded."""
    settings = settings or get_settings()
    due = due_now(settings)
    if due is None:
        return 0
    query, params = _DUE, [due.starts_on, due.kind.value]
    if due.kind == ReminderKind.CLOSING:
        query, params = query + _NOTHING_SUBMITTED, [*params, due.starts_on]
    reminded = 0
    after = 0
    while True:
        rows = await sql.fetch(
            sql.connection(),
            f"{query} AND a.id > ? ORDER BY a.id LIMIT {BATCH}",
            [*params, after],
        )
        for row in rows:
            reminded += await _remind(row["id"], row["number"], due)
        if len(rows) < BATCH:
            break
        after = rows[-1]["id"]
    if reminded:
        log.info("reading window %s: %d %s reminder(s)", due.starts_on, reminded, due.kind.value)
    return reminded


async def _remind(account_id: int, number: str, due: Due) -> int:
    """Claim and send one account's reminder; 0 when another process had it."""
    event = EVENTS[due.kind]
    async with in_transaction():
        conn = sql.connection()
        claimed = await sql.execute(
            conn,
            "INSERT INTO reading_reminder (account_id, window_start, kind, pushed, created_at) "
            "VALUES (?, ?, ?, 0, ?) ON CONFLICT (account_id, window_start, kind) DO NOTHING",
            [account_id, due.starts_on, due.kind.value, now()],
        )
        if not claimed:
            return 0
        holders = await sql.fetch(
            conn,
            "SELECT cabinet_id FROM cabinet_account WHERE account_id = ? ORDER BY cabinet_id",
            [account_id],
        )
        pushed = 0
        for holder in holders:
            pushed += await announce(
                holder["cabinet_id"],
                event,
                node_id=encode_id("Account", account_id),
                key=f"{event.value}:{due.starts_on.isoformat()}:{account_id}",
                account_number=number,
                starts_on=format_date_ru(due.starts_on),
                ends_on=format_date_ru(due.ends_on),
            )
        await sql.execute(
            conn,
            "UPDATE reading_reminder SET pushed = ? "
            "WHERE account_id = ? AND window_start = ? AND kind = ?",
            [pushed, account_id, due.starts_on, due.kind.value],
        )
    return 1
