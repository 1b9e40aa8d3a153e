"""Reading accounts and meters for the API: the viewer's accounts, one account if the
cabinet holds it, meters by account or id, each batched over many keys so the dashboard
costs the same few queries whatever the number of accounts. Rows come back as plain
dicts with typed values; no ORM objects are built."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from models import sql
from models.sql import marks
from services.core.paging import rows_in_order

ACCOUNT_COLUMNS = "a.id, a.number, a.holder_name, a.address, a.tariff, a.balance, a.balance_on"
METER_COLUMNS = (
    "id, account_id, serial, model, zones, digits, installed_on, verified_on, next_verification_on"
)


def account_row(row: dict[str, Any]) -> dict[str, Any]:
    row["balance"] = sql.as_decimal(row["balance"])
    row["balance_on"] = sql.as_date(row["balance_on"])
    return row


def _meter(row: dict[str, Any]) -> dict[str, Any]:
    for column in ("installed_on", "verified_on", "next_verification_on"):
        row[column] = sql.as_date(row[column])
    return row


async def accounts_of_cabinets(cabinet_ids: Sequence[int]) -> list[list[dict]]:
    """Each cabinet's accounts, in the order they were linked."""
    rows = await sql.fetch(
        sql.connection(),
        f"SELECT ca.cabinet_id, {ACCOUNT_COLUMNS} FROM cabinet_account ca "  # noqa: S608
        f"JOIN account a ON a.id = ca.account_id WHERE ca.cabinet_id IN ({marks(cabinet_ids)}) "
        "ORDER BY ca.linked_at, a.id",
        list(cabinet_ids),
    )
    by_cabinet: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_cabinet[row.pop("cabinet_id")].append(account_row(row))
    return [by_cabinet[c] for c in cabinet_ids]


async def accounts_by_id(account_ids: Sequence[int]) -> list[dict | None]:
    """Accounts whoever holds them (for specialists, who see every customer's)."""
    query = f"SELECT {ACCOUNT_COLUMNS} FROM account a WHERE a.id IN"  # noqa: S608
    return await rows_in_order(query, account_ids, account_row)


async def account_of_cabinet(cabinet_id: int, account_id: int) -> dict[str, Any] | None:
    """The account if the cabinet holds it; None for missing and others' alike."""
    row = await sql.fetch_one(
        sql.connection(),
        f"SELECT {ACCOUNT_COLUMNS} FROM cabinet_account ca JOIN account a "  # noqa: S608
        "ON a.id = ca.account_id WHERE ca.cabinet_id = ? AND a.id = ?",
        [cabinet_id, account_id],
    )
    return account_row(row) if row else None


async def meters_of_accounts(account_ids: Sequence[int]) -> list[list[dict]]:
    rows = await sql.fetch(
        sql.connection(),
        f"SELECT {METER_COLUMNS} FROM meter WHERE account_id IN ({marks(account_ids)}) "  # noqa: S608
        "ORDER BY id",
        list(account_ids),
    )
    by_account: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_account[row["account_id"]].append(_meter(row))
    return [by_account[a] for a in account_ids]


async def meters_by_id(meter_ids: Sequence[int]) -> list[dict | None]:
    query = f"SELECT {METER_COLUMNS} FROM meter WHERE id IN"  # noqa: S608
    return await rows_in_order(query, meter_ids, _meter)


async def accounts_staff_reach(account_ids: Sequence[int]) -> list[bool]:
    """Whether specialists reach each account through a question: the account a question
    is about, or an account of a cabinet that asked one (`Question.customer.accounts`)."""
    rows = await sql.fetch(
        sql.connection(),
        f"SELECT a.id FROM account a WHERE a.id IN ({marks(account_ids)}) AND ("  # noqa: S608
        "EXISTS (SELECT 1 FROM question q WHERE q.account_id = a.id) OR EXISTS ("
        "SELECT 1 FROM cabinet_account ca JOIN question q ON q.cabinet_id = ca.cabinet_id "
        "WHERE ca.account_id = a.id))",
        list(account_ids),
    )
    reached = {row["id"] for row in rows}
    return [a in reached for a in account_ids]
