"""`Account.consumption`: kWh and charges per month and zone beside a year earlier, from the
receipts and, where they are missing, from the meter readings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from models.accounts import Account
from models.billing import Receipt
from services.core.timeutil import add_months, format_period
from services.ops import demo
from services.receipts.consumption import consumption
from tests.billing.test_import import load_all, run
from tests.support import Api, count_queries

MSK = ZoneInfo("Europe/Moscow")
SERIES = """
query($m: Int!) { me { accounts { number consumption(months: $m) {
  month source kwh amount kwhYearAgo amountYearAgo
  zones { zone name kwh amount kwhYearAgo amountYearAgo } } } } }"""


async def demo_cabinet(api: Api, email: str = "ivanova@example.com") -> Api:
    await demo.seed_cabinets()
    logged_in = await api.login(email, demo.DEMO_PASSWORD)
    return api.as_user(logged_in["token"])


def this_month() -> dt.date:
    return dt.datetime.now(MSK).date().replace(day=1)


def kwh_of(receipt: Receipt) -> Decimal:
    return sum((Decimal(line["consumption"]) for line in receipt.lines), Decimal(0))


async def series_of(user: Api, number: str, months: int = 12) -> list[dict]:
    accounts = (await user.data(SERIES, {"m": months}))["me"]["accounts"]
    return next(a["consumption"] for a in accounts if a["number"] == number)


# ---------------------------------------------------------------- through the API


async def test_a_year_of_bills_beside_the_year_before(api: Api, demo_data) -> None:
    user = await demo_cabinet(api)

    series = await series_of(user, "001234567890")

    # The demo's history ends last month: the current month is not shown until known.
    last = add_months(this_month(), -1)
    assert [m["month"] for m in series] == [
        format_period(add_months(last, n)) for n in range(-11, 1)
    ]
    receipts = {
        r.period: r for r in await Receipt.filter(account__number="001234567890").order_by("period")
    }
    for month in series:
        period = dt.date.fromisoformat(month["month"] + "-01")
        bill, year_ago = receipts[period], receipts[add_months(period, -12)]
        assert month["source"] == "RECEIPT"
        assert Decimal(month["kwh"]) == kwh_of(bill)
        assert month["amount"] == f"{bill.charged:.2f}"
        assert Decimal(month["kwhYearAgo"]) == kwh_of(year_ago)
        assert month["amountYearAgo"] == f"{year_ago.charged:.2f}"
        assert [(z["zone"], z["name"]) for z in month["zones"]] == [(1, "День"), (2, "Ночь")]
        for zone, line, before in zip(month["zones"], bill.lines, year_ago.lines, strict=True):
            assert Decimal(zone["kwh"]) == Decimal(line["consumption"])
            assert zone["amount"] == line["amount"]
            assert Decimal(zone["kwhYearAgo"]) == Decimal(before["consumption"])
            assert zone["amountYearAgo"] == before["amount"]


async def test_zone_names_follow_the_language(api: Api, demo_data) -> None:
    user = await demo_cabinet(api)
    accounts = (await user.data(SERIES, {"m": 1}, accept_language="en"))["me"]["accounts"]
    three_zones = next(a for a in accounts if a["number"] == "001234567891")
    assert [z["name"] for z in three_zones["consumption"][0]["zones"]] == [
        "Peak",
        "Night",
        "Half-peak",
    ]


async def test_months_must_be_between_1_and_36(api: Api, demo_data) -> None:
    user = await demo_cabinet(api)
    for months in (0, -1, 37):
        body = await user(SERIES, {"m": months})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", months
    longest = await series_of(user, "001234567890", 36)
    assert len(longest) == 36
    # The demo holds two years: three years back there is nothing, a year earlier neither.
    assert longest[0]["source"] == "NONE"
    assert (longest[0]["kwh"], longest[0]["amount"], longest[0]["zones"]) == (None, None, [])
    assert longest[-1]["kwhYearAgo"] is not None
    assert longest[12]["kwhYearAgo"] is None


async def test_a_month_without_a_bill_comes_from_the_readings(
    api: Api, demo_data, tmp_path: Path
) -> None:
    user = await demo_cabinet(api)
    today = dt.datetime.now(MSK).date()
    last_reading = dt.date(today.year, today.month, 25)
    last_reading = add_months(last_reading, -1)  # the demo reads meters on the 25th
    [previous] = await _readings_on("36218457", last_reading)
    await run(
        tmp_path,
        "readings",
        "serial;taken_on;t1;t2;t3;source\n"
        f"36218457;{today.isoformat()};{previous[0] + 120};{previous[1] + Decimal('45.5')};;customer\n",
    )

    series = await series_of(user, "001234567890")

    current = series[-1]
    assert current["month"] == format_period(today)
    assert current["source"] == "READINGS"
    assert (Decimal(current["kwh"]), current["amount"]) == (Decimal("165.500"), None)
    assert [(z["zone"], Decimal(z["kwh"]), z["amount"]) for z in current["zones"]] == [
        (1, Decimal("120.000"), None),
        (2, Decimal("45.500"), None),
    ]
    assert current["kwhYearAgo"] is not None  # the bill of a year earlier
    assert series[-2]["source"] == "RECEIPT"


async def _readings_on(serial: str, day: dt.date) -> list[tuple[Decimal, Decimal]]:
    from models.metering import MeterReading

    rows = await MeterReading.filter(meter__serial=serial, taken_on=day).values_list("t1", "t2")
    return [(Decimal(t1), Decimal(t2)) for t1, t2 in rows]


async def test_the_cost_does_not_grow_with_the_accounts(api: Api, demo_data) -> None:
    two = await demo_cabinet(api)
    one = await demo_cabinet(api, "kuznetsova@example.com")
    query = "{ me { accounts { eReceipt { enabled } consumption { month kwh zones { kwh } } } } }"
    await one.data(query)
    await two.data(query)  # sessions touched, statements prepared: count the next ones

    with count_queries() as single:
        assert len((await one.data(query))["me"]["accounts"]) == 1
    with count_queries() as double:
        assert len((await two.data(query))["me"]["accounts"]) == 2
    assert len(single.queries) == len(double.queries), (single.queries, double.queries)
    assert len(single.queries) <= 6, single.queries


# ---------------------------------------------------------------- the rules


async def test_bills_lines_and_a_register_that_wraps_around(db, tmp_path: Path) -> None:
    await load_all(tmp_path)  # 0012345: a bill for 2026-10; 0099999: one reading, 99999.999
    await run(
        tmp_path, "readings", "serial;taken_on;t1;t2;t3\nM-1;2026-11-25;19.999;;\n", name="more.csv"
    )
    billed = await Account.get(number="0012345")
    metered = await Account.get(number="0099999")

    found = await consumption([billed.id, metered.id], 2, dt.date(2026, 11, 30))

    # Nothing is known of November for the billed account: its series ends in October.
    september, october = found[billed.id]
    assert (september.month, september.source, september.kwh) == (dt.date(2026, 9, 1), "none", None)
    assert (october.month, october.source) == (dt.date(2026, 10, 1), "receipt")
    assert (october.kwh, october.amount) == (Decimal("139.875"), Decimal("850.40"))
    assert [(z.zone, z.kwh, z.amount) for z in october.zones] == [
        (1, Decimal("99.750"), Decimal("646.38")),
        (2, Decimal("40.125"), Decimal("145.65")),
    ]
    before, wrapped = found[metered.id]
    assert before.month == dt.date(2026, 10, 1)
    assert before.source == "none"  # its first reading has nothing to count from
    assert wrapped.month == dt.date(2026, 11, 1)
    assert (wrapped.source, wrapped.kwh, wrapped.amount) == ("readings", Decimal("20.000"), None)
    assert wrapped.zone_count == 1
