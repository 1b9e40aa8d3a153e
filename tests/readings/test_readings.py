"""Submitting meter readings: every rule and code, the window, idempotency, the export.

Each test freezes the clock inside (or at the edges of) a submission window and builds
its own customer: an account with one meter, a year of monthly readings ending on the
25th of last month, a payment that proves ownership, and a receipt whose rates price
the estimate.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config import Settings
from models.accounts import Account
from models.billing import Payment, Receipt
from models.metering import Meter, MeterReading, ReadingSubmission
from services.billing import importer as billing_import
from services.core.clock import clock
from services.core.timeutil import add_months
from services.readings import rules as readings
from tests.conftest import with_settings
from tests.ops.test_cli import kabinet
from tests.support import Api, codes

MSK = ZoneInfo("Europe/Moscow")
IN_WINDOW = dt.datetime(2026, 7, 20, 12, 0, tzinfo=MSK)
PROOF = "1000.00"

SUBMIT = """
mutation Submit($input: SubmitMeterReadingInput!) {
  submitMeterReading(input: $input) {
    reading { id takenOn source status values { zone name value } meter { serial } }
    consumption { zone name kwh }
    estimatedCharge
    userErrors { field message code }
  }
}"""

PREVIEW = """
query Preview($input: PreviewMeterReadingInput!) {
  previewMeterReading(input: $input) {
    consumption { zone name kwh } estimatedCharge needsReview
    userErrors { field message code }
  }
}"""

READINGS = """
{ me { accounts { readings(first: 5) { totalCount nodes { id takenOn source status values { zone value } } }
  meters { lastReading { takenOn status } } } } }"""


def gid(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


@dataclass
class Customer:
    user: Api
    meter: Meter
    last_on: dt.date
    last: tuple[Decimal, ...]

    def values(self, *deltas: str | int) -> list[dict]:
        """Values `deltas` above the last accepted reading (a string is taken as typed)."""
        return [
            {"zone": z, "value": d if isinstance(d, str) else str(self.last[z - 1] + d)}
            for z, d in enumerate(deltas, start=1)
        ]

    def _input(self, values, taken_on: dt.date | None, **extra) -> dict:
        taken_on = taken_on or clock.now().astimezone(MSK).date()
        return {
            "input": {
                "meterId": gid("Meter", self.meter.id),
                "values": values,
                "takenOn": taken_on.isoformat(),
                **extra,
            }
        }

    async def submit(self, values, taken_on=None, key="key-1", **extra) -> dict:
        variables = self._input(values, taken_on, idempotencyKey=key, **extra)
        return (await self.user.data(SUBMIT, variables))["submitMeterReading"]

    async def preview(self, values, taken_on=None, **extra) -> dict:
        variables = self._input(values, taken_on, **extra)
        return (await self.user.data(PREVIEW, variables))["previewMeterReading"]


async def customer(
    api: Api,
    number: str = "000000000777",
    *,
    zones: int = 2,
    digits: int = 6,
    start: tuple[int, ...] = (12000, 5000),
    monthly: tuple[int, ...] = (300, 150),
    months: int = 12,
    rates: tuple[str, ...] = ("6.00", "3.00"),
    email: str = "reader@example.ru",
) -> Customer:
    """An account with a meter whose readings end on the 25th of the month before now."""
    today = clock.now().astimezone(MSK).date()
    account = await Account.create(number=number, holder_name="Читатель", address="Арзамас")
    meter = await Meter.create(account=account, serial=f"M{number}", zones=zones, digits=digits)
    capacity = 10**digits
    values = [Decimal(v) for v in start]
    day = add_months(today.replace(day=25), -months - 1)
    for _ in range(months):
        day = add_months(day, 1)
        values = [(v + m) % capacity for v, m in zip(values, monthly, strict=True)]
        cells = [*values, None, None, None][:3]
        await MeterReading.create(meter=meter, taken_on=day, t1=cells[0], t2=cells[1], t3=cells[2])
    await Payment.create(
        account=account,
        amount=Decimal(PROOF),
        paid_at=clock.now() - dt.timedelta(days=30),
        external_id=f"P-{number}",
    )
    lines = [{"zone": z, "rate": rate} for z, rate in enumerate(rates, start=1)]
    period = add_months(today.replace(day=1), -1)
    await Receipt.create(
        account=account,
        period=period,
        issued_on=today.replace(day=1),
        due_on=today.replace(day=10),
        opening_balance=0,
        charged=0,
        paid=0,
        amount_due=0,
        lines=lines,
    )
    user = await api.signed_up(number, PROOF, email)
    return Customer(user, meter, day, tuple(values))


@pytest.fixture
def in_window(db) -> None:
    clock.freeze(IN_WINDOW)


async def stored() -> tuple[int, int]:
    return await MeterReading.filter(
        source="customer"
    ).count(), await ReadingSubmission.all().count()


# ---------------------------------------------------------------- the happy path


async def test_a_reading_is_stored_and_appears_in_the_account(api: Api, in_window) -> None:
    me = await customer(api)
    result = await me.submit(me.values(200, 100))
    assert result["userErrors"] == []
    reading = result["reading"]
    assert reading["source"] == "CUSTOMER" and reading["status"] == "ACCEPTED"
    assert reading["takenOn"] == "2026-07-20"
    assert [v["value"] for v in reading["values"]] == ["15800.000", "6900.000"]
    assert [v["name"] for v in reading["values"]] == ["День", "Ночь"]
    assert result["consumption"] == [
        {"zone": 1, "name": "День", "kwh": "200.000"},
        {"zone": 2, "name": "Ночь", "kwh": "100.000"},
    ]
    assert result["estimatedCharge"] == "1500.00"  # 200 x 6.00 + 100 x 3.00

    account = (await me.user.data(READINGS))["me"]["accounts"][0]
    newest = account["readings"]["nodes"][0]
    assert newest["id"] == reading["id"] and newest["source"] == "CUSTOMER"
    assert account["readings"]["totalCount"] == 13
    assert account["meters"][0]["lastReading"] == {"takenOn": "2026-07-20", "status": "ACCEPTED"}


async def test_preview_checks_and_estimates_but_stores_nothing(api: Api, in_window) -> None:
    me = await customer(api)
    preview = await me.preview(me.values(200, 100))
    assert preview["userErrors"] == [] and not preview["needsReview"]
    assert [c["kwh"] for c in preview["consumption"]] == ["200.000", "100.000"]
    assert preview["estimatedCharge"] == "1500.00"
    refused = await me.preview(me.values(-10, 100))
    assert codes(refused) == ["LOWER_THAN_PREVIOUS"]
    assert await stored() == (0, 0)


async def test_a_first_reading_has_no_consumption_and_no_charge(api: Api, in_window) -> None:
    me = await customer(api, months=0, start=(100, 50))
    result = await me.submit(me.values(10, 10), taken_on=IN_WINDOW.date())
    assert result["userErrors"] == []
    assert result["consumption"] is None and result["estimatedCharge"] is None


# ---------------------------------------------------------------- whose meter, which zones


async def test_another_customers_meter_is_not_found(api: Api, in_window) -> None:
    me = await customer(api)
    other = await customer(api, "000000000888", email="other@example.ru")
    data = await me.user.data(
        SUBMIT,
        {
            "input": {
                "meterId": gid("Meter", other.meter.id),
                "values": other.values(1, 1),
                "takenOn": "2026-07-20",
                "idempotencyKey": "k",
            }
        },
    )
    result = data["submitMeterReading"]
    assert codes(result) == ["NOT_FOUND"] and result["userErrors"][0]["field"] == ["meterId"]
    for meter_id in ("garbage", gid("Account", me.meter.id), gid("Meter", 10**9)):
        body = await me.user.data(
            PREVIEW,
            {"input": {"meterId": meter_id, "values": [], "takenOn": "2026-07-20"}},
        )
        assert codes(body["previewMeterReading"]) == ["NOT_FOUND"]
    assert await stored() == (0, 0)


async def test_zones_missing_unknown_and_repeated(api: Api, in_window) -> None:
    me = await customer(api)
    missing = await me.submit(me.values(200))
    assert codes(missing) == ["MISSING_ZONE"]
    assert missing["userErrors"][0]["message"] == "Укажите показание зоны «Ночь»."
    assert missing["userErrors"][0]["field"] == ["values"]

    extra = await me.submit([*me.values(200, 100), {"zone": 3, "value": "1"}])
    assert codes(extra) == ["UNKNOWN_ZONE"]
    assert extra["userErrors"][0]["field"] == ["values", "2", "zone"]

    twice = await me.submit([*me.values(200, 100), {"zone": 1, "value": "12300"}])
    assert codes(twice) == ["BAD_VALUE"]
    assert "«День» указано дважды" in twice["userErrors"][0]["message"]
    assert await stored() == (0, 0)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("-1", "не может быть отрицательным"),
        ("12345.6789", "не больше трёх знаков после запятой"),
        ("1000000", "не помещается на счётчике: у него 6 цифр"),
        ("двенадцать", "должно быть числом"),
        ("", "должно быть числом"),
    ],
)
async def test_bad_values_name_the_zone(api: Api, in_window, typed: str, says: str) -> None:
    me = await customer(api)
    result = await me.submit(me.values(200, typed))
    assert codes(result) == ["BAD_VALUE"]
    [error] = result["userErrors"]
    assert error["field"] == ["values", "1", "value"]
    assert "зоны «Ночь»" in error["message"] and says in error["message"]


async def test_values_as_people_type_them(api: Api, in_window) -> None:
    me = await customer(api)
    result = await me.submit([{"zone": 1, "value": "15 800,5"}, {"zone": 2, "value": "6900"}])
    assert result["userErrors"] == []
    assert [v["value"] for v in result["reading"]["values"]] == ["15800.500", "6900.000"]


async def test_messages_in_english(api: Api, in_window) -> None:
    me = await customer(api)
    data = await me.user.data(
        SUBMIT,
        {
            "input": {
                "meterId": gid("Meter", me.meter.id),
                "values": me.values(200, -5),
                "takenOn": "2026-07-20",
                "idempotencyKey": "k",
            }
        },
        accept_language="en",
    )
    [error] = data["submitMeterReading"]["userErrors"]
    assert error["code"] == "LOWER_THAN_PREVIOUS"
    assert error["message"] == (
        "The value of the Night zone is lower than the last accepted one (6800.000 on "
        "2026-06-25). Check the digits."
    )


# ---------------------------------------------------------------- against the history


async def test_lower_than_previous_names_zone_and_previous(api: Api, in_window) -> None:
    me = await customer(api)
    result = await me.submit(me.values(-1, 100))
    assert codes(result) == ["LOWER_THAN_PREVIOUS"]
    [error] = result["userErrors"]
    assert error["field"] == ["values", "0", "value"]
    assert error["message"] == (
        "Показание зоны «День» меньше последнего принятого (15600.000 на 25.06.2026). "
        "Проверьте, верно ли переписаны цифры."
    )


async def test_a_register_that_rolled_over_is_accepted(api: Api, in_window) -> None:
    # A 5-digit register at 99 800 last month: 300 kWh later it shows 00 100.
    me = await customer(api, zones=1, digits=5, start=(96200,), monthly=(300,), rates=("5.00",))
    assert me.last == (Decimal(99800),)
    result = await me.submit([{"zone": 1, "value": "100"}])
    assert result["userErrors"] == []
    assert result["consumption"] == [{"zone": 1, "name": "Круглосуточно", "kwh": "300.000"}]
    assert result["estimatedCharge"] == "1500.00"
    assert result["reading"]["status"] == "ACCEPTED"

    # The next month's reading counts from 00 100, not from 99 800.
    clock.freeze(IN_WINDOW + dt.timedelta(days=30))
    assert await me.user.session_ended() == "EXPIRED"  # 30 days on: idle too long
    me.user.http.cookies.clear()  # an app drops its dead credentials and logs in again
    me.user = me.user.as_user((await me.user.as_user(None).login("reader@example.ru"))["token"])
    again = await me.submit([{"zone": 1, "value": "420"}], key="key-2")
    assert again["consumption"][0]["kwh"] == "320.000"


async def test_a_lower_value_too_far_for_a_rollover_is_refused(api: Api, in_window) -> None:
    me = await customer(api, zones=1, digits=5, start=(96200,), monthly=(300,), rates=("5.00",))
    # 99 800 -> 50 000 would be 50 200 kWh across a rollover: a mistyped value instead.
    result = await me.submit([{"zone": 1, "value": "50000"}])
    assert codes(result) == ["LOWER_THAN_PREVIOUS"]
    assert "«Круглосуточно»" in result["userErrors"][0]["message"]


async def test_implausible_consumption_is_refused_unless_confirmed(api: Api, in_window) -> None:
    me = await customer(api)
    # Usual: 300 kWh of day a month (10.9 a day); 25 days x 10.9 x 5 = 1 357 kWh at most.
    result = await me.submit(me.values(5000, 100))
    assert codes(result) == ["IMPLAUSIBLE_VALUE"]
    [error] = result["userErrors"]
    assert error["field"] == ["values", "0", "value"]
    assert "Расход по зоне «День» — 5000.000 кВт·ч за 25 дн." in error["message"]
    preview = await me.preview(me.values(5000, 100), confirmUnusual=True)
    assert preview["userErrors"] == [] and preview["needsReview"]
    assert await stored() == (0, 0)

    confirmed = await me.submit(me.values(5000, 100), confirmUnusual=True)
    assert confirmed["userErrors"] == []
    assert confirmed["reading"]["status"] == "REVIEW"
    assert [c["kwh"] for c in confirmed["consumption"]] == ["5000.000", "100.000"]


async def test_the_absolute_cap_applies_without_history(api: Api, in_window) -> None:
    # One earlier reading only: no average, so the cap of 300 kWh a day decides.
    me = await customer(api, months=1, zones=1, start=(1000,), monthly=(0,), rates=("5.00",))
    days = (IN_WINDOW.date() - me.last_on).days
    assert codes(await me.submit(me.values(300 * days))) == []
    clock.freeze(IN_WINDOW + dt.timedelta(days=1))
    over = await me.submit(me.values(300 * (days + 1) + 1), key="key-2")
    assert codes(over) == ["IMPLAUSIBLE_VALUE"]


async def test_the_reading_date(api: Api, in_window) -> None:
    me = await customer(api)
    future = await me.submit(me.values(200, 100), taken_on=dt.date(2026, 7, 21))
    assert codes(future) == ["DATE_IN_FUTURE"]
    assert future["userErrors"][0]["field"] == ["takenOn"]
    before = await me.submit(me.values(200, 100), taken_on=dt.date(2026, 6, 24))
    assert codes(before) == ["DATE_BEFORE_PREVIOUS"]
    assert "(25.06.2026)" in before["userErrors"][0]["message"]
    same_day = await me.submit(me.values(0, 0), taken_on=dt.date(2026, 6, 25))
    assert codes(same_day) == []  # as the billing reading of that day: allowed
    assert await stored() == (1, 1)


# ---------------------------------------------------------------- the window


@pytest.mark.parametrize(
    ("moment", "open_", "next_window"),
    [
        (dt.datetime(2026, 7, 14, 23, 59, 59, tzinfo=MSK), False, "с 15.07.2026 по 26.07.2026"),
        (dt.datetime(2026, 7, 15, 0, 0, tzinfo=MSK), True, None),
        (dt.datetime(2026, 7, 26, 23, 59, 59, tzinfo=MSK), True, None),
        (dt.datetime(2026, 7, 27, 0, 0, tzinfo=MSK), False, "с 15.08.2026 по 26.08.2026"),
        (dt.datetime(2026, 12, 31, 12, 0, tzinfo=MSK), False, "с 15.01.2027 по 26.01.2027"),
    ],
)
async def test_the_window_edges_in_the_company_time_zone(
    api: Api, db, moment: dt.datetime, open_: bool, next_window: str | None
) -> None:
    clock.freeze(moment)
    me = await customer(api)
    result = await me.submit(me.values(200, 100))
    if open_:
        assert result["userErrors"] == []
        return
    assert codes(result) == ["OUTSIDE_WINDOW"]
    assert result["userErrors"][0]["message"] == (
        f"Сейчас показания не принимаются. Передайте их {next_window}."
    )
    assert await stored() == (0, 0)


async def test_a_window_past_the_end_of_a_short_month(settings: Settings) -> None:
    late = with_settings(settings, reading_window_start_day=25, reading_window_end_day=31)
    assert readings.window_of(dt.date(2027, 2, 28), late) == (
        dt.date(2027, 2, 25),
        dt.date(2027, 2, 28),
    )
    assert readings.next_window(dt.date(2027, 1, 31), late) == (
        dt.date(2027, 2, 25),
        dt.date(2027, 2, 28),
    )
    assert readings.window_of(dt.date(2027, 3, 1), late) is None


async def test_a_second_submission_in_the_window_replaces_the_first(api: Api, in_window) -> None:
    me = await customer(api)
    first = await me.submit(me.values(2000, 100))  # a typo: 2000 for 200
    assert codes(first) == ["IMPLAUSIBLE_VALUE"]
    typo = await me.submit(me.values(900, 100), key="key-1")
    assert typo["userErrors"] == []

    clock.freeze(IN_WINDOW + dt.timedelta(days=1))
    fixed = await me.submit(me.values(210, 100), key="key-2")
    # Compared with last month's reading, not with the reading it replaces.
    assert fixed["userErrors"] == []
    assert [c["kwh"] for c in fixed["consumption"]] == ["210.000", "100.000"]
    assert (await MeterReading.get(id=_pk(typo))).status == "replaced"
    assert (await MeterReading.get(id=_pk(fixed))).status == "accepted"

    # Again the same day: the same row takes the new values.
    again = await me.submit(me.values(220, 100), key="key-3")
    assert _pk(again) == _pk(fixed)
    row = await MeterReading.get(id=_pk(fixed))
    assert row.status == "accepted" and row.t1 == me.last[0] + 220

    # Next month's window starts afresh: this month's reading stays accepted.
    clock.freeze(IN_WINDOW + dt.timedelta(days=30))
    assert await me.user.session_ended() == "EXPIRED"  # 30 days on: idle too long
    me.user.http.cookies.clear()  # an app drops its dead credentials and logs in again
    me.user = me.user.as_user((await me.user.as_user(None).login("reader@example.ru"))["token"])
    later = await me.submit(me.values(520, 250), key="key-4")
    assert later["userErrors"] == []
    assert [c["kwh"] for c in later["consumption"]] == ["300.000", "150.000"]
    assert (await MeterReading.get(id=_pk(fixed))).status == "accepted"
    # A reading of a date already accepted in an earlier window cannot be sent again.
    stale = await me.submit(me.values(520, 250), taken_on=dt.date(2026, 7, 21), key="key-5")
    assert codes(stale) == ["DATE_BEFORE_PREVIOUS"]


def _pk(result: dict) -> int:
    raw = base64.urlsafe_b64decode(result["reading"]["id"] + "==").decode()
    return int(raw.split(":")[1])


# ---------------------------------------------------------------- idempotency


async def test_the_same_key_returns_the_first_result(api: Api, in_window) -> None:
    me = await customer(api)
    first = await me.submit(me.values(200, 100), key="retry-me")
    again = await me.submit(me.values(200, 100), key="retry-me")
    assert again == first
    assert await stored() == (1, 1)

    # Even once the window has closed, the retry gets the first answer.
    clock.freeze(dt.datetime(2026, 7, 27, 9, 0, tzinfo=MSK))
    late = await me.submit(me.values(200, 100), taken_on=IN_WINDOW.date(), key="retry-me")
    assert late == first

    changed = await me.submit(me.values(201, 100), taken_on=IN_WINDOW.date(), key="retry-me")
    assert codes(changed) == ["IDEMPOTENCY_KEY_REUSED"]
    assert changed["userErrors"][0]["field"] == ["idempotencyKey"]
    for bad in ("", "x" * 65, "с пробелом"):
        assert codes(await me.submit(me.values(200, 100), key=bad)) == ["INVALID_IDEMPOTENCY_KEY"]
    assert await stored() == (1, 1)


async def test_identical_submissions_at_once_store_one_reading(api: Api, in_window) -> None:
    me = await customer(api)
    results = await asyncio.gather(*(me.submit(me.values(200, 100), key="twin") for _ in range(8)))
    assert all(r["userErrors"] == [] for r in results)
    assert len({r["reading"]["id"] for r in results}) == 1
    assert len({repr(r) for r in results}) == 1
    assert await stored() == (1, 1)


async def test_different_submissions_at_once_are_taken_one_after_another(
    api: Api, in_window
) -> None:
    """Each claims its key (a row referring to the meter) and then locks the meter: on
    PostgreSQL that lock must not wait for the other claims' hold on the meter row, or two
    submissions deadlock (found by bench/load.py)."""
    me = await customer(api)
    results = await asyncio.gather(
        *(me.submit(me.values(200 + i, 100), key=f"key-{i}") for i in range(8))
    )
    assert all(r["userErrors"] == [] for r in results), results
    assert len({r["reading"]["id"] for r in results}) == 1  # the window's one reading
    assert await stored() == (1, 8)


async def test_keys_belong_to_their_cabinet(api: Api, in_window) -> None:
    me = await customer(api)
    other = await customer(api, "000000000888", email="other@example.ru")
    mine = await me.submit(me.values(200, 100), key="shared-key")
    theirs = await other.submit(other.values(200, 100), key="shared-key")
    assert mine["userErrors"] == [] and theirs["userErrors"] == []
    assert mine["reading"]["id"] != theirs["reading"]["id"]


REPLAY = """
mutation Submit($input: SubmitMeterReadingInput!) {
  submitMeterReading(input: $input) {
    reading { id values { value } meter { serial lastReading { takenOn values { value } } } }
    userErrors { field code }
  }
}"""


async def test_a_replay_after_unlinking_shows_nothing_of_the_next_holder(
    api: Api, in_window
) -> None:
    """Attack: cabinet A submits a reading, then unlinks the account; cabinet B links it
    and submits its own. A's retry with its old key used to replay before checking who
    holds the meter, and `reading.meter.lastReading` then showed B's reading."""
    a = await customer(api, "000000000777", email="a@example.ru")
    kept = await Account.create(number="000000000778", holder_name="А", address="Арзамас")
    await Payment.create(
        account=kept,
        amount=Decimal(PROOF),
        paid_at=clock.now() - dt.timedelta(days=30),
        external_id="P-778",
    )
    assert (await a.user.link("000000000778", PROOF))["userErrors"] == []
    variables = a._input(a.values(200, 100), None, idempotencyKey="mine")
    first = (await a.user.data(REPLAY, variables))["submitMeterReading"]
    assert first["userErrors"] == [] and first["reading"]["meter"]["lastReading"]

    unlink = "mutation($id: ID!) { unlinkAccount(input: {accountId: $id}) { userErrors { code } } }"
    gone = await a.user.data(unlink, {"id": gid("Account", a.meter.account_id)})  # type: ignore[attr-defined]
    assert gone["unlinkAccount"]["userErrors"] == []

    b = await customer(api, "000000000999", email="b@example.ru")
    assert (await b.user.link("000000000777", PROOF))["userErrors"] == []
    theirs = await b.user.data(
        SUBMIT,
        {"input": {**variables["input"], "values": a.values(250, 120), "idempotencyKey": "theirs"}},
    )
    assert theirs["submitMeterReading"]["userErrors"] == []
    b_value = str(a.last[0] + 250)

    replay = await a.user.raw(REPLAY, variables)
    result = replay.json()["data"]["submitMeterReading"]
    assert result["reading"] is None
    assert codes(result) == ["NOT_FOUND"] and result["userErrors"][0]["field"] == ["meterId"]
    assert b_value not in replay.text

    # B, who holds the meter now, sees its own reading; A's old key is no key of B's.
    mine = await b.user.data("{ me { accounts { meters { lastReading { values { value } } } } } }")
    values = [m["lastReading"] for acc in mine["me"]["accounts"] for m in acc["meters"]]
    assert any(r and r["values"][0]["value"].startswith(b_value) for r in values)


