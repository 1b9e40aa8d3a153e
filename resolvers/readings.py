"""Resolvers of previewMeterReading and submitMeterReading: thin calls into
services.readings.rules. They hand back the rule's Estimate or Submitted and let its
RuleErrors through."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import strawberry

from resolvers.context import Context
from services.core.ids import decode_id
from services.guest import readings as guest_readings
from services.readings import rules as readings

Info = strawberry.Info[Context]


def _request(input: Any) -> readings.ReadingInput:
    """`input`: a PreviewMeterReadingInput or SubmitMeterReadingInput."""
    return readings.ReadingInput(
        meter_id=decode_id("Meter", input.meter_id),
        values=tuple(readings.ZoneInput(v.zone, v.value) for v in input.values),
        taken_on=input.taken_on,
        confirm_unusual=input.confirm_unusual,
    )


def last_reading(
    info: Info, meter_pk: int, account_pk: int
) -> dict[str, Any] | Awaitable[dict[str, Any] | None] | None:
    """A meter's latest accepted reading (or one under review), batched per request;
    None also when the meter's account is not one the viewer may see. At once when the
    request has loaded both already (the dashboard's look-ahead), else an awaitable."""
    context = info.context
    seen = context.may_see_account_now(account_pk)
    if seen is None:
        return _last_reading(info, meter_pk, account_pk)
    if not seen:
        return None
    return context.loaders.last_reading_of_meter.load(meter_pk)


async def _last_reading(info: Info, meter_pk: int, account_pk: int) -> dict[str, Any] | None:
    if not await info.context.may_see_account(account_pk):
        return None
    return await info.context.loaders.last_reading_of_meter.load(meter_pk)


async def preview_meter_reading(info: Info, input: Any) -> readings.Estimate:
    cabinet = await info.context.require_viewer()
    return await readings.preview(cabinet.id, _request(input))


async def submit_meter_reading(info: Info, input: Any) -> readings.Submitted:
    cabinet = await info.context.require_viewer()
    return await readings.submit(cabinet.id, _request(input), input.idempotency_key)


async def submit_guest_meter_reading(info: Info, input: Any) -> guest_readings.GuestSubmitted:
    """No login: the account number and the meter's serial stand for the cabinet."""
    return await guest_readings.submit_guest(
        input.account_number,
        input.meter_serial,
        tuple(readings.ZoneInput(v.zone, v.value) for v in input.values),
        input.taken_on,
        input.idempotency_key,
        info.context.client,
    )
