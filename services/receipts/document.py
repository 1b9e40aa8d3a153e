"""Everything a printed bill shows, gathered from the database in three queries.

`load_receipt_document` returns a frozen `ReceiptDocument` of plain values (no ORM
objects), so rendering it (`services.receipts.pdf`) is a pure function of its argument.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from config import Settings, get_settings
from models.billing import Payment, Receipt
from models.metering import Meter
from services.core.timeutil import add_months
from services.readings.zones import zone_count, zone_name

_MAX_ID = 2**63 - 1  # ids are BIGINT; a larger number names no receipt


@dataclass(frozen=True)
class CompanyRequisites:
    """The payee as the bill prints it and its QR code encodes it."""

    name: str
    inn: str
    kpp: str
    address: str
    phone: str
    site: str
    bank_name: str
    bic: str
    correspondent_account: str
    settlement_account: str

    @classmethod
    def from_settings(cls, settings: Settings) -> CompanyRequisites:
        return cls(
            name=settings.company_name,
            inn=settings.company_inn,
            kpp=settings.company_kpp,
            address=settings.company_address,
            phone=settings.company_phone,
            site=settings.company_site,
            bank_name=settings.company_bank_name,
            bic=settings.company_bic,
            correspondent_account=settings.company_correspondent_account,
            settlement_account=settings.company_settlement_account,
        )


@dataclass(frozen=True)
class MeterInfo:
    serial: str
    model: str
    zones: int
    next_verification_on: dt.date | None


@dataclass(frozen=True)
class ZoneCharge:
    """One line of the bill: a tariff zone's readings, consumption, rate and charge.
    A value the billing export left empty is None."""

    zone: int
    name: str
    previous: Decimal | None
    current: Decimal | None
    consumption: Decimal | None
    rate: Decimal | None
    amount: Decimal | None


@dataclass(frozen=True)
class PaymentLine:
    paid_on: dt.date  # in the company's time zone
    amount: Decimal
    channel: str


@dataclass(frozen=True)
class ReceiptDocument:
    """A bill ready to print. Balances are positive when the customer owes."""

    receipt_id: int
    company: CompanyRequisites
    account_number: str
    holder_name: str
    address: str
    tariff: str
    period: dt.date  # first day of the billed month
    issued_on: dt.date
    due_on: dt.date
    meters: tuple[MeterInfo, ...]
    zones: tuple[ZoneCharge, ...]
    opening_balance: Decimal
    charged: Decimal
    paid: Decimal  # as the billing system counted it for the period
    amount_due: Decimal
    payments: tuple[PaymentLine, ...]  # payments received during the billed month

    @property
    def total_consumption(self) -> Decimal | None:
        known = [z.consumption for z in self.zones if z.consumption is not None]
        return sum(known, Decimal(0)) if known else None

    @property
    def to_pay(self) -> Decimal:
        """What the customer is asked to pay: the amount due, or nothing when in credit."""
        return max(self.amount_due, Decimal("0.00"))


def zone_charges(lines: list[dict[str, Any]]) -> tuple[ZoneCharge, ...]:
    """The receipt's JSON lines as ZoneCharges, named by the tariff's number of zones."""
    ordered = sorted(lines, key=lambda line: int(line["zone"]))
    zones = zone_count(int(line["zone"]) for line in ordered)

    def value(line: dict[str, Any], key: str) -> Decimal | None:
        raw = line.get(key)
        return None if raw in (None, "") else Decimal(raw)

    return tuple(
        ZoneCharge(
            zone=int(line["zone"]),
            name=zone_name(zones, int(line["zone"])),
            previous=value(line, "previous"),
            current=value(line, "current"),
            consumption=value(line, "consumption"),
            rate=value(line, "rate"),
            amount=value(line, "amount"),
        )
        for line in ordered
    )


async def load_receipt_document(
    receipt_id: int, settings: Settings | None = None
) -> ReceiptDocument | None:
    """The bill of receipt `receipt_id`, or None when there is no such receipt.

    Three queries: the receipt with its account, the account's meters in service by
    the end of the period, and the payments received during the period (a month in
    the company's time zone).
    """
    if not 0 < receipt_id <= _MAX_ID:
        return None
    settings = settings or get_settings()
    receipt = await Receipt.filter(id=receipt_id).select_related("account").first()
    if receipt is None:
        return None
    account = receipt.account
    period_end = add_months(receipt.period, 1)
    meters = (
        await Meter.filter(account_id=account.id)
        .filter(Q(installed_on__isnull=True) | Q(installed_on__lt=period_end))
        .order_by("installed_on", "serial")
    )
    tz = ZoneInfo(settings.timezone)
    payments = await Payment.filter(
        account_id=account.id,
        paid_at__gte=dt.datetime.combine(receipt.period, dt.time(), tz),
        paid_at__lt=dt.datetime.combine(period_end, dt.time(), tz),
    ).order_by("paid_at", "id")
    return ReceiptDocument(
        receipt_id=receipt.id,
        company=CompanyRequisites.from_settings(settings),
        account_number=account.number,
        holder_name=account.holder_name,
        address=account.address,
        tariff=account.tariff,
        period=receipt.period,
        issued_on=receipt.issued_on,
        due_on=receipt.due_on,
        meters=tuple(MeterInfo(m.serial, m.model, m.zones, m.next_verification_on) for m in meters),
        zones=zone_charges(receipt.lines),
        opening_balance=receipt.opening_balance,
        charged=receipt.charged,
        paid=receipt.paid,
        amount_due=receipt.amount_due,
        payments=tuple(
            PaymentLine(p.paid_at.astimezone(tz).date(), p.amount, p.channel) for p in payments
        ),
    )
