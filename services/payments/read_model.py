"""Reading an account's payment history for the API, paged in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models import sql
from models.payments import OnlinePayment
from services.core.paging import ListSpec


def _payment(row: dict[str, Any]) -> dict[str, Any]:
    row["amount"] = sql.as_decimal(row["amount"])
    row["paid_at"] = sql.as_datetime(row["paid_at"])
    return row


PAYMENTS = ListSpec(
    select="t.id, t.account_id AS owner_id, t.amount, t.paid_at, t.channel",
    source="payment t",
    owner="t.account_id",
    sort="t.paid_at",
    convert=_payment,
)


async def online_payments_by_id(payment_ids: Sequence[int]) -> list[OnlinePayment | None]:
    """Payments made in cabinets (payBill) by id; `cabinet_id` says whose (the caller
    shows a cabinet only its own)."""
    found = {p.id: p for p in await OnlinePayment.filter(id__in=list(payment_ids))}
    return [found.get(p) for p in payment_ids]
