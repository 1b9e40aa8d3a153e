"""Reading the electronic receipt's state of many accounts at once, for the API."""

from __future__ import annotations

from collections.abc import Sequence

from models import sql
from models.sql import marks


async def ereceipts_of_accounts(account_ids: Sequence[int]) -> list[dict | None]:
    """The subscription row of each account (None: none), with the cabinet's address."""
    rows = await sql.fetch(
        sql.connection(),
        "SELECT s.account_id, s.email, s.since, s.pending_email, c.email AS cabinet_email "  # noqa: S608
        "FROM ereceipt_subscription s JOIN cabinet c ON c.id = s.cabinet_id "
        "JOIN cabinet_account ca ON ca.account_id = s.account_id "
        f"AND ca.cabinet_id = s.cabinet_id WHERE s.account_id IN ({marks(account_ids)})",
        list(account_ids),
    )
    by_account = {row["account_id"]: row for row in rows}
    return [by_account.get(a) for a in account_ids]
