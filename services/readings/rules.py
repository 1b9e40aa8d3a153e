"""Meter readings submitted by customers: the checks, the estimate, storing, the export.

A submission is checked in two passes. The first needs only the input and the meter:
zones (MISSING_ZONE, UNKNOWN_ZONE), values (BAD_VALUE: not a number, negative, more
than three decimals, more digits than the register has), the date (DATE_IN_FUTURE)
and the submission window (OUTSIDE_WINDOW). The second reads the meter's history:
the date is not before the last accepted reading (DATE_BEFORE_PREVIOUS), each value is
not below it (LOWER_THAN_PREVIOUS) unless the register rolled over its capacity, and
each zone's consumption is plausible (IMPLAUSIBLE_VALUE, unless confirmed: then the
reading is stored for review).

"The last accepted reading" is the newest reading with status `accepted`, leaving out
the customer's own submission of the current window, which a new submission replaces:
a customer correcting a typo is compared with what came before it, not with the typo.

Storing is idempotent per (cabinet, idempotency key): the key is claimed by inserting
its `reading_submission` row first, in the transaction that stores the reading, so of
two identical requests arriving together the second waits on the unique index and
then returns the first one's result, and nothing more is stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from config import Settings, get_settings
from models import sql
from models.metering import Meter, MeterReading, ReadingSource, ReadingStatus, ReadingSubmission
from services.core import live
from services.core.clock import now
from services.core.errors import CoreError, RuleError, RuleErrors, raise_all
from services.core.idempotency import check_key
from services.core.timeutil import add_months
from services.readings.errors import ReadingError
from services.readings.zones import ZoneLabel

KWH = Decimal("0.001")
KOPECK = Decimal("0.01")
HISTORY_DAYS = 365
_GROUPS = re.compile(r"(?<=\d)[ \u00a0\u202f\u2009](?=\d)")


@dataclass(frozen=True)
class ZoneInput:
    zone: int
    value: str


@dataclass(frozen=True)
class ReadingInput:
    meter_id: int | None  # None: an id that is no meter's
    values: tuple[ZoneInput, ...]
    taken_on: dt.date
    confirm_unusual: bool = False

    def fingerprint(self) -> str:
        canonical = json.dumps(
            [
                self.meter_id,
                sorted((v.zone, v.value.strip()) for v in self.values),
                self.taken_on.isoformat(),
                self.confirm_unusual,
            ]
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Estimate:
    """What a reading would be: its values, the consumption since the last accepted reading
    (None for a meter's first reading), the charge at the latest receipt's rates."""

    meter: dict[str, Any]
    values: dict[int, Decimal]
    consumption: dict[int, Decimal] | None
    estimated_charge: Decimal | None
    unusual: bool  # confirmed by the customer: stored for review
    window_start: dt.date
    replaces: int | None  # this window's earlier submission, replaced by this one
    same_day: int | None  # a customer row on the same date this one overwrites


@dataclass(frozen=True)
class Submitted:
    reading: dict[str, Any]  # a meter_reading row with its meter's `zones`
    consumption: dict[int, Decimal] | None
    estimated_charge: Decimal | None


# ---------------------------------------------------------------- the calendar


def company_today(settings: Settings) -> dt.date:
    return now().astimezone(ZoneInfo(settings.timezone)).date()


def _window_in(month: dt.date, settings: Settings) -> tuple[dt.date, dt.date]:
    last_day = (add_months(month.replace(day=1), 1) - dt.timedelta(days=1)).day
    start = min(settings.reading_window_start_day, last_day)
    end = min(settings.reading_window_end_day, last_day)
    return month.replace(day=start), month.replace(day=end)


def window_of(today: dt.date, settings: Settings) -> tuple[dt.date, dt.date] | None:
    """The submission window `today` is in, or None when it is closed."""
    start, end = _window_in(today, settings)
    return (start, end) if start <= today <= end else None


def next_window(today: dt.date, settings: Settings) -> tuple[dt.date, dt.date]:
    start, end = _window_in(today, settings)
    if today < start:
        return start, end
    return _window_in(add_months(today.replace(day=1), 1), settings)


# ---------------------------------------------------------------- input checks


def _parse_value(text: str) -> Decimal | None:
    raw = _GROUPS.sub("", (text or "").strip()).replace(",", ".")
    if not re.fullmatch(r"[+-]?\d+(?:\.\d*)?|[+-]?\.\d+", raw):
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def read_values(meter: dict[str, Any], given: Sequence[ZoneInput]) -> dict[int, Decimal]:
    """One value per zone of the meter, each a register value that fits the meter."""
    zones, digits = meter["zones"], meter["digits"]
    capacity = Decimal(10) ** digits
    errors: list[RuleError] = []
    values: dict[int, Decimal] = {}
    for index, item in enumerate(given):
        where = ("values", str(index))
        if not 1 <= item.zone <= zones:
            errors.append(
                RuleError(ReadingError.UNKNOWN_ZONE, (*where, "zone"), zone=item.zone, zones=zones)
            )
            continue
        label = ZoneLabel(zones, item.zone)
        field = (*where, "value")
        if item.zone in values:
            errors.append(RuleError(ReadingError.BAD_VALUE, field, reason="repeated", zone=label))
            continue
        value = _parse_value(item.value)
        if value is None:
            errors.append(
                RuleError(ReadingError.BAD_VALUE, field, reason="not_a_number", zone=label)
            )
        elif value < 0:
            errors.append(RuleError(ReadingError.BAD_VALUE, field, reason="negative", zone=label))
        elif value.as_tuple().exponent < -3:  # type: ignore[operator]
            errors.append(RuleError(ReadingError.BAD_VALUE, field, reason="decimals", zone=label))
        elif value >= capacity:
            errors.append(
                RuleError(
                    ReadingError.BAD_VALUE, field, reason="too_large", zone=label, digits=digits
                )
            )
        else:
            values[item.zone] = value.quantize(KWH)
    given_zones = {item.zone for item in given}
    for zone in range(1, zones + 1):
        if zone not in given_zones:
            errors.append(
                RuleError(ReadingError.MISSING_ZONE, ("values",), zone=ZoneLabel(zones, zone))
            )
    raise_all(errors)
    return values


def _check_calendar(taken_on: dt.date, today: dt.date, settings: Settings) -> list[RuleError]:
    errors = []
    if taken_on > today:
        errors.append(RuleError(ReadingError.DATE_IN_FUTURE, "takenOn", today=today))
    if window_of(today, settings) is None:
        start, end = next_window(today, settings)
        errors.append(RuleError(ReadingError.OUTSIDE_WINDOW, None, start=start, end=end))
    return errors


# ---------------------------------------------------------------- the meter and its history


METER_COLUMNS = "m.id, m.account_id, m.serial, m.zones, m.digits"


async def meter_of_cabinet(cabinet_id: int, meter_id: int | None) -> dict[str, Any]:
    """The meter if it belongs to one of the cabinet's accounts; NOT_FOUND otherwise."""
    row = None
    if meter_id is not None:
        row = await sql.fetch_one(
            sql.connection(),
            f"SELECT {METER_COLUMNS} FROM meter m JOIN cabinet_account ca "  # noqa: S608
            "ON ca.account_id = m.account_id WHERE m.id = ? AND ca.cabinet_id = ?",
            [meter_id, cabinet_id],
        )
    if row is None:
        raise RuleError(CoreError.NOT_FOUND, "meterId")
    return row


def _values_of(row: dict[str, Any], zones: int) -> dict[int, Decimal]:
    return {z: sql.as_decimal(row[f"t{z}"]) for z in range(1, zones + 1)}  # type: ignore[misc]


@dataclass(frozen=True)
class History:
    accepted: list[dict[str, Any]]  # accepted readings, oldest first; the last is the baseline
    replaces: int | None
    same_day: dict[str, Any] | None
    rates: dict[int, Decimal] | None


# Where each source's submissions are kept: a new one replaces the window's earlier one.
_SUBMISSIONS = {
    ReadingSource.CUSTOMER: "reading_submission",
    ReadingSource.GUEST: "guest_reading_submission",
}


async def _history(
    meter: dict[str, Any],
    taken_on: dt.date,
    window_start: dt.date,
    today: dt.date,
    source: ReadingSource = ReadingSource.CUSTOMER,
) -> History:
    conn = sql.connection()
    active = await sql.fetch_one(
        conn,
        f"SELECT r.id FROM {_SUBMISSIONS[source]} s "  # noqa: S608 - a name of ours
        "JOIN meter_reading r ON r.id = s.reading_id "
        "WHERE s.meter_id = ? AND s.window_start = ? AND r.status IN ('accepted', 'review') "
        "ORDER BY s.id DESC LIMIT 1",
        [meter["id"], window_start],
    )
    replaces = active["id"] if active else None
    columns = "id, taken_on, t1, t2, t3, source, status"
    accepted = await sql.fetch(
        conn,
        f"SELECT {columns} FROM meter_reading WHERE meter_id = ? AND status = 'accepted' "  # noqa: S608
        "AND id <> ? AND taken_on >= ? ORDER BY taken_on, id",
        [meter["id"], replaces or -1, today - dt.timedelta(days=HISTORY_DAYS)],
    )
    if not accepted:  # nothing this year: the baseline may be older
        accepted = await sql.fetch(
            conn,
            f"SELECT {columns} FROM meter_reading WHERE meter_id = ? AND status = 'accepted' "  # noqa: S608
            "AND id <> ? ORDER BY taken_on DESC, id DESC LIMIT 1",
            [meter["id"], replaces or -1],
        )
    for row in accepted:
        row["taken_on"] = sql.as_date(row["taken_on"])
    same_day = await sql.fetch_one(
        conn,
        "SELECT id, status FROM meter_reading WHERE meter_id = ? AND taken_on = ? AND source = ?",
        [meter["id"], taken_on, source.value],
    )
    receipt = await sql.fetch_one(
        conn,
        "SELECT lines FROM receipt WHERE account_id = ? ORDER BY period DESC LIMIT 1",
        [meter["account_id"]],
    )
    return History(accepted, replaces, same_day, _rates(receipt["lines"]) if receipt else None)


def _rates(lines: Any) -> dict[int, Decimal] | None:
    if isinstance(lines, str | bytes):
        lines = json.loads(lines)
    rates = {
        int(line["zone"]): Decimal(str(line["rate"])) for line in lines or [] if line.get("rate")
    }
    return rates or None


def _used(previous: Decimal, value: Decimal, capacity: Decimal) -> Decimal:
    """kWh between two register values; a lower value means the register rolled over."""
    return value - previous if value >= previous else capacity - previous + value


def daily_averages(
    accepted: list[dict[str, Any]], zones: int, capacity: Decimal
) -> dict[int, Decimal | None]:
    """Average kWh per day of each zone over the readings given (oldest first)."""
    if len(accepted) < 2:
        return dict.fromkeys(range(1, zones + 1))
    days = (accepted[-1]["taken_on"] - accepted[0]["taken_on"]).days
    averages: dict[int, Decimal | None] = {}
    for zone in range(1, zones + 1):
        series = [sql.as_decimal(row[f"t{zone}"]) for row in accepted]
        total = sum(
            (_used(a, b, capacity) for a, b in itertools.pairwise(series)),  # type: ignore[arg-type]
            Decimal(0),
        )
        averages[zone] = total / days if days > 0 and total > 0 else None
    return averages


def _limit(average: Decimal | None, days: int, settings: Settings) -> Decimal:
    cap = settings.reading_max_daily_kwh * days
    if average is None:
        return cap
    return min(settings.reading_max_factor * average * days, cap)


def _judge(
    meter: dict[str, Any],
    values: dict[int, Decimal],
    request: ReadingInput,
    history: History,
    settings: Settings,
) -> tuple[dict[int, Decimal] | None, bool]:
    """(consumption per zone, unusual) or the refusals of the second pass."""
    zones = meter["zones"]
    same_day = history.same_day
    if same_day and same_day["status"] != "replaced" and same_day["id"] != history.replaces:
        # The customer's reading of that date from an earlier window stands.
        raise RuleError(
            ReadingError.DATE_BEFORE_PREVIOUS,
            "takenOn",
            reason="same_day",
            previous_on=request.taken_on,
        )
    if not history.accepted:
        return None, False
    baseline = history.accepted[-1]
    if request.taken_on < baseline["taken_on"]:
        raise RuleError(
            ReadingError.DATE_BEFORE_PREVIOUS, "takenOn", previous_on=baseline["taken_on"]
        )
    capacity = Decimal(10) ** meter["digits"]
    averages = daily_averages(history.accepted, zones, capacity)
    days = max((request.taken_on - baseline["taken_on"]).days, 1)
    previous = _values_of(baseline, zones)
    index = {item.zone: str(i) for i, item in enumerate(request.values)}
    errors: list[RuleError] = []
    consumption: dict[int, Decimal] = {}
    unusual = False
    for zone in range(1, zones + 1):
        label, field = ZoneLabel(zones, zone), ("values", index[zone], "value")
        limit = _limit(averages[zone], days, settings)
        used = _used(previous[zone], values[zone], capacity)
        if values[zone] < previous[zone] and used > limit:  # lower, and no rollover either
            errors.append(
                RuleError(
                    ReadingError.LOWER_THAN_PREVIOUS,
                    field,
                    zone=label,
                    previous=previous[zone],
                    previous_on=baseline["taken_on"],
                )
            )
            continue
        consumption[zone] = used
        if used > limit:
            if not request.confirm_unusual:
                errors.append(
                    RuleError(
                        ReadingError.IMPLAUSIBLE_VALUE,
                        field,
                        zone=label,
                        consumption=used,
                        days=days,
                        limit=limit.quantize(KWH),
                    )
                )
            unusual = True
    raise_all(errors)
    return consumption, unusual


def _charge(consumption: dict[int, Decimal] | None, rates: dict[int, Decimal] | None):
    if consumption is None or rates is None or any(z not in rates for z in consumption):
        return None
    total = sum((kwh * rates[z] for z, kwh in consumption.items()), Decimal(0))
    return total.quantize(KOPECK, ROUND_HALF_UP)


# ---------------------------------------------------------------- preview and submit


def _first_pass(meter: dict[str, Any], request: ReadingInput, settings: Settings):
    today = company_today(settings)
    errors = _check_calendar(request.taken_on, today, settings)
    values: dict[int, Decimal] = {}
    try:
        values = read_values(meter, request.values)
    except RuleError as error:
        errors.insert(0, error)
    except RuleErrors as found:
        errors[:0] = found.errors
    raise_all(errors)
    window = window_of(today, settings)
    assert window is not None
    return values, today, window[0]


async def _estimate(
    meter: dict[str, Any],
    values: dict[int, Decimal],
    request: ReadingInput,
    today: dt.date,
    window_start: dt.date,
    settings: Settings,
    source: ReadingSource = ReadingSource.CUSTOMER,
) -> Estimate:
    history = await _history(meter, request.taken_on, window_start, today, source)
    consumption, unusual = _judge(meter, values, request, history, settings)
    same_day = history.same_day["id"] if history.same_day else None
    return Estimate(
        meter=meter,
        values=values,
        consumption=consumption,
        estimated_charge=_charge(consumption, history.rates),
        unusual=unusual,
        window_start=window_start,
        replaces=history.replaces,
        same_day=same_day,
    )


async def preview(cabinet_id: int, request: ReadingInput) -> Estimate:
    """Every check of `submit` and the estimate; nothing is stored."""
    settings = get_settings()
    meter = await meter_of_cabinet(cabinet_id, request.meter_id)
    values, today, window_start = _first_pass(meter, request, settings)
    return await _estimate(meter, values, request, today, window_start, settings)


async def submit(cabinet_id: int, request: ReadingInput, idempotency_key: str) -> Submitted:
    """Check and store a reading; the same key returns the first result, stores nothing."""
    key = check_key(idempotency_key)
    fingerprint = request.fingerprint()
    # Ownership before the replay: a key replays only while the meter's account is still in
    # the cabinet. Once it is unlinked (and perhaps linked by someone else), the retry gets
    # NOT_FOUND like any meter of another's, never the meter's current state.
    meter = await meter_of_cabinet(cabinet_id, request.meter_id)
    earlier = await ReadingSubmission.get_or_none(cabinet_id=cabinet_id, idempotency_key=key)
    if earlier is not None:
        return await _replay(earlier, fingerprint, meter)
    settings = get_settings()
    values, today, window_start = _first_pass(meter, request, settings)
    try:
        return await _store(
            cabinet_id, key, fingerprint, meter, values, request, (today, window_start), settings
        )
    except IntegrityError:
        earlier = await ReadingSubmission.get_or_none(cabinet_id=cabinet_id, idempotency_key=key)
        if earlier is None:
            raise
        return await _replay(earlier, fingerprint, meter)


async def _store(
    cabinet_id: int,
    key: str,
    fingerprint: str,
    meter: dict[str, Any],
    values: dict[int, Decimal],
    request: ReadingInput,
    when: tuple[dt.date, dt.date],  # (today, start of its window)
    settings: Settings,
) -> Submitted:
    moment, (today, window_start) = now(), when
    async with in_transaction():
        claim = await ReadingSubmission.create(
            cabinet_id=cabinet_id,
            idempotency_key=key,
            fingerprint=fingerprint,
            meter_id=meter["id"],
            window_start=window_start,
            created_at=moment,
        )
        # One submission per meter at a time: the window's replacement is decided once.
        # FOR NO KEY UPDATE: the claims above hold the meter row FOR KEY SHARE (their
        # foreign key), which FOR UPDATE would wait for - two submissions, each waiting
        # for the other's claim, deadlock. This lock waits only for another submission.
        await Meter.filter(id=meter["id"]).select_for_update(no_key=True).only("id").get()
        estimate = await _estimate(meter, values, request, today, window_start, settings)
        reading = await _write_reading(estimate, request.taken_on, moment)
        claim.reading_id = reading["id"]  # type: ignore[attr-defined]
        claim.consumption = _to_json(estimate.consumption)
        claim.estimated_charge = estimate.estimated_charge
        await claim.save(update_fields=["reading_id", "consumption", "estimated_charge"])
        await live.publish("account", meter["account_id"])
    return Submitted(reading, estimate.consumption, estimate.estimated_charge)


async def _write_reading(
    estimate: Estimate,
    taken_on: dt.date,
    moment: dt.datetime,
    source: ReadingSource = ReadingSource.CUSTOMER,
):
    status = ReadingStatus.REVIEW if estimate.unusual else ReadingStatus.ACCEPTED
    zones = estimate.meter["zones"]
    t = [estimate.values.get(z) for z in (1, 2, 3)]
    if estimate.replaces is not None and estimate.replaces != estimate.same_day:
        await MeterReading.filter(id=estimate.replaces).update(status=ReadingStatus.REPLACED)
    if estimate.same_day is not None:  # this window's own, or one replaced before: reuse it
        await MeterReading.filter(id=estimate.same_day).update(
            t1=t[0], t2=t[1], t3=t[2], status=status
        )
        reading_id = estimate.same_day
    else:
        created = await MeterReading.create(
            meter_id=estimate.meter["id"],
            taken_on=taken_on,
            t1=t[0],
            t2=t[1],
            t3=t[2],
            source=source,
            status=status,
            created_at=moment,
        )
        reading_id = created.id
    return {
        "id": reading_id,
        "meter_id": estimate.meter["id"],
        "zones": zones,
        "taken_on": taken_on,
        "t1": t[0],
        "t2": t[1],
        "t3": t[2],
        "source": source.value,
        "status": status.value,
    }


def _to_json(consumption: dict[int, Decimal] | None) -> dict[str, str] | None:
    if consumption is None:
        return None
    return {str(zone): str(kwh.quantize(KWH)) for zone, kwh in consumption.items()}


async def _replay(earlier: ReadingSubmission, fingerprint: str, meter: dict[str, Any]) -> Submitted:
    """The first result of a key, for the meter the caller holds (checked before)."""
    if earlier.fingerprint != fingerprint or earlier.meter_id != meter["id"]:  # type: ignore[attr-defined]
        raise RuleError(CoreError.IDEMPOTENCY_KEY_REUSED, "idempotencyKey")
    row = await sql.fetch_one(
        sql.connection(),
        "SELECT r.id, r.meter_id, m.zones, r.taken_on, r.t1, r.t2, r.t3, r.source, r.status "
        "FROM meter_reading r JOIN meter m ON m.id = r.meter_id WHERE r.id = ?",
        [earlier.reading_id],  # type: ignore[attr-defined]
    )
    assert row is not None, "a stored submission keeps its reading"
    row["taken_on"] = sql.as_date(row["taken_on"])
    for column in ("t1", "t2", "t3"):
        row[column] = sql.as_decimal(row[column])
    consumption = (
        {int(z): Decimal(v) for z, v in earlier.consumption.items()}
        if earlier.consumption is not None
        else None
    )
    return Submitted(row, consumption, earlier.estimated_charge)


# ---------------------------------------------------------------- export for billing

EXPORT_COLUMNS = ("serial", "taken_on", "t1", "t2", "t3", "source", "status")
EXPORT_BATCH = 5_000


async def export_customer_readings(since: dt.date, out: TextIO) -> int:
    """Write the customers' readings (in the cabinet and as guests) taken on or after
    `since` as a `readings` import file (every status: billing learns of replacements and
    of readings to review too)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    conn, last_id, written = sql.connection(), 0, 0
    while True:
        rows = await sql.fetch(
            conn,
            "SELECT r.id, m.serial, r.taken_on, r.t1, r.t2, r.t3, r.source, r.status "
            "FROM meter_reading r JOIN meter m ON m.id = r.meter_id "
            "WHERE r.source IN (?, ?) AND r.taken_on >= ? AND r.id > ? ORDER BY r.id LIMIT ?",
            [
                ReadingSource.CUSTOMER.value,
                ReadingSource.GUEST.value,
                since,
                last_id,
                EXPORT_BATCH,
            ],
        )
        for row in rows:
            cells = [sql.as_decimal(row[c]) for c in ("t1", "t2", "t3")]
            writer.writerow(
                [
                    row["serial"],
                    sql.as_date(row["taken_on"]).isoformat(),  # type: ignore[union-attr]
                    *("" if v is None else str(v.quantize(KWH)) for v in cells),
                    row["source"],
                    row["status"],
                ]
            )
        written += len(rows)
        if len(rows) < EXPORT_BATCH:
            return written
        last_id = rows[-1]["id"]
