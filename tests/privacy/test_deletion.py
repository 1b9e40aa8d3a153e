"""Deleting a cabinet (deleteCabinet): the password, the grace period on a frozen clock,
cancelling by logging in and confirming, and the erasure checked row by row: what goes,
what the company keeps, and that nobody else's data is touched. Real HTTP, real SMTP."""

from __future__ import annotations

import datetime as dt

import pytest

from models.accounts import Account
from models.auth import ActionToken, ProofAttempt, RateCounter, SecurityEvent, Session
from models.billing import Payment, Receipt
from models.cabinets import Cabinet, CabinetAccount
from models.ereceipts import EReceiptSubscription
from models.mail import OutboxMessage
from models.metering import Meter, MeterReading
from models.privacy_requests import CabinetDeletion, DataExport, DeletionState
from models.push import NotificationOptOut, PushDevice
from models.questions import Attachment, AttachmentContent, Question, QuestionMessage
from services.core.clock import clock as rules_clock
from services.privacy import jobs
from tests.privacy.support import CANCEL, DELETE, EXPORT, ME_DELETION, mail_to
from tests.push.test_devices import register as register_device
from tests.push.test_preferences import change as change_preferences
from tests.questions.support import answer, asked, photo, specialist, uploaded
from tests.support import (
    ACCOUNT_1,
    ACCOUNT_2,
    ACCOUNT_3,
    AMOUNT_1,
    AMOUNT_2,
    AMOUNT_3,
    PASSWORD,
    RESET,
    Api,
    codes,
)

pytestmark = pytest.mark.usefixtures("demo_data")

IVANOVA, PETROV = "ivanova@mail.ru", "petrov@mail.ru"
SUBSCRIBE = """mutation($id: ID!, $email: String) {
  subscribeEReceipt(input: {accountId: $id, email: $email}) { userErrors { code } } }"""
GRACE = dt.timedelta(days=14)


@pytest.fixture(autouse=True)
def frozen() -> None:
    rules_clock.freeze(dt.datetime.now(dt.UTC).replace(microsecond=0))


async def delete(user: Api, password: str = PASSWORD) -> dict:
    return (await user.data(DELETE, {"p": password}))["deleteCabinet"]


async def test_the_password_confirms_and_every_session_ends(api: Api, smtp, smtp_settings) -> None:
    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, IVANOVA)
    phone = api.as_user((await api.login(IVANOVA))["token"])

    wrong = await delete(user, "not-the-password-1")
    assert codes(wrong) == ["WRONG_PASSWORD"] and wrong["deletion"] is None
    assert wrong["userErrors"][0]["field"] == ["password"]
    assert await user.session_ended() is None

    asked_at = rules_clock.now()
    done = await delete(user)
    assert done["userErrors"] == []
    assert dt.datetime.fromisoformat(done["deletion"]["requestedAt"]) == asked_at
    assert dt.datetime.fromisoformat(done["deletion"]["erasesAt"]) == asked_at + GRACE
    assert await user.session_ended() == "REVOKED"
    assert await phone.session_ended() == "REVOKED"

    [notice] = [m for m in await mail_to(smtp, smtp_settings, IVANOVA) if "удал" in m["Subject"]]
    erases_on = (asked_at + GRACE).astimezone(dt.timezone(dt.timedelta(hours=3))).date()
    assert erases_on.strftime("%d.%m.%Y") in notice["Subject"]
    assert "Сохранить кабинет" in notice.get_body(("plain",)).get_content()

    # Logging in still works in the grace period, and shows the pending deletion.
    again = api.as_user((await api.login(IVANOVA))["token"])
    me = (await again.data(ME_DELETION))["me"]
    assert me["deletion"] == done["deletion"]


