"""The events of issue 19 beyond payments, answers and logins, over HTTP: a new bill after
the billing import, the reading-window reminders on a frozen clock in the company's time
zone (once per account per window, whatever the rounds or processes), autopay charged and
refused, and the security notices that push; each event's preference is honoured."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from models.accounts import Account
from models.billing import Receipt
from models.payments import AutopayCharge
from models.push import PushMessage, ReadingReminder, ReminderKind
from services.core.clock import clock
from services.core.ids import encode_id
from services.core.timeutil import add_months, format_month_en, format_month_ru
from services.ops import demo
from services.readings import reminders
from tests.mail_fixtures import deliver_all
from tests.payments.test_autopay import charge_all, enabled, new_bill, next_day
from tests.payments.test_yookassa import Shop, api_server, shop
from tests.push.test_devices import (
    APNS_TOKEN,
    CHANGE_PASSWORD,
    FCM_TOKEN,
    NEW_PASSWORD,
    register,
    second_login,
)
from tests.push.test_preferences import change
from tests.support import ACCOUNT_1, ACCOUNT_2, ACCOUNT_3, AMOUNT_2, AMOUNT_3, PASSWORD, Api

__all__ = ["api_server", "shop"]  # the YooKassa shop's fixtures, for the autopay tests

pytestmark = pytest.mark.usefixtures("demo_data")

MSK = ZoneInfo("Europe/Moscow")
LOGOUT_OTHERS = "mutation { logoutOtherDevices { userErrors { code } } }"
METERS = "{ me { accounts { meters { id lastReading { takenOn values { zone value } } } } } }"
SUBMIT = """mutation($input: SubmitMeterReadingInput!) {
  submitMeterReading(input: $input) { reading { status } userErrors { code } } }"""


async def pushes(event: str | None = None) -> list[PushMessage]:
    query = PushMessage.all().select_related("device").order_by("id")
    if event is not None:
        query = query.filter(event=event)
    return await query


async def account_pk(number: str) -> int:
    return (await Account.get(number=number)).id


# ---------------------------------------------------------------- a new bill


async def test_a_new_bill_is_pushed_once_per_device(api: Api) -> None:
    phone = await api.signed_up()
    tablet = await second_login(api)
    assert (await register(phone, FCM_TOKEN, "ANDROID", locale="en"))["userErrors"] == []
    assert (await register(tablet, APNS_TOKEN, "IOS"))["userErrors"] == []
    petrov = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    await register(petrov, FCM_TOKEN + "-petrov")
    assert (await change(petrov, {"event": "NEW_BILL", "push": False}))["userErrors"] == []

    next_month = add_months(dt.datetime.now(MSK).date(), 1)
    summaries = await demo.seed(next_month, MSK)
    receipts = next(s for s in summaries if s.kind == "receipts")
    assert receipts.bills_pushed == 2 and "2 push(es) queued" in receipts.line()

    account = await account_pk(ACCOUNT_1)
    bill = await Receipt.filter(account_id=account).order_by("-period").first()
    assert bill is not None
    sent = await pushes("new_bill")
    assert sorted(m.device.platform.value for m in sent) == ["android", "ios"]
    assert {m.node_id for m in sent} == {encode_id("Receipt", bill.id)}
    by_platform = {m.device.platform.value: m for m in sent}
    assert by_platform["android"].title == f"New bill for {format_month_en(bill.period)}"
    assert by_platform["ios"].title == f"Новая квитанция за {format_month_ru(bill.period)}"
    assert ACCOUNT_1 in by_platform["ios"].body and "₽" in by_platform["ios"].body

    # The same export again: its bills are not new, nothing more is pushed.
    again = next(s for s in await demo.seed(next_month, MSK) if s.kind == "receipts")
    assert again.bills_pushed == 0
    assert len(await pushes("new_bill")) == 2


# ---------------------------------------------------------------- reading-window reminders


def moscow(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK)


async def submit_reading(user: Api, taken_on: dt.date) -> dict:
    [meter] = (await user.data(METERS))["me"]["accounts"][0]["meters"]
    last = {v["zone"]: Decimal(v["value"]) for v in meter["lastReading"]["values"]}
    values = [{"zone": z, "value": str(last[z] + 40)} for z in sorted(last)]
    variables = {
        "input": {
            "meterId": meter["id"],
            "values": values,
            "takenOn": taken_on.isoformat(),
            "idempotencyKey": "reading-1",
        }
    }
    return (await user.data(SUBMIT, variables))["submitMeterReading"]


async def test_reading_window_reminders_once_per_account_per_window(api: Api) -> None:
    # Given the default window (15th-26th), reminders from 10:00 Moscow time, "closes
    # soon" 2 days before the 26th; three customers with a phone each, the day before.
    first = add_months(dt.datetime.now(MSK).date().replace(day=1), 1)
    opens, closes = first.replace(day=15), first.replace(day=26)
    clock.freeze(moscow(opens - dt.timedelta(days=1), 12))
    ivanova = await api.signed_up()
    petrov = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    sidorov = await api.signed_up(ACCOUNT_3, AMOUNT_3, "sidorov@mail.ru")
    for n, user in enumerate((ivanova, petrov, sidorov)):
        assert (await register(user, f"{FCM_TOKEN}-{n}"))["userErrors"] == []
    await change(petrov, {"event": "READING_WINDOW_OPEN", "push": False})
    await change(sidorov, {"event": "READING_WINDOW_CLOSING", "push": False})
    accounts = {n: await account_pk(n) for n in (ACCOUNT_1, ACCOUNT_2, ACCOUNT_3)}

    # Before the window, and on its first day before 10:00 in Moscow (07:00 UTC): nothing.
    assert await reminders.send_due() == 0
    clock.freeze(moscow(opens, 9, 59))
    assert clock.now().hour == 6  # the company's time zone decides, not UTC
    assert await reminders.send_due() == 0

    # At 10:00: two rounds at once (as two processes' loops) remind each account once.
    clock.freeze(moscow(opens, 10))
    rounds = await asyncio.gather(reminders.send_due(), reminders.send_due())
    assert sum(rounds) == 3
    assert await reminders.send_due() == 0
    opened = await pushes("reading_window_open")
    # Petrov turned the opening reminder off: his account counts as reminded, unpushed.
    assert sorted(m.node_id for m in opened) == sorted(
        encode_id("Account", accounts[n]) for n in (ACCOUNT_1, ACCOUNT_3)
    )
    assert all(m.title == "Пора передать показания" for m in opened)
    assert f"с {opens:%d.%m.%Y} по {closes:%d.%m.%Y}" in opened[0].body
    rows = await ReadingReminder.all().order_by("account_id")
    assert [(r.account_id, r.window_start, r.kind, r.pushed) for r in rows] == [
        (accounts[ACCOUNT_1], opens, ReminderKind.OPEN, 1),
        (accounts[ACCOUNT_2], opens, ReminderKind.OPEN, 0),
        (accounts[ACCOUNT_3], opens, ReminderKind.OPEN, 1),
    ]

    # Ivanova submits a reading; the day before "closes soon" nothing more is sent.
    clock.freeze(moscow(opens + dt.timedelta(days=1), 12))
    done = await submit_reading(ivanova, opens + dt.timedelta(days=1))
    assert done["userErrors"] == [] and done["reading"]["status"] == "ACCEPTED"
    clock.freeze(moscow(closes - dt.timedelta(days=3), 23, 59))
    assert await reminders.send_due() == 0

    # Two days before the close: only accounts with nothing submitted, honouring Sidorov's
    # preference; once, however many rounds.
    clock.freeze(moscow(closes - dt.timedelta(days=2), 10))
    assert sum(await asyncio.gather(reminders.send_due(), reminders.send_due())) == 2
    clock.freeze(moscow(closes, 18))
    assert await reminders.send_due() == 0
    closing = await pushes("reading_window_closing")
    assert [m.node_id for m in closing] == [encode_id("Account", accounts[ACCOUNT_2])]
    assert closing[0].title == f"Показания принимаются до {closes:%d.%m.%Y}"
    assert len(await pushes("reading_window_open")) == 2  # no second "open" either

    # After the window nothing; the next window starts afresh.
    clock.freeze(moscow(closes + dt.timedelta(days=1), 12))
    assert await reminders.send_due() == 0


# ---------------------------------------------------------------- autopay


async def test_autopay_charged_is_pushed_and_its_mail_follows_its_preference(
    shop: Shop, smtp, smtp_settings
) -> None:
    await register(shop.user)
    await change(shop.user, {"event": "AUTOPAY_CHARGED", "email": False})
    await enabled(shop)
    await new_bill()
    next_day()
    assert await charge_all(shop) == 1

    [charge] = await AutopayCharge.all()
    events = [(m.event, m.node_id) for m in await pushes()]
    assert events[-2:] == [
        ("new_bill", events[-2][1]),
        ("autopay_charged", encode_id("OnlinePayment", charge.payment_id)),  # type: ignore[attr-defined]
    ]
    assert [e for e, _ in events].count("payment_succeeded") == 1  # the first payment only
    [pushed] = await pushes("autopay_charged")
    assert pushed.title.startswith("Автоплатёж") and "Bank card *4444" in pushed.body

    await deliver_all(smtp_settings)
    assert not [m for m in smtp.messages if "Автоплатёж" in m["Subject"]]  # turned off


async def test_autopay_refused_is_pushed_and_its_push_can_be_turned_off(
    shop: Shop, smtp, smtp_settings
) -> None:
    await register(shop.user)
    await enabled(shop)
    shop.api.charge_outcomes.extend(["insufficient_funds", "insufficient_funds"])
    await new_bill(1)
    next_day()
    assert await charge_all(shop) == 1
    [refused] = await pushes("autopay_refused")
    first = (await AutopayCharge.all().order_by("id"))[0]
    assert refused.node_id == encode_id("OnlinePayment", first.payment_id)  # type: ignore[attr-defined]
    assert "не прошёл" in refused.title and "Автоплатёж отключён" not in refused.body
    assert await pushes("payment_failed") == []  # autopay's own event, not a payment's

    await change(shop.user, {"event": "AUTOPAY_REFUSED", "push": False})
    await new_bill(2)
    next_day()
    assert await charge_all(shop) == 1
    assert len(await pushes("autopay_refused")) == 1  # the second refusal was not pushed
    await deliver_all(smtp_settings)
    subjects = [m["Subject"] for m in smtp.messages if "Автоплатёж" in m["Subject"]]
    assert len(subjects) == 2  # its mail was not turned off


# ---------------------------------------------------------------- security notices


async def test_password_changed_and_sessions_ended_push_and_stay_on(api: Api) -> None:
    phone = await api.signed_up()
    other = await second_login(api)
    await register(phone, FCM_TOKEN)
    await register(other, APNS_TOKEN, "IOS")
    for event in ("PASSWORD_CHANGED", "SESSIONS_ENDED"):
        refused = await change(phone, {"event": event, "push": False})
        assert [e["code"] for e in refused["userErrors"]] == ["ALWAYS_ON"]

    # "End the other sessions": the tablet's device goes, the phone is told.
    ended = await phone.data(LOGOUT_OTHERS)
    assert ended["logoutOtherDevices"]["userErrors"] == []
    [notice] = await pushes("sessions_ended")
    assert notice.device.platform.value == "android" and "1" in notice.body
    assert (await phone.data(LOGOUT_OTHERS))["logoutOtherDevices"]["userErrors"] == []
    assert len(await pushes("sessions_ended")) == 1  # nothing was ended the second time

    # A new password: the phone that changed it is told (the others end with sessions).
    api.http.cookies.clear()  # the ended session's cookie
    third = await second_login(api)
    await register(third, FCM_TOKEN + "-3")
    changed = await phone.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD})
    assert changed["changePassword"]["userErrors"] == []
    [pushed] = await pushes("password_changed")
    assert pushed.device.token == FCM_TOKEN and pushed.title == "Пароль изменён"
