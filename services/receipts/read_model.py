"""Reading receipts for the API: an account's bills, paged in SQL, and the consumption
series of many accounts at once."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from models import sql
from services.core.paging import ListSpec
from services.receipts import consumption


def _receipt(row: dict[str, Any]) -> dict[str, Any]:
    """A receipt's row for the API; its `lines` stay as stored (JSON text on SQLite) until
    `receipt_lines` reads them: most lists of bills never ask for them."""
    for column in ("opening_balance", "charged", "paid", "amount_due"):
        row[column] = sql.as_decimal(row[column])
    for column in ("period", "issued_on", "due_on"):
        row[column] = sql.as_date(row[column])
    return row


def receipt_lines(stored: Any) -> list[dict[str, Any]]:
    """The charges per zone of a receipt row's `lines` (JSON text, or decoded already)."""
    return json.loads(stored) if isinstance(stored, str | bytes) else (stored or [])


RECEIPTS = ListSpec(
    select="t.id, t.account_id AS owner_id, t.period, t.issued_on, t.due_on, "
    "t.opening_balance, t.charged, t.paid, t.amount_due, t.lines",
    source="receipt t",
    owner="t.account_id",
    sort="t.period",
    convert=_receipt,
)


async def consumption_of_accounts(
    keys: Sequence[tuple[int, int]], today: dt.date
) -> list[list[consumption.MonthConsumption]]:
    """Keys are (account id, months): one computation per distinct `months`."""
    groups: dict[int, list[int]] = defaultdict(list)
    for account_id, months in keys:
        groups[months].append(account_id)
    found = {}
    for months, ids in groups.items():
        series = await consumption.consumption(ids, months, today)
        found.update({(a, months): months_of for a, months_of in series.items()})
    return [found[key] for key in keys]
