"""Telling the apps about new bills: one push per new receipt to each device of every
cabinet holding its account, written in the import's transaction (a rejected file
announces nothing; a re-import brings no new receipt, so nothing again)."""

from __future__ import annotations

from collections.abc import Sequence

from models import sql
from services.core.ids import encode_id
from services.core.money import format_rub
from services.core.timeutil import format_date_ru, format_month_en, format_month_ru
from services.notifications.events import NotificationEvent
from services.notifications.push import announce

CHUNK = 500  # receipt ids per query

# Only receipts whose account a cabinet with a push device holds: an import of 100,000
# bills for customers without the app costs one query per chunk, not one per bill.
_HOLDERS = """
SELECT DISTINCT r.id, r.period, r.due_on, r.amount_due, a.number, ca.cabinet_id
FROM receipt r
JOIN account a ON a.id = r.account_id
JOIN cabinet_account ca ON ca.account_id = r.account_id
WHERE r.id IN ({marks})
AND EXISTS (SELECT 1 FROM push_device d WHERE d.cabinet_id = ca.cabinet_id)
ORDER BY r.id, ca.cabinet_id
"""


async def announce_new_bills(receipt_ids: Sequence[int]) -> int:
    """Queue the NEW_BILL push of each receipt (ids of new rows only); returns how many
    pushes were queued. Runs on the current connection, inside the import's transaction."""
    conn = sql.connection()
    queued = 0
    for start in range(0, len(receipt_ids), CHUNK):
        chunk = list(receipt_ids[start : start + CHUNK])
        for row in await sql.fetch(conn, _HOLDERS.format(marks=sql.marks(chunk)), chunk):
            period, due_on = sql.as_date(row["period"]), sql.as_date(row["due_on"])
            queued += await announce(
                row["cabinet_id"],
                NotificationEvent.NEW_BILL,
                node_id=encode_id("Receipt", row["id"]),
                account_number=row["number"],
                month_ru=format_month_ru(period),
                month_en=format_month_en(period),
                amount_due=format_rub(sql.as_decimal(row["amount_due"])),
                due_on=format_date_ru(due_on),
            )
    return queued