# ---------------------------------------------------------------- the export


async def test_export_is_an_import_file(api: Api, in_window, db, tmp_path: Path) -> None:
    me = await customer(api)
    await me.submit(me.values(200, 100), key="a")
    clock.freeze(IN_WINDOW + dt.timedelta(days=1))
    await me.submit(me.values(2000, 100), key="b", confirmUnusual=True)

    out = io.StringIO()
    assert await readings.export_customer_readings(dt.date(2026, 7, 1), out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["serial", "taken_on", "t1", "t2", "t3", "source", "status"]
    assert rows[1:] == [
        ["M000000000777", "2026-07-20", "15800.000", "6900.000", "", "customer", "replaced"],
        ["M000000000777", "2026-07-21", "17600.000", "6900.000", "", "customer", "review"],
    ]
    assert await readings.export_customer_readings(dt.date(2026, 7, 21), io.StringIO()) == 1

    # The command line writes the same file.
    written = tmp_path / "readings.csv"
    result = kabinet(
        "export", "readings", "--since", "2026-07-01", str(written), url=db.url, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert written.read_text(encoding="utf-8") == out.getvalue()
    assert "readings: 2 rows taken since 2026-07-01" in result.stderr

    # Importing it as billing would changes nothing: the same rows, the same keys.
    summary = await billing_import.import_stream(
        billing_import.KINDS["readings"], io.BytesIO(out.getvalue().encode()), tz=MSK
    )
    assert (summary.rows, summary.inserted, summary.updated) == (2, 0, 0)


async def test_whether_an_account_may_be_seen_is_known_at_once_only_when_loaded(
    api: Api,
) -> None:
    """`lastReading` answers at once when the request has loaded the viewer's accounts
    (`Context.may_see_account_now`), else by waiting (`may_see_account`): both must give
    the same answer, and the quick one must never guess before the loads are done."""
    from bench.executor import request_context
    from config import get_settings

    me = await customer(api)
    other = await Account.create(number="000000000779", holder_name="Б", address="Арзамас")
    context = request_context(me.user.token, get_settings())  # a bearer request's Context
    mine = me.meter.account_id  # type: ignore[attr-defined]
    assert context.may_see_account_now(mine) is None  # the session is not looked up yet
    await context.session()
    assert context.may_see_account_now(mine) is None  # the viewer's accounts are not loaded
    assert await context.may_see_account(mine) is True
    assert context.may_see_account_now(mine) is True
    assert context.may_see_account_now(other.id) is False
    assert await context.may_see_account(other.id) is False
