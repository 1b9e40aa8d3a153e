"""Readings sent without logging in (submitGuestMeterReading, issue 16 item 2): the rules
of a cabinet's submission, answers that tell nothing of the history, source GUEST seen
by the account's cabinet, the guest limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from config import Settings
from models.metering import GuestReadingSubmission, MeterReading
from services.core.clock import clock
from tests.conftest import with_settings
from tests.readings.test_readings import MSK, READINGS, Customer, customer, in_window
from tests.support import Api, codes

__all__ = ["in_window"]

SUBMIT = """
mutation($input: SubmitGuestMeterReadingInput!) {
  submitGuestMeterReading(input: $input) {
    reading { meterSerial takenOn status values { zone name value } }
    userErrors { field message code retryAfter }
  }
}"""


async def guest_submit(
    api: Api,
    me: Customer,
    values: list[dict],
    key: str = "g-1",
    taken_on: dt.date | None = None,
    **changes: str,
) -> dict:
    variables = {
        "input": {
            "accountNumber": me.meter.serial[1:],
            "meterSerial": me.meter.serial,
            "values": values,
            "takenOn": (taken_on or clock.now().astimezone(MSK).date()).isoformat(),
            "idempotencyKey": key,
            **changes,
        }
    }
    return (await api.data(SUBMIT, variables))["submitGuestMeterReading"]


async def test_a_guest_reading_is_stored_as_guest_and_the_cabinet_sees_it(
    api: Api, in_window
) -> None:
    me = await customer(api)
    stranger = Api(api.http)  # no token
    sent = await guest_submit(stranger, me, me.values(120, 60))
    assert sent["userErrors"] == []
    today = clock.now().astimezone(MSK).date()
    assert sent["reading"] == {
        "meterSerial": me.meter.serial,
        "takenOn": today.isoformat(),
        "status": "ACCEPTED",
        "values": [
            {"zone": 1, "name": "День", "value": str(me.last[0] + 120) + ".000"},
            {"zone": 2, "name": "Ночь", "value": str(me.last[1] + 60) + ".000"},
        ],
    }
    [row] = await MeterReading.filter(meter=me.meter, source="guest")
    assert row.t1 == me.last[0] + 120 and row.status == "accepted"
    newest = (await me.user.data(READINGS))["me"]["accounts"][0]["readings"]["nodes"][0]
    assert newest["source"] == "GUEST" and newest["takenOn"] == today.isoformat()

    # the same key again: the same answer, nothing more stored
    again = await guest_submit(stranger, me, me.values(120, 60))
    assert again == sent
    assert await MeterReading.filter(meter=me.meter, source="guest").count() == 1
    changed = await guest_submit(stranger, me, me.values(121, 60))
    assert codes(changed) == ["IDEMPOTENCY_KEY_REUSED"]

    # a second guest submission in the window replaces the first
    fixed = await guest_submit(stranger, me, me.values(125, 60), key="g-2")
    assert fixed["userErrors"] == []
    rows = await MeterReading.filter(meter=me.meter, source="guest")
    assert [(r.t1, r.status) for r in rows] == [(me.last[0] + 125, "accepted")]
    assert await GuestReadingSubmission.all().count() == 2


async def test_refusals_tell_nothing_of_the_history(api: Api, in_window) -> None:
    me = await customer(api)
    stranger = Api(api.http)
    lower = await guest_submit(stranger, me, me.values(-1, 10))
    assert codes(lower) == ["LOWER_THAN_PREVIOUS"]
    [error] = lower["userErrors"]
    assert error["field"] == ["values", "0", "value"]
    assert error["message"] == (
        "Показание зоны «День» меньше последнего принятого. Проверьте, верно ли переписаны цифры."
    )
    previous = str(me.last[0])
    for answer in (lower,):
        text = str(answer)
        assert previous not in text and me.last_on.strftime("%d.%m.%Y") not in text

    huge = await guest_submit(stranger, me, me.values(90000, 10), key="g-2")
    assert codes(huge) == ["IMPLAUSIBLE_VALUE"]
    assert "кВт" not in huge["userErrors"][0]["message"]

    before = await guest_submit(
        stranger, me, me.values(10, 10), key="g-3", taken_on=me.last_on - dt.timedelta(days=1)
    )
    assert codes(before) == ["DATE_BEFORE_PREVIOUS"]
    assert me.last_on.strftime("%d.%m.%Y") not in before["userErrors"][0]["message"]
    assert await MeterReading.filter(meter=me.meter, source="guest").count() == 0
    assert await GuestReadingSubmission.all().count() == 0  # nothing half-written


async def test_the_window_the_zones_and_an_unknown_meter(
    api: Api, in_window, settings: Settings
) -> None:
    me = await customer(api)
    stranger = Api(api.http)
    assert codes(await guest_submit(stranger, me, me.values(10))) == ["MISSING_ZONE"]
    wrong = await guest_submit(stranger, me, me.values(10, 10), meterSerial="M000000000778")
    assert codes(wrong) == ["NOT_FOUND"] and wrong["userErrors"][0]["field"] == ["meterSerial"]
    other = await guest_submit(stranger, me, me.values(10, 10), accountNumber="009999999999")
    assert other["userErrors"] == wrong["userErrors"]  # unknown account, same answer
    assert codes(await guest_submit(stranger, me, me.values(10, 10), accountNumber="x1")) == [
        "INVALID_ACCOUNT_NUMBER"
    ]
    clock.freeze(dt.datetime(2026, 7, 2, 12, 0, tzinfo=MSK))
    assert codes(await guest_submit(stranger, me, me.values(10, 10))) == ["OUTSIDE_WINDOW"]


async def test_guest_readings_count_against_the_guest_limits(
    api: Api, in_window, settings: Settings
) -> None:
    me = await customer(api)
    with_settings(settings, guest_attempts_per_hour=2)
    stranger = Api(api.http)
    assert codes(await guest_submit(stranger, me, me.values(10))) == ["MISSING_ZONE"]
    assert codes(await guest_submit(stranger, me, me.values(10, 10))) == []
    refused = await guest_submit(stranger, me, me.values(10, 10), key="g-2")
    assert codes(refused) == ["TOO_MANY_ATTEMPTS"] and refused["userErrors"][0]["retryAfter"]
    assert (await MeterReading.filter(meter=me.meter, source="guest").first()).t1 == (
        me.last[0] + Decimal(10)
    )
