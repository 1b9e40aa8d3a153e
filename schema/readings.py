"""Submitting meter readings: inputs, payloads and their error codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from resolvers import readings as reading_resolvers
from resolvers.context import Context
from schema.accounts import MeterReading, ReadingStatus, ZoneValue
from schema.errors import MutationInput, attempt, error_type
from schema.scalars import Money
from services.accounts.errors import AccountError
from services.core.errors import CoreError
from services.readings.errors import ReadingError
from services.readings.zones import zone_name

Info = strawberry.Info[Context]

READING_CODES = [
    CoreError.NOT_FOUND,
    ReadingError.MISSING_ZONE,
    ReadingError.UNKNOWN_ZONE,
    ReadingError.BAD_VALUE,
    ReadingError.LOWER_THAN_PREVIOUS,
    ReadingError.IMPLAUSIBLE_VALUE,
    ReadingError.OUTSIDE_WINDOW,
    ReadingError.DATE_IN_FUTURE,
    ReadingError.DATE_BEFORE_PREVIOUS,
]


@strawberry.input(description="The value of one zone's register, as read from the meter.")
class ZoneValueInput:
    zone: int = strawberry.field(description="Zone number, 1 to 3 (the register T1, T2, T3).")
    value: str = strawberry.field(
        description='Register value in kWh, at most 3 decimals: "12345.6" or "12345,6".'
    )


@strawberry.input(description="A meter reading to check without storing it.")
class PreviewMeterReadingInput:
    meter_id: strawberry.ID = strawberry.field(description="Id of one of the viewer's meters.")
    values: list[ZoneValueInput] = strawberry.field(description="One value per zone.")
    taken_on: dt.date = strawberry.field(description="The day the values were read.")
    confirm_unusual: bool = strawberry.field(
        default=False,
        description="The customer confirms a consumption far above the usual: stored with "
        "status REVIEW instead of refused as IMPLAUSIBLE_VALUE.",
    )


@strawberry.input(description="A meter reading to submit.")
class SubmitMeterReadingInput(PreviewMeterReadingInput):
    idempotency_key: str = strawberry.field(
        description="A key the app makes once per submission (e.g. a UUID) and sends again "
        "on every retry: the same key returns the first result and stores nothing more."
    )


@strawberry.type(description="Electricity consumed in one zone since the last accepted reading.")
class ZoneUsage:
    zone: int = strawberry.field(description="Zone number, 1 to 3.")
    name: str = strawberry.field(description="Zone name in the request's language.")
    kwh: Decimal = strawberry.field(
        description="kWh consumed; across a rollover of the register when it went past its "
        "capacity."
    )


CONSUMPTION = "kWh per zone since the last accepted reading; null for a meter's first reading."
ESTIMATED_CHARGE = (
    "The consumption priced at the rates of the account's latest receipt (its zone lines): "
    "an estimate, the bill may differ. Null when there is no receipt with rates or no "
    "consumption."
)

SubmitMeterReadingError = error_type(
    "SubmitMeterReading",
    [*READING_CODES, CoreError.INVALID_IDEMPOTENCY_KEY, CoreError.IDEMPOTENCY_KEY_REUSED],
)
PreviewMeterReadingError = error_type("PreviewMeterReading", READING_CODES)


@strawberry.type(description="The result of submitMeterReading.")
class SubmitMeterReadingPayload:
    reading: MeterReading | None = strawberry.field(
        default=None,
        description="The stored reading (source CUSTOMER; status ACCEPTED, or REVIEW when "
        "confirmed as unusual).",
    )
    consumption: list[ZoneUsage] | None = strawberry.field(default=None, description=CONSUMPTION)
    estimated_charge: Money | None = strawberry.field(default=None, description=ESTIMATED_CHARGE)
    user_errors: list[SubmitMeterReadingError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.type(description="The result of previewMeterReading: nothing is stored.")
class PreviewMeterReadingPayload:
    consumption: list[ZoneUsage] | None = strawberry.field(default=None, description=CONSUMPTION)
    estimated_charge: Money | None = strawberry.field(default=None, description=ESTIMATED_CHARGE)
    needs_review: bool = strawberry.field(
        default=False,
        description="Submitted as it is (with confirmUnusual), it would be stored for review.",
    )
    user_errors: list[PreviewMeterReadingError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="What submitMeterReading would refuse."
    )


# ---------------------------------------------------------------- the fields


def _consumption(
    used: dict[int, Decimal] | None, zones: int, language: str
) -> list[ZoneUsage] | None:
    if used is None:
        return None
    return [
        ZoneUsage(zone=z, name=zone_name(zones, z, language), kwh=kwh)
        for z, kwh in sorted(used.items())
    ]


def _money(value: Decimal | None) -> Money | None:
    return Money(value) if value is not None else None


async def preview_meter_reading(
    info: Info, input: MutationInput[PreviewMeterReadingInput]
) -> PreviewMeterReadingPayload:
    language = info.context.language
    estimate, errors = await attempt(
        reading_resolvers.preview_meter_reading(info, input), PreviewMeterReadingError, language
    )
    if estimate is None:
        return PreviewMeterReadingPayload(user_errors=errors)
    return PreviewMeterReadingPayload(
        consumption=_consumption(estimate.consumption, estimate.meter["zones"], language),
        estimated_charge=_money(estimate.estimated_charge),
        needs_review=estimate.unusual,
    )


async def submit_meter_reading(
    info: Info, input: MutationInput[SubmitMeterReadingInput]
) -> SubmitMeterReadingPayload:
    language = info.context.language
    done, errors = await attempt(
        reading_resolvers.submit_meter_reading(info, input), SubmitMeterReadingError, language
    )
    if done is None:
        return SubmitMeterReadingPayload(user_errors=errors)
    zones = done.reading["zones"]
    return SubmitMeterReadingPayload(
        reading=MeterReading.from_row(done.reading, language),
        consumption=_consumption(done.consumption, zones, language),
        estimated_charge=_money(done.estimated_charge),
    )


# ---------------------------------------------------------------- without logging in


@strawberry.input(
    description="A meter reading sent without logging in: the account number and the "
    "meter's serial, both printed on the bill, stand for the cabinet."
)
class SubmitGuestMeterReadingInput:
    account_number: str = strawberry.field(description="Account number as on the bill.")
    meter_serial: str = strawberry.field(description="The meter's serial number as on the bill.")
    values: list[ZoneValueInput] = strawberry.field(description="One value per zone.")
    taken_on: dt.date = strawberry.field(description="The day the values were read.")
    idempotency_key: str = strawberry.field(
        description="A key the page makes once per submission (e.g. a UUID) and sends again "
        "on every retry: the same key returns the first result and stores nothing more."
    )


SubmitGuestMeterReadingError = error_type(
    "SubmitGuestMeterReading",
    [
        AccountError.INVALID_ACCOUNT_NUMBER,
        *READING_CODES,
        CoreError.INVALID_IDEMPOTENCY_KEY,
        CoreError.IDEMPOTENCY_KEY_REUSED,
        CoreError.TOO_MANY_ATTEMPTS,
    ],
    retryable=True,
)


@strawberry.type(
    description="A reading sent without logging in, as stored (source GUEST): only what was "
    "sent and whether it is accepted; nothing of the meter's history."
)
class GuestMeterReading:
    meter_serial: str = strawberry.field(description="The meter's serial number.")
    taken_on: dt.date = strawberry.field(description="The day the values were read.")
    status: ReadingStatus = strawberry.field(description="ACCEPTED once stored.")
    values: list[ZoneValue] = strawberry.field(description="The values sent, one per zone.")


@strawberry.type(description="The result of submitGuestMeterReading.")
class SubmitGuestMeterReadingPayload:
    reading: GuestMeterReading | None = strawberry.field(
        default=None, description="The stored reading."
    )
    user_errors: list[SubmitGuestMeterReadingError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list,
        description="Why it was refused; the sentences never name earlier values or dates.",
    )


async def submit_guest_meter_reading(
    info: Info, input: MutationInput[SubmitGuestMeterReadingInput]
) -> SubmitGuestMeterReadingPayload:
    language = info.context.language
    done, errors = await attempt(
        reading_resolvers.submit_guest_meter_reading(info, input),
        SubmitGuestMeterReadingError,
        language,
    )
    if done is None:
        return SubmitGuestMeterReadingPayload(user_errors=errors)
    zones = len(done.values)
    return SubmitGuestMeterReadingPayload(
        reading=GuestMeterReading(
            meter_serial=done.meter_serial,
            taken_on=done.taken_on,
            status=ReadingStatus(done.status),
            values=[
                ZoneValue(zone=zone, name=zone_name(zones, zone, language), value=value)
                for zone, value in sorted(done.values.items())
            ],
        )
    )