async def test_logging_in_and_confirming_keeps_the_cabinet(api: Api, smtp, smtp_settings) -> None:
    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, IVANOVA)
    assert (await delete(user))["userErrors"] == []
    rules_clock.advance(GRACE - dt.timedelta(days=1))

    logged_in = await api.login(IVANOVA)
    assert logged_in["userErrors"] == []
    back = api.as_user(logged_in["token"])
    assert await jobs.run_once() == 0  # not due yet; logging in alone cancels nothing
    assert (await back.data(ME_DELETION))["me"]["deletion"] is not None

    kept = (await back.data(CANCEL))["cancelCabinetDeletion"]
    assert kept == {"canceled": True, "userErrors": []}
    assert (await back.data(ME_DELETION))["me"]["deletion"] is None
    again = (await back.data(CANCEL))["cancelCabinetDeletion"]
    assert [e["code"] for e in again["userErrors"]] == ["DELETION_NOT_REQUESTED"]

    rules_clock.advance(dt.timedelta(days=2))
    assert await jobs.run_once() == 0
    cabinet = await Cabinet.get(email=IVANOVA)
    assert cabinet.disabled_at is None
    assert await CabinetAccount.filter(cabinet_id=cabinet.id).count() == 1
    assert await back.session_ended() is None
    [row] = await CabinetDeletion.filter(cabinet_id=cabinet.id)
    assert row.state == DeletionState.CANCELED
    subjects = [m["Subject"] for m in await mail_to(smtp, smtp_settings, IVANOVA)]
    assert "Удаление личного кабинета отменено" in subjects


async def _snapshot_kept(account_numbers: list[str]) -> dict[str, list]:
    """The rows the company keeps after an erasure: the accounts' billing data."""
    accounts = await Account.filter(number__in=account_numbers).values_list("id", flat=True)
    meters = await Meter.filter(account_id__in=list(accounts)).values_list("id", flat=True)
    return {
        "accounts": await Account.filter(id__in=list(accounts)).order_by("id").values(),
        "readings": await MeterReading.filter(meter_id__in=list(meters)).order_by("id").values(),
        "payments": await Payment.filter(account_id__in=list(accounts)).order_by("id").values(),
        "receipts": await Receipt.filter(account_id__in=list(accounts))
        .order_by("id")
        .values_list("id", flat=True),
    }


async def _everything_of(cabinet_id: int) -> dict[str, list]:
    """Every row of another cabinet that an erasure must leave exactly as it was."""
    questions = await Question.filter(cabinet_id=cabinet_id).values_list("id", flat=True)
    return {
        "cabinet": await Cabinet.filter(id=cabinet_id).values(),
        "sessions": await Session.filter(cabinet_id=cabinet_id).order_by("id").values(),
        "links": await CabinetAccount.filter(cabinet_id=cabinet_id).order_by("id").values(),
        "questions": await Question.filter(cabinet_id=cabinet_id).order_by("id").values(),
        "messages": await QuestionMessage.filter(question_id__in=list(questions))
        .order_by("id")
        .values(),
        "photos": await Attachment.filter(cabinet_id=cabinet_id).order_by("id").values(),
        "events": await SecurityEvent.filter(cabinet_id=cabinet_id).order_by("id").values(),
        "tokens": await ActionToken.filter(cabinet_id=cabinet_id).order_by("id").values(),
    }


