"""Resolvers of previewMeterReading and submitMeterReading: thin calls into
services.readings.rules."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from resolvers.errors import attempt
from schema import readings as s
from schema.accounts import MeterReading
from schema.context import Context
from schema.errors import MutationInput
from schema.relay import decode_id
from schema.scalars import Money
from services.readings import rules as readings
from services.readings.zones import zone_name

Info = strawberry.Info[Context]


def _request(input: s.PreviewMeterReadingInput | s.SubmitMeterReadingInput):
    return readings.ReadingInput(
        meter_id=decode_id("Meter", input.meter_id),
        values=tuple(readings.ZoneInput(v.zone, v.value) for v in input.values),
        taken_on=input.taken_on,
        confirm_unusual=input.confirm_unusual,
    )


def _consumption(
    used: dict[int, Decimal] | None, zones: int, language: str
) -> list[s.ZoneUsage] | None:
    if used is None:
        return None
    return [
        s.ZoneUsage(zone=z, name=zone_name(zones, z, language), kwh=kwh)
        for z, kwh in sorted(used.items())
    ]


def _money(value: Decimal | None) -> Money | None:
    return Money(value) if value is not None else None


async def preview_meter_reading(
    info: Info, input: MutationInput[s.PreviewMeterReadingInput]
) -> s.PreviewMeterReadingPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    estimate, errors = await attempt(
        readings.preview(cabinet.id, _request(input)), s.PreviewMeterReadingError, ctx.language
    )
    if estimate is None:
        return s.PreviewMeterReadingPayload(user_errors=errors)
    return s.PreviewMeterReadingPayload(
        consumption=_consumption(estimate.consumption, estimate.meter["zones"], ctx.language),
        estimated_charge=_money(estimate.estimated_charge),
        needs_review=estimate.unusual,
    )


async def submit_meter_reading(
    info: Info, input: MutationInput[s.SubmitMeterReadingInput]
) -> s.SubmitMeterReadingPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    done, errors = await attempt(
        readings.submit(cabinet.id, _request(input), input.idempotency_key),
        s.SubmitMeterReadingError,
        ctx.language,
    )
    if done is None:
        return s.SubmitMeterReadingPayload(user_errors=errors)
    zones = done.reading["zones"]
    return s.SubmitMeterReadingPayload(
        reading=MeterReading.from_row(done.reading, ctx.language),
        consumption=_consumption(done.consumption, zones, ctx.language),
        estimated_charge=_money(done.estimated_charge),
    )
