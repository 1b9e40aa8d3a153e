"""Monthly consumption per tariff zone, with the same month a year earlier, for charts.

A month's kWh and charge come from its receipt; where there is no receipt for the month,
or its line leaves a zone's consumption empty, the kWh come from the meter readings:
the advance of each register between two consecutive accepted readings of a meter counts
in the month of the later one (a register that passed its capacity wraps around), which
is how the bill counts it too. Readings give no money: the amount stays unknown.

The series ends with the current month (company time zone) once anything is known of
it, else with the month before; it holds `months` months, oldest first. Any number of
accounts costs two queries: their receipts, and their readings (with the last reading
before the range, so the first month has its starting point).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from models import sql
from services.core.timeutil import add_months
from services.readings.zones import zone_count

MAX_MONTHS = 36


@dataclass(frozen=True)
class ZoneConsumption:
    zone: int
    kwh: Decimal | None
    amount: Decimal | None
    kwh_year_ago: Decimal | None
    amount_year_ago: Decimal | None


@dataclass(frozen=True)
class MonthConsumption:
    month: dt.date  # first day of the month
    source: str  # "receipt", "readings" or "none"
    zone_count: int  # zones of the tariff, which names them
    kwh: Decimal | None
    amount: Decimal | None
    kwh_year_ago: Decimal | None
    amount_year_ago: Decimal | None
    zones: tuple[ZoneConsumption, ...]


@dataclass
class _Month:
    """What is known of one month of one account."""

    receipt: bool = False
    charged: Decimal | None = None
    zone_count: int = 0
    kwh: dict[int, Decimal] = field(default_factory=dict)
    amount: dict[int, Decimal] = field(default_factory=dict)
    metered: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @property
    def source(self) -> str:
        return "receipt" if self.receipt else "readings" if self.metered else "none"

    def zone_kwh(self, zone: int) -> Decimal | None:
        return self.kwh.get(zone, self.metered.get(zone))

    @property
    def zone_numbers(self) -> set[int]:
        return set(self.kwh) | set(self.amount) | set(self.metered)

    @property
    def total_kwh(self) -> Decimal | None:
        values = [v for z in self.zone_numbers if (v := self.zone_kwh(z)) is not None]
        return sum(values, Decimal(0)) if values else None


async def consumption(
    account_ids: Sequence[int], months: int, today: dt.date
) -> dict[int, list[MonthConsumption]]:
    """The series of each account (see the module's docstring); `today` in the company's
    time zone. `months` is 1..MAX_MONTHS (the API checks it)."""
    this_month = today.replace(day=1)
    start = add_months(this_month, -(months + 12))  # the earliest month a series may show
    end = add_months(this_month, 1)
    known: dict[int, dict[dt.date, _Month]] = {a: defaultdict(_Month) for a in account_ids}
    if account_ids:
        await _add_receipts(known, start, end)
        await _add_readings(known, start, end)
    result = {}
    for account_id, by_month in known.items():
        current = by_month.get(this_month)
        last = this_month if current and current.source != "none" else add_months(this_month, -1)
        result[account_id] = [
            _month(add_months(last, offset - months + 1), by_month) for offset in range(months)
        ]
    return result


def _month(month: dt.date, by_month: dict[dt.date, _Month]) -> MonthConsumption:
    now, before = by_month.get(month, _Month()), by_month.get(add_months(month, -12), _Month())
    zones = tuple(
        ZoneConsumption(
            zone,
            now.zone_kwh(zone),
            now.amount.get(zone),
            before.zone_kwh(zone),
            before.amount.get(zone),
        )
        for zone in sorted(now.zone_numbers | before.zone_numbers)
    )
    return MonthConsumption(
        month=month,
        source=now.source,
        zone_count=now.zone_count or before.zone_count or zone_count(z.zone for z in zones),
        kwh=now.total_kwh,
        amount=now.charged,
        kwh_year_ago=before.total_kwh,
        amount_year_ago=before.charged,
        zones=zones,
    )


async def _add_receipts(known: dict[int, dict[dt.date, _Month]], start: dt.date, end: dt.date):
    ids = list(known)
    rows = await sql.fetch(
        sql.connection(),
        "SELECT account_id, period, charged, lines FROM receipt "  # noqa: S608 (only ?)
        f"WHERE account_id IN ({sql.marks(ids)}) AND period >= ? AND period < ?",
        [*ids, start, end],
    )
    for row in rows:
        month = known[row["account_id"]][sql.as_date(row["period"])]  # type: ignore[index]
        lines: list[dict[str, Any]] = row["lines"]
        if isinstance(lines, str | bytes):
            lines = json.loads(lines)
        month.receipt = True
        month.charged = sql.as_decimal(row["charged"])
        month.zone_count = zone_count(int(line["zone"]) for line in lines)
        for line in lines:
            zone = int(line["zone"])
            if line.get("consumption") not in (None, ""):
                month.kwh[zone] = Decimal(line["consumption"])
            if line.get("amount") not in (None, ""):
                month.amount[zone] = Decimal(line["amount"])


async def _add_readings(known: dict[int, dict[dt.date, _Month]], start: dt.date, end: dt.date):
    ids = list(known)
    rows = await sql.fetch(
        sql.connection(),
        "SELECT m.account_id, r.meter_id, m.zones, m.digits, r.taken_on, r.t1, r.t2, r.t3 "  # noqa: S608 (only ?)
        "FROM meter_reading r JOIN meter m ON m.id = r.meter_id "
        f"WHERE m.account_id IN ({sql.marks(ids)}) AND r.status = 'accepted' AND r.taken_on < ? "
        "AND r.taken_on >= COALESCE((SELECT max(p.taken_on) FROM meter_reading p "
        "WHERE p.meter_id = r.meter_id AND p.status = 'accepted' AND p.taken_on < ?), ?) "
        "ORDER BY r.meter_id, r.taken_on, r.id",
        [*ids, end, start, start],
    )
    previous: dict[int, dict[str, Any]] = {}
    for row in rows:
        row["taken_on"] = sql.as_date(row["taken_on"])
        before = previous.get(row["meter_id"])
        previous[row["meter_id"]] = row
        if before is None or before["taken_on"] == row["taken_on"]:
            continue  # the first reading of the meter, or another source's of the same day
        month = known[row["account_id"]][row["taken_on"].replace(day=1)]
        month.zone_count = month.zone_count or row["zones"]
        capacity = Decimal(10) ** row["digits"]
        for zone in range(1, row["zones"] + 1):
            was, now = sql.as_decimal(before[f"t{zone}"]), sql.as_decimal(row[f"t{zone}"])
            if was is None or now is None:
                continue
            month.metered[zone] += now - was if now >= was else now + capacity - was
