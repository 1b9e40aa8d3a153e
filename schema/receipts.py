"""What hangs off a receipt and an account besides the lists: the electronic receipt
and the consumption series the apps draw their charts from."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import strawberry

from schema.relay import Node, encode_id
from schema.scalars import Money, Period
from services.ereceipts.rules import EReceiptState
from services.readings.zones import zone_name
from services.receipts.consumption import MonthConsumption


@strawberry.type(description="The electronic receipt of an account: its bills by e-mail.")
class EReceipt(Node):
    id: strawberry.ID = strawberry.field(
        description="Opaque id, one per account (not the account's id); pass it back as is."
    )
    enabled: bool = strawberry.field(
        description="Each new bill of the account is e-mailed as a PDF."
    )
    email: str | None = strawberry.field(
        description="Where the bills go while enabled: the cabinet's address, or another "
        "confirmed one."
    )
    since: dt.datetime | None = strawberry.field(description="When it was switched on.")
    pending_email: str | None = strawberry.field(
        description="An address asked for with subscribeEReceipt whose confirmation link "
        "has not been followed yet; bills go there once it is."
    )

    @classmethod
    def from_state(cls, state: EReceiptState, account_pk: int) -> EReceipt:
        return cls(
            id=encode_id("EReceipt", account_pk),
            enabled=state.enabled,
            email=state.email,
            since=state.since,
            pending_email=state.pending_email,
        )


@strawberry.enum(description="Where a month's consumption comes from.")
class ConsumptionSource(enum.Enum):
    RECEIPT = strawberry.enum_value(
        "receipt",
        description="The month's bill; a zone it leaves empty comes from the meter readings.",
    )
    READINGS = strawberry.enum_value(
        "readings", description="Meter readings only, without a bill: kWh but no money."
    )
    NONE = strawberry.enum_value("none", description="Nothing is known of the month.")


@strawberry.type(description="One tariff zone's consumption in a month.")
class ZoneConsumption:
    zone: int = strawberry.field(description="Zone number, 1 to 3.")
    name: str = strawberry.field(description="Zone name in the request's language.")
    kwh: Decimal | None = strawberry.field(description="kWh consumed; null when unknown.")
    amount: Money | None = strawberry.field(
        description="Charged for the zone; null without a receipt."
    )
    kwh_year_ago: Decimal | None = strawberry.field(
        description="kWh of the zone in the same month a year earlier."
    )
    amount_year_ago: Money | None = strawberry.field(
        description="Charged for the zone in the same month a year earlier."
    )


@strawberry.type(description="An account's consumption in one month, beside a year earlier.")
class ConsumptionMonth:
    month: Period = strawberry.field(description="The month.")
    source: ConsumptionSource = strawberry.field(
        description="RECEIPT: the month's bill (a zone it leaves empty comes from the "
        "readings); READINGS: meter readings only, no money; NONE: nothing known."
    )
    kwh: Decimal | None = strawberry.field(description="kWh of all zones; null when unknown.")
    amount: Money | None = strawberry.field(
        description="Charged for the month (the receipt's total); null without a receipt."
    )
    kwh_year_ago: Decimal | None = strawberry.field(
        description="kWh of the same month a year earlier."
    )
    amount_year_ago: Money | None = strawberry.field(
        description="Charged for the same month a year earlier."
    )
    zones: list[ZoneConsumption] = strawberry.field(
        description="Per tariff zone: those of this month and of a year earlier."
    )

    @classmethod
    def from_month(cls, month: MonthConsumption, language: str) -> ConsumptionMonth:
        return cls(
            month=Period(month.month),
            source=ConsumptionSource(month.source),
            kwh=month.kwh,
            amount=Money(month.amount) if month.amount is not None else None,
            kwh_year_ago=month.kwh_year_ago,
            amount_year_ago=Money(month.amount_year_ago)
            if month.amount_year_ago is not None
            else None,
            zones=[
                ZoneConsumption(
                    zone=z.zone,
                    name=zone_name(month.zone_count, z.zone, language),
                    kwh=z.kwh,
                    amount=z.amount,  # type: ignore[arg-type]
                    kwh_year_ago=z.kwh_year_ago,
                    amount_year_ago=z.amount_year_ago,  # type: ignore[arg-type]
                )
                for z in month.zones
            ],
        )
