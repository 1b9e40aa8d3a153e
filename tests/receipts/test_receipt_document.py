"""What a printed bill shows, gathered from the database: `load_receipt_document`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from models.billing import Receipt
from services.core.timeutil import format_date_ru, format_month_ru
from services.ops import demo
from services.receipts.document import (
    CompanyRequisites,
    PaymentLine,
    load_receipt_document,
    zone_charges,
)
from tests.billing.test_import import load_all, run

MSK = ZoneInfo("Europe/Moscow")
TODAY = dt.date(2026, 11, 25)


async def latest_receipt_id(number: str) -> int:
    receipt = await Receipt.filter(account__number=number).order_by("-period").first()
    assert receipt is not None
    return receipt.id


async def test_a_demo_bill_has_everything_it_prints(db, settings) -> None:
    await demo.seed(TODAY, MSK)
    receipt_id = await latest_receipt_id("001234567890")
    receipt = await Receipt.get(id=receipt_id)

    doc = await load_receipt_document(receipt_id)

    assert doc is not None
    assert doc.receipt_id == receipt_id
    assert doc.company == CompanyRequisites.from_settings(settings)
    assert (doc.account_number, doc.holder_name) == ("001234567890", "Иванова Мария Петровна")
    assert doc.address == "603005, г. Нижний Новгород, ул. Рождественская, д. 12, кв. 34"
    assert doc.tariff == "Двухзонный (день/ночь)"
    assert (doc.period, doc.issued_on, doc.due_on) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 10),
    )
    assert [(m.serial, m.model, m.zones) for m in doc.meters] == [
        ("36218457", "Меркурий 200.02", 2)
    ]
    assert [z.name for z in doc.zones] == ["День", "Ночь"]
    for zone, line in zip(doc.zones, receipt.lines, strict=True):
        assert zone.zone == line["zone"]
        assert zone.previous == Decimal(line["previous"])
        assert zone.current == Decimal(line["current"])
        assert zone.consumption == Decimal(line["consumption"])
        assert zone.rate == Decimal(line["rate"])
        assert zone.amount == Decimal(line["amount"])
    assert doc.total_consumption == sum(Decimal(line["consumption"]) for line in receipt.lines)
    assert (doc.opening_balance, doc.charged, doc.paid, doc.amount_due) == (
        receipt.opening_balance,
        receipt.charged,
        receipt.paid,
        receipt.amount_due,
    )
    assert doc.payments == (
        PaymentLine(dt.date(2026, 10, 8), Decimal("1500.00"), "Сбербанк Онлайн"),
    )
    assert doc.to_pay == doc.amount_due > 0


async def test_payments_of_the_period_are_counted_in_the_company_time_zone(
    db, settings, tmp_path: Path
) -> None:
    await load_all(tmp_path)  # account 0012345, its October receipt, a payment on 8 October
    await run(
        tmp_path,
        "payments",
        "account_number;paid_at;amount;channel;external_id\n"
        # 1 October 01:00 in Moscow is still 30 September in UTC: October's
        "0012345;2026-10-01T01:00:00+03:00;10,00;Касса;EDGE-1\n"
        # 1 November 00:30 in Moscow is still 31 October in UTC: November's
        "0012345;2026-11-01T00:30:00+03:00;20,00;Касса;EDGE-2\n"
        # the last minute of October in Moscow
        "0012345;2026-10-31T23:59:00;30,00;Касса;EDGE-3\n",
        name="edges.csv",
    )
    receipt_id = await latest_receipt_id("0012345")

    doc = await load_receipt_document(receipt_id, settings)

    assert doc is not None
    assert [(p.paid_on, p.amount) for p in doc.payments] == [
        (dt.date(2026, 10, 1), Decimal("10.00")),
        (dt.date(2026, 10, 8), Decimal("1500.00")),
        (dt.date(2026, 10, 31), Decimal("30.00")),
    ]


async def test_a_credit_balance_asks_for_nothing(db, settings, tmp_path: Path) -> None:
    await load_all(tmp_path)  # the October receipt of 0012345 ends 549.60 in credit
    doc = await load_receipt_document(await latest_receipt_id("0012345"), settings)
    assert doc is not None
    assert doc.amount_due == Decimal("-549.60")
    assert doc.to_pay == Decimal("0.00")
    assert [m.serial for m in doc.meters] == ["M-2"]


async def test_meters_installed_after_the_period_are_not_on_its_bill(
    db, settings, tmp_path: Path
) -> None:
    await load_all(tmp_path)
    await run(
        tmp_path,
        "meters",
        "account_number,serial,zones,digits,installed_on\n"
        "0012345,M-NEW,2,6,2026-11-01\n"
        "0012345,M-OLD,2,6,2026-10-31\n",
        name="more-meters.csv",
    )
    doc = await load_receipt_document(await latest_receipt_id("0012345"), settings)
    assert doc is not None
    assert [m.serial for m in doc.meters] == ["M-2", "M-OLD"]


@pytest.mark.parametrize("receipt_id", [987654, 0, -1, 2**63])
async def test_no_document_for_a_receipt_that_does_not_exist(db, settings, receipt_id) -> None:
    await demo.seed(TODAY, MSK)
    assert await load_receipt_document(receipt_id) is None


@pytest.mark.parametrize(
    ("zones", "names"),
    [
        ([1], ["Круглосуточно"]),
        ([1, 2], ["День", "Ночь"]),
        ([1, 2, 3], ["Пик", "Ночь", "Полупик"]),
        ([3, 1], ["Пик", "Полупик"]),  # a zone the export left out keeps the others' names
    ],
)
def test_zones_are_named_by_the_tariff(zones: list[int], names: list[str]) -> None:
    lines = [{"zone": z, "previous": "1.000", "current": "2.000", "rate": "5.64"} for z in zones]
    charges = zone_charges(lines)
    assert [c.name for c in charges] == names
    assert [c.zone for c in charges] == sorted(zones)
    assert charges[0].consumption is None  # left empty by the export, not invented
    assert charges[0].rate == Decimal("5.64")


def test_months_and_dates_as_bills_print_them() -> None:
    assert format_month_ru(dt.date(2026, 10, 1)) == "октябрь 2026"
    assert format_month_ru(dt.date(2027, 1, 1)) == "январь 2027"
    assert format_date_ru(dt.date(2026, 11, 1)) == "01.11.2026"