async def test_after_the_grace_period_the_cabinet_is_erased_row_by_row(
    api: Api, smtp, smtp_settings
) -> None:
    # Given a customer with two accounts, an e-receipt, a question with a photo that a
    # specialist answered, and an export; and another customer who asked a question too.
    registered = await api.register(ACCOUNT_1, AMOUNT_1, IVANOVA, accept_language="en")
    assert registered["userErrors"] == []
    user = api.as_user((await api.login(IVANOVA))["token"])
    assert (await user.link(ACCOUNT_2, AMOUNT_2))["userErrors"] == []
    accounts = (await user.data("{ me { accounts { id number } } }"))["me"]["accounts"]
    first = next(a["id"] for a in accounts if a["number"] == ACCOUNT_1)
    subscribed = await user.data(SUBSCRIBE, {"id": first, "email": "bills@mail.ru"})
    assert subscribed["subscribeEReceipt"]["userErrors"] == []
    photo_id = await uploaded(user, photo())
    question = await asked(user, subject="Счётчик сломался", attachmentIds=[photo_id])
    staff = await specialist(api)
    assert (await answer(staff, question["id"], "Мастер придёт в среду."))["userErrors"] == []
    assert (await user.data(EXPORT))["requestDataExport"]["userErrors"] == []
    assert await jobs.run_once() == 1  # the export is built

    other = await api.signed_up(ACCOUNT_3, AMOUNT_3, PETROV)
    other_photo = await uploaded(other, photo("PNG"))
    await asked(other, subject="Переплата", body="Верните деньги", attachmentIds=[other_photo])
    petrov = await Cabinet.get(email=PETROV)

    assert codes(await api.login(IVANOVA, "a-wrong-password-1")) == ["INVALID_CREDENTIALS"]
    assert (await api.data(RESET, {"e": IVANOVA}))["requestPasswordReset"]["accepted"]
    keys = await RateCounter.all().values_list("key", flat=True)
    assert {f"login:email:{IVANOVA}", f"reset:email:{IVANOVA}"} <= set(keys)
    cabinet = await Cabinet.get(email=IVANOVA)
    kept_before = await _snapshot_kept([ACCOUNT_1, ACCOUNT_2])
    other_before = await _everything_of(petrov.id)
    photo_ids = await Attachment.filter(cabinet_id=cabinet.id).values_list("id", flat=True)
    assert len(photo_ids) == 1 and await AttachmentContent.filter(attachment_id__in=photo_ids)

    # When the deletion is asked for and the grace period passes.
    assert (await delete(user))["userErrors"] == []
    await mail_to(smtp, smtp_settings, IVANOVA)  # the notice goes before its traces do
    events_before = await SecurityEvent.filter(cabinet_id=cabinet.id).order_by("id").values()
    assert events_before[-1]["kind"].value == "logout_everywhere"
    assert events_before[-1]["detail"] == "deletion"
    rules_clock.advance(GRACE - dt.timedelta(seconds=1))
    assert await jobs.run_once() == 0
    rules_clock.advance(dt.timedelta(seconds=1))
    assert await jobs.run_once() == 1
    assert await jobs.run_once() == 0  # done once, never again

    # Then the cabinet is a tombstone, and what named the person is gone ...
    tomb = await Cabinet.get(id=cabinet.id)
    assert tomb.email == f"erased-{cabinet.id}@erased.invalid"
    assert tomb.email_verified_at is None and tomb.password_hash == "!"
    assert tomb.disabled_at == rules_clock.now()
    assert (tomb.display_name, tomb.language) == ("", "ru")
    assert await Session.filter(cabinet_id=cabinet.id).count() == 0
    assert await ActionToken.filter(cabinet_id=cabinet.id).count() == 0
    assert await CabinetAccount.filter(cabinet_id=cabinet.id).count() == 0
    assert await EReceiptSubscription.filter(cabinet_id=cabinet.id).count() == 0
    assert await Attachment.filter(cabinet_id=cabinet.id).count() == 0
    assert await AttachmentContent.filter(attachment_id__in=photo_ids).count() == 0
    assert await DataExport.filter(cabinet_id=cabinet.id).count() == 0
    [q] = await Question.filter(cabinet_id=cabinet.id)
    assert (q.subject, q.status.value, q.closed_at) == ("", "closed", rules_clock.now())
    bodies = await QuestionMessage.filter(question_id=q.id).values_list("body", flat=True)
    assert sorted(bodies) == ["", ""]  # the customer's and the specialist's
    assert await ProofAttempt.filter(cabinet_id=cabinet.id).count() == 0
    assert await ProofAttempt.filter(account_number=ACCOUNT_2).count() == 1  # kept, detached
    assert not [k for k in await RateCounter.all().values_list("key", flat=True) if IVANOVA in k]
    leftover = await OutboxMessage.filter(recipient=IVANOVA).values_list("template", flat=True)
    assert leftover == ["cabinet_erased"]  # only the last notice, still to be sent
    [row] = await CabinetDeletion.filter(cabinet_id=cabinet.id)
    assert (row.state, row.done_at) == (DeletionState.ERASED, rules_clock.now())

    # ... what the company must keep is kept, exactly ...
    assert await _snapshot_kept([ACCOUNT_1, ACCOUNT_2]) == kept_before
    events_after = await SecurityEvent.filter(cabinet_id=cabinet.id).order_by("id").values()
    assert events_after == events_before
    # ... and the other customer's data is untouched.
    assert await _everything_of(petrov.id) == other_before

    # The last notice reaches the old address, in the cabinet's language.
    subjects = [m["Subject"] for m in await mail_to(smtp, smtp_settings, IVANOVA)]
    assert subjects[-1] == "Your cabinet has been deleted"

    # Nobody logs in to the tombstone; the address and the accounts are free again.
    assert codes(await api.login(IVANOVA)) == ["INVALID_CREDENTIALS"]
    registered = await api.register(ACCOUNT_1, AMOUNT_1, IVANOVA)
    assert registered["userErrors"] == [], registered
    fresh = await api.signed_up(ACCOUNT_2, AMOUNT_2, "new.owner@mail.ru")
    numbers = [
        a["number"] for a in (await fresh.data("{ me { accounts { number } } }"))["me"]["accounts"]
    ]
    assert numbers == [ACCOUNT_2]


