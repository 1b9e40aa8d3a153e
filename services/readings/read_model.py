"""Reading meter readings for the API: an account's history, paged in SQL, and each
meter's latest reading, batched over many meters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models import sql
from models.sql import marks
from services.core.paging import ListSpec


def _reading(row: dict[str, Any]) -> dict[str, Any]:
    for column in ("t1", "t2", "t3"):
        row[column] = sql.as_decimal(row[column])
    row["taken_on"] = sql.as_date(row["taken_on"])
    return row


READINGS = ListSpec(
    select="t.id, m.account_id AS owner_id, t.meter_id, m.zones, t.taken_on, t.t1, t.t2, "
    "t.t3, t.source, t.status",
    source="meter_reading t JOIN meter m ON m.id = t.meter_id",
    owner="m.account_id",
    sort="t.taken_on",
    convert=_reading,
)


_LAST = (
    "SELECT * FROM (SELECT t.id, t.meter_id, t.taken_on, t.t1, t.t2, t.t3, t.source, "
    "t.status, ROW_NUMBER() OVER (PARTITION BY t.meter_id ORDER BY t.taken_on DESC, "
    "t.id DESC) AS rn FROM meter_reading t {where} AND t.status IN ('accepted', 'review')) q "
    "WHERE rn = 1"
)


async def last_reading_of_meters(meter_ids: Sequence[int]) -> list[dict | None]:
    """Each meter's latest accepted reading (or one under review); None: none yet."""
    where = f"WHERE t.meter_id IN ({marks(meter_ids)})"
    rows = await sql.fetch(sql.connection(), _LAST.format(where=where), list(meter_ids))
    by_meter = {row["meter_id"]: _reading(row) for row in rows}
    return [by_meter.get(m) for m in meter_ids]


async def last_readings_of_accounts(account_ids: Sequence[int]) -> dict[int, dict]:
    """The latest reading of every meter of these accounts that has one, by meter id:
    what `last_reading_of_meters` answers, without waiting for the meters' ids."""
    where = f"JOIN meter m ON m.id = t.meter_id WHERE m.account_id IN ({marks(account_ids)})"
    rows = await sql.fetch(sql.connection(), _LAST.format(where=where), list(account_ids))
    return {row["meter_id"]: _reading(row) for row in rows}
