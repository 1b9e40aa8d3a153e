"""me.notificationPreferences and setNotificationPreferences over HTTP: per event and
channel, honoured by the mail and the pushes the rules send; security notices stay on."""

from __future__ import annotations

import httpx
import pytest

from models.mail import OutboxMessage
from models.push import PushMessage
from tests.payments.test_payments import pay, press
from tests.push.test_devices import FCM_TOKEN, register
from tests.support import Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

PREFERENCES = "{ me { notificationPreferences { event email push alwaysOn } } }"
SET = """mutation($input: SetNotificationPreferencesInput!) {
  setNotificationPreferences(input: $input) {
    preferences { event email push alwaysOn }
    userErrors { field message code } } }"""

DEFAULTS = [
    {"event": "PAYMENT_SUCCEEDED", "email": True, "push": True, "alwaysOn": False},
    {"event": "PAYMENT_FAILED", "email": None, "push": True, "alwaysOn": False},
    {"event": "QUESTION_ANSWERED", "email": True, "push": True, "alwaysOn": False},
    {"event": "NEW_LOGIN", "email": None, "push": True, "alwaysOn": True},
    {"event": "EMAIL_CHANGED", "email": True, "push": True, "alwaysOn": True},
    {"event": "NEW_BILL", "email": None, "push": True, "alwaysOn": False},
    {"event": "READING_WINDOW_OPEN", "email": None, "push": True, "alwaysOn": False},
    {"event": "READING_WINDOW_CLOSING", "email": None, "push": True, "alwaysOn": False},
    {"event": "AUTOPAY_CHARGED", "email": True, "push": True, "alwaysOn": False},
    {"event": "AUTOPAY_REFUSED", "email": True, "push": True, "alwaysOn": False},
    {"event": "PASSWORD_CHANGED", "email": True, "push": True, "alwaysOn": True},
    {"event": "SESSIONS_ENDED", "email": None, "push": True, "alwaysOn": True},
]


async def preferences(user: Api) -> list[dict]:
    return (await user.data(PREFERENCES))["me"]["notificationPreferences"]


async def change(user: Api, *changes: dict) -> dict:
    return (await user.data(SET, {"input": {"preferences": list(changes)}}))[
        "setNotificationPreferences"
    ]


async def test_everything_is_on_until_turned_off(api: Api) -> None:
    ivanova = await api.signed_up()
    petrov = await api.signed_up("001234567891", "2750.00", "petrov@mail.ru")
    assert await preferences(ivanova) == DEFAULTS

    done = await change(
        ivanova,
        {"event": "PAYMENT_SUCCEEDED", "push": False},
        {"event": "QUESTION_ANSWERED", "email": False, "push": True},
    )
    assert done["userErrors"] == []
    expected = [dict(p) for p in DEFAULTS]
    expected[0]["push"] = False
    expected[2]["email"] = False
    assert done["preferences"] == expected == await preferences(ivanova)
    assert await preferences(petrov) == DEFAULTS  # another cabinet's are its own

    again = await change(ivanova, {"event": "PAYMENT_SUCCEEDED", "push": False})
    assert again["preferences"] == expected  # idempotent
    back = await change(
        ivanova,
        {"event": "PAYMENT_SUCCEEDED", "push": True},
        {"event": "QUESTION_ANSWERED", "email": True},
    )
    assert back["preferences"] == DEFAULTS


async def test_security_notices_and_missing_channels_are_refused(api: Api) -> None:
    user = await api.signed_up()
    refused = await change(
        user,
        {"event": "PAYMENT_SUCCEEDED", "email": False},  # fine alone, but not applied
        {"event": "NEW_LOGIN", "push": False},
        {"event": "PAYMENT_FAILED", "email": True},
        {"event": "EMAIL_CHANGED", "email": False, "push": True},
    )
    assert refused["preferences"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("ALWAYS_ON", ["preferences", "1", "push"]),
        ("CHANNEL_NOT_AVAILABLE", ["preferences", "2", "email"]),
        ("ALWAYS_ON", ["preferences", "3", "email"]),
    ]
    assert all(e["message"] for e in refused["userErrors"])
    assert await preferences(user) == DEFAULTS
    kept_on = await change(user, {"event": "NEW_LOGIN", "push": True})
    assert codes(kept_on) == [] and kept_on["preferences"] == DEFAULTS


async def test_anonymous_callers_are_refused(api: Api) -> None:
    body = await api(SET, {"input": {"preferences": []}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_rules_honour_them(api: Api, client: httpx.AsyncClient) -> None:
    from tests.questions.support import answer, asked, specialist

    user = await api.signed_up()
    await register(user, FCM_TOKEN, "ANDROID")
    await change(
        user,
        {"event": "PAYMENT_SUCCEEDED", "push": False},
        {"event": "QUESTION_ANSWERED", "email": False},
    )
    payment = (await pay(user, "700"))["payment"]
    await press(client, payment["confirmationUrl"], "pay")
    question = await asked(user)
    olga = await specialist(api)
    assert (await answer(olga, question["id"]))["userErrors"] == []

    pushed = [m.event for m in await PushMessage.all().order_by("id")]
    assert pushed == ["question_answered"]  # the payment's push was turned off
    mailed = [m.template for m in await OutboxMessage.all().order_by("id")]
    assert "payment_received" in mailed  # its mail was not
    assert "question_answered" not in mailed  # the answer's mail was turned off