async def test_erasure_removes_push_devices_and_notification_preferences(api: Api) -> None:
    # Given a cabinet whose owner asked for deletion, then logged in again in the grace
    # period from the app: a push device and a preference, and another customer's alike.
    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, IVANOVA)
    other = await api.signed_up(ACCOUNT_3, AMOUNT_3, PETROV)
    for who, token in ((user, "fcm-token-of-the-deleted"), (other, "fcm-token-of-the-other")):
        assert (await register_device(who, token))["userErrors"] == []
    assert (await delete(user))["userErrors"] == []
    back = api.as_user((await api.login(IVANOVA))["token"])
    assert (await register_device(back, "fcm-token-of-the-deleted"))["userErrors"] == []
    for who in (back, other):
        turned = await change_preferences(who, {"event": "PAYMENT_SUCCEEDED", "push": False})
        assert turned["userErrors"] == []
    cabinet, petrov = await Cabinet.get(email=IVANOVA), await Cabinet.get(email=PETROV)
    assert await PushDevice.filter(cabinet_id=cabinet.id).count() == 1
    # When the grace period ends.
    rules_clock.advance(GRACE)
    assert await jobs.run_once() == 1
    # Then nothing of the erased cabinet's apps and choices is left; the other's stays.
    assert await PushDevice.filter(cabinet_id=cabinet.id).count() == 0
    assert await NotificationOptOut.filter(cabinet_id=cabinet.id).count() == 0
    assert await PushDevice.filter(cabinet_id=petrov.id).count() == 1
    assert await NotificationOptOut.filter(cabinet_id=petrov.id).count() == 1


async def test_a_cancel_after_the_erasure_finds_nothing(api: Api) -> None:
    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, IVANOVA)
    assert (await delete(user))["userErrors"] == []
    back = api.as_user((await api.login(IVANOVA))["token"])
    rules_clock.advance(GRACE)
    assert await jobs.run_once() == 1
    assert await back.session_ended() == "INVALID"  # the session row is gone


async def test_specialists_cannot_delete_their_cabinet_here(api: Api) -> None:
    staff = await specialist(api)
    body = await staff(DELETE, {"p": "whatever"})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None or body["data"]["deleteCabinet"] is None


async def test_guessing_the_password_here_is_throttled_as_a_login(api: Api) -> None:
    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, IVANOVA)
    for _ in range(6):  # as at login (tests/auth/test_login.py): six tries, then a wait
        assert codes(await delete(user, "not-the-password-1")) == ["WRONG_PASSWORD"]
    throttled = await delete(user, PASSWORD)  # even the right one waits now
    assert codes(throttled) == ["TOO_MANY_ATTEMPTS"]
    assert dt.datetime.fromisoformat(throttled["userErrors"][0]["retryAfter"]) > rules_clock.now()
    assert await CabinetDeletion.all().count() == 0
    assert await user.session_ended() is None
