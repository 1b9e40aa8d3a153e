"""Meter readings sent without logging in (`submitGuestMeterReading`): the account number
and the meter's serial, both printed on the bill, instead of a cabinet.

The checks are those of a cabinet's submission (services.readings.rules: zones, values,
date, window, not below the last accepted reading, plausible consumption), run by the
same functions. What differs is what the answers say: anyone may know the two numbers,
so a refusal never names a previous value, its date or a consumption (the `guest`
sentences), an unusual value cannot be confirmed for review (only in the cabinet), and
a success answers only what was sent. The reading is stored with source GUEST, which the
account's cabinet sees; a guest submission replaces the window's earlier guest one, as a
cabinet's does its own. Every call counts against the guest limits first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from config import get_settings
from models import sql
from models.metering import GuestReadingSubmission, Meter, ReadingSource
from services.accounts.proof import normalize_account_number
from services.core.clock import now
from services.core.errors import CoreError, RuleError, RuleErrors, raise_all
from services.core.idempotency import check_key
from services.guest.limits import count_attempt
from services.readings.errors import ReadingError
from services.readings.rules import (
    METER_COLUMNS,
    ReadingInput,
    ZoneInput,
    _estimate,
    _first_pass,
    _write_reading,
)
from services.security.sessions import Client

MAX_SERIAL = 32


@dataclass(frozen=True)
class GuestSubmitted:
    """What the answer shows: what was sent and whether it is accepted, nothing else."""

    meter_serial: str
    taken_on: dt.date
    status: str  # a ReadingStatus value
    values: dict[int, Decimal]


def _read_form(account_number: str, meter_serial: str, key: str) -> tuple[str, str, str]:
    errors: list[RuleError] = []
    number = serial = ""
    try:
        number = normalize_account_number(account_number)
    except RuleError as error:
        errors.append(error)
    serial = (meter_serial or "").strip()
    if not serial or len(serial) > MAX_SERIAL:
        errors.append(RuleError(CoreError.NOT_FOUND, "meterSerial"))
    try:
        check_key(key)
    except RuleError as error:
        errors.append(error)
    raise_all(errors)
    return number, serial, key


async def _meter(number: str, serial: str) -> dict[str, Any]:
    """The meter with that serial on that account; NOT_FOUND alike for an unknown
    account, an unknown serial and a meter of another account."""
    row = await sql.fetch_one(
        sql.connection(),
        f"SELECT {METER_COLUMNS} FROM meter m JOIN account a ON a.id = m.account_id "  # noqa: S608
        "WHERE a.number = ? AND m.serial = ?",
        [number, serial],
    )
    if row is None:
        raise RuleError(CoreError.NOT_FOUND, "meterSerial")
    return row


def _without_history(error: RuleError) -> RuleError:
    """The refusal in its `guest` sentence, which names no earlier value, date or
    consumption; refusals that tell nothing of the history as they are."""
    zone, field = error.params.get("zone"), error.field
    if error.code == ReadingError.LOWER_THAN_PREVIOUS:
        return RuleError(ReadingError.LOWER_THAN_PREVIOUS, field, reason="guest", zone=zone)
    if error.code == ReadingError.IMPLAUSIBLE_VALUE:
        return RuleError(ReadingError.IMPLAUSIBLE_VALUE, field, reason="guest", zone=zone)
    if error.code == ReadingError.DATE_BEFORE_PREVIOUS:
        return RuleError(ReadingError.DATE_BEFORE_PREVIOUS, field, reason="guest")
    return error


async def submit_guest(
    account_number: str,
    meter_serial: str,
    values: Sequence[ZoneInput],
    taken_on: dt.date,
    key: str,
    client: Client,
) -> GuestSubmitted:
    """Check and store a guest reading; the same key returns the first result."""
    number, serial, key = _read_form(account_number, meter_serial, key)
    await count_attempt(number, client)
    meter = await _meter(number, serial)
    request = ReadingInput(meter_id=meter["id"], values=tuple(values), taken_on=taken_on)
    fingerprint = request.fingerprint()
    earlier = await GuestReadingSubmission.get_or_none(idempotency_key=key)
    if earlier is not None:
        return await _replay(earlier, fingerprint, meter)
    settings = get_settings()
    given, today, window_start = _first_pass(meter, request, settings)
    moment = now()
    try:
        async with in_transaction():
            claim = await GuestReadingSubmission.create(
                idempotency_key=key,
                fingerprint=fingerprint,
                meter_id=meter["id"],
                window_start=window_start,
                client_key=client.limit_key[:64],
                created_at=moment,
            )
            # As a cabinet's submission does (rules._store): one submission per meter at a time.
            await Meter.filter(id=meter["id"]).select_for_update(no_key=True).only("id").get()
            try:
                estimate = await _estimate(
                    meter, given, request, today, window_start, settings, ReadingSource.GUEST
                )
            except RuleError as error:
                raise _without_history(error) from None
            except RuleErrors as found:
                raise RuleErrors([_without_history(e) for e in found.errors]) from None
            reading = await _write_reading(estimate, taken_on, moment, ReadingSource.GUEST)
            await GuestReadingSubmission.filter(id=claim.id).update(reading_id=reading["id"])
    except IntegrityError:
        earlier = await GuestReadingSubmission.get_or_none(idempotency_key=key)
        if earlier is None:
            raise
        return await _replay(earlier, fingerprint, meter)
    return GuestSubmitted(serial, taken_on, reading["status"], given)


async def _replay(
    earlier: GuestReadingSubmission, fingerprint: str, meter: dict[str, Any]
) -> GuestSubmitted:
    if earlier.fingerprint != fingerprint or earlier.meter_id != meter["id"]:  # type: ignore[attr-defined]
        raise RuleError(CoreError.IDEMPOTENCY_KEY_REUSED, "idempotencyKey")
    row = await sql.fetch_one(
        sql.connection(),
        "SELECT taken_on, t1, t2, t3, status FROM meter_reading WHERE id = ?",
        [earlier.reading_id],  # type: ignore[attr-defined]
    )
    if row is None:  # the reading is gone (its meter replaced): the request is void
        raise RuleError(CoreError.IDEMPOTENCY_KEY_REUSED, "idempotencyKey")
    values = {
        zone: sql.as_decimal(row[f"t{zone}"])
        for zone in range(1, meter["zones"] + 1)
        if row[f"t{zone}"] is not None
    }
    return GuestSubmitted(
        meter["serial"],
        sql.as_date(row["taken_on"]),
        row["status"],
        values,  # type: ignore[arg-type]
    )
