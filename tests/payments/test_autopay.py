"""Autopay against the tests' YooKassa API (tests/yookassa_api.py) over real HTTP: the first
payment saves the method, a new bill is charged on the next day once, the monthly cap,
two refusals turn it off (mailed through the real SMTP fixture), disableAutopay, and the
sandbox's simulated card for `make run`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from config import get_settings
from models.accounts import Account
from models.billing import Receipt
from models.payments import (
    Autopay,
    AutopayCharge,
    ChargeState,
    OnlinePayment,
    PaymentStatus,
)
from server import create_app
from services.billing import importer as billing_import
from services.core.clock import clock, now
from services.core.money import format_rub
from services.core.timeutil import add_months
from services.ops import demo
from services.payments.recurring import Charger, due_moment
from services.privacy import jobs as privacy_jobs
from tests.conftest import with_settings
from tests.mail_fixtures import deliver_all
from tests.payments.test_payments import _pk, account_id, press
from tests.payments.test_yookassa import Shop
from tests.privacy.support import DELETE
from tests.support import (
    ACCOUNT_1,
    ACCOUNT_2,
    ACCOUNT_3,
    AMOUNT_1,
    AMOUNT_2,
    AMOUNT_3,
    PASSWORD,
    Api,
    codes,
)

pytestmark = pytest.mark.usefixtures("demo_data")

MSK = ZoneInfo("Europe/Moscow")
ENABLE = """
mutation($input: EnableAutopayInput!) {
  enableAutopay(input: $input) {
    payment { id status amount confirmationUrl }
    account { number autopay { active method maxAmount activeSince waiting } }
    userErrors { field message code }
  }
}"""
DISABLE = """
mutation($id: ID!) {
  disableAutopay(input: {accountId: $id}) {
    account { number autopay { active method maxAmount waiting } }
    userErrors { field code }
  }
}"""
STATE = "query($id: ID!) { node(id: $id) { ... on Account { autopay { active method maxAmount waiting } } } }"


async def enable(user: Api, cap: str = "5000", key: str = "auto-1", account: str = "") -> dict:
    variables = {
        "input": {
            "accountId": account or await account_id(user),
            "maxAmount": cap,
            "idempotencyKey": key,
        }
    }
    return (await user.data(ENABLE, variables))["enableAutopay"]


async def autopay_of(user: Api) -> dict:
    return (await user.data(STATE, {"id": await account_id(user)}))["node"]["autopay"]


async def enabled(shop: Shop, cap: str = "5000") -> str:
    """Autopay on, its first payment paid on YooKassa's page; the saved method's id."""
    started = await enable(shop.user, cap)
    assert started["userErrors"] == [], started
    [external_id] = [
        p for p, made in shop.api.payments.items() if made["request"].get("save_payment_method")
    ]
    shop.api.succeed(external_id)
    assert (await shop.notify(external_id, "payment.succeeded")).status_code == 200
    [method_id] = shop.api.saved_methods
    return method_id


def today() -> dt.date:
    return now().astimezone(MSK).date()


async def new_bill(months_ahead: int = 1) -> billing_import.ImportSummary:
    """The billing system's next export: the demo history `months_ahead` months on."""
    summaries = await demo.seed(add_months(dt.datetime.now(MSK).date(), months_ahead), MSK)
    return next(s for s in summaries if s.kind == "receipts")


def next_day() -> None:
    """The clock at the moment autopay charges what was imported today."""
    clock.freeze(due_moment(now(), get_settings()))


async def owed_on_newest_bill() -> Decimal:
    account = await Account.get(number=ACCOUNT_1)
    bill = await Receipt.filter(account=account).order_by("-period").first()
    assert bill is not None
    return min(bill.amount_due, account.balance)


async def charge_all(shop: Shop) -> int:
    charger = Charger(shop.settings)
    claimed = 0
    while batch := await charger.run_once():
        claimed += batch
    return claimed


# ---------------------------------------------------------------- turning it on


async def test_the_first_payment_saves_the_method_and_turns_autopay_on(shop: Shop) -> None:
    balance = (await Account.get(number=ACCOUNT_1)).balance
    started = await enable(shop.user, "4 000,50")
    assert started["userErrors"] == []
    payment = started["payment"]
    assert payment["status"] == "PENDING" and payment["confirmationUrl"]
    assert started["account"]["autopay"] == {
        "active": False,
        "method": None,
        "maxAmount": "4000.50",
        "activeSince": None,
        "waiting": True,
    }
    [(external_id, made)] = shop.api.payments.items()
    body = made["request"]
    assert body["save_payment_method"] is True
    assert body["confirmation"]["type"] == "redirect"
    assert body["amount"] == {"value": f"{max(balance, Decimal(1)):.2f}", "currency": "RUB"}
    assert body["receipt"]["customer"] == {"email": "ivanova@mail.ru"}
    # The same key again: the same payment, YooKassa not asked again.
    assert (await enable(shop.user, "4 000,50"))["payment"]["id"] == payment["id"]
    assert len(shop.api.requests) == 1

    shop.api.succeed(external_id)
    assert (await shop.notify(external_id, "payment.succeeded")).status_code == 200
    assert await autopay_of(shop.user) == {
        "active": True,
        "method": "Bank card *4444",
        "maxAmount": "4000.50",
        "waiting": False,
    }
    [row] = await Autopay.all()
    [saved] = shop.api.saved_methods
    assert row.method_id == saved and row.method_title == "Bank card *4444"
    # Nothing of the card but its title is kept.
    assert "555555" not in str(row.__dict__)


async def test_a_first_payment_that_saved_nothing_leaves_autopay_off(shop: Shop) -> None:
    started = await enable(shop.user)
    [external_id] = shop.api.payments
    shop.api.succeed(external_id)
    shop.api.payments[external_id]["payment_method"]["saved"] = False  # the payer declined
    shop.api.saved_methods.clear()
    assert (await shop.notify(external_id, "payment.succeeded")).status_code == 200
    assert await autopay_of(shop.user) == {
        "active": False,
        "method": None,
        "maxAmount": "5000.00",
        "waiting": False,
    }
    assert (await OnlinePayment.get(id=_pk(started["payment"]["id"]))).status == (
        PaymentStatus.SUCCEEDED
    )


async def test_a_first_payment_canceled_leaves_autopay_off(shop: Shop) -> None:
    await enable(shop.user)
    [external_id] = shop.api.payments
    shop.api.cancel(external_id, "3d_secure_failed")
    assert (await shop.notify(external_id, "payment.canceled")).status_code == 200
    state = await autopay_of(shop.user)
    assert state["active"] is False and state["waiting"] is False


async def test_bad_input_is_a_typed_error(shop: Shop) -> None:
    assert codes(await enable(shop.user, "много")) == ["INVALID_AMOUNT"]
    assert codes(await enable(shop.user, "0")) == ["INVALID_AMOUNT"]
    assert codes(await enable(shop.user, "100000,01")) == ["AMOUNT_TOO_LARGE"]
    assert codes(await enable(shop.user, "100", key="")) == ["INVALID_IDEMPOTENCY_KEY"]
    assert codes(await enable(shop.user, account="QWNjb3VudDo5OTk5OQ==")) == ["NOT_FOUND"]
    assert shop.api.requests == [] and await Autopay.all().count() == 0


async def test_an_acquirer_that_cannot_save_methods(shop: Shop) -> None:
    app = create_app(
        with_settings(shop.settings, payment_provider="tests.acquirer"), manage_db=False
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        refused = await enable(Api(http, shop.user.token))
    assert codes(refused) == ["AUTOPAY_NOT_SUPPORTED"] and refused["payment"] is None
    assert await OnlinePayment.all().count() == 0 and await Autopay.all().count() == 0


async def test_payments_off(shop: Shop) -> None:
    app = create_app(with_settings(shop.settings, payment_provider="none"), manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        refused = await enable(Api(http, shop.user.token))
    assert codes(refused) == ["PAYMENTS_UNAVAILABLE"]


# ---------------------------------------------------------------- charging a bill


async def test_a_new_bill_is_charged_once_on_the_next_day(shop: Shop, smtp, smtp_settings) -> None:
    method_id = await enabled(shop)
    summary = await new_bill()
    assert summary.autopay_queued == 1
    assert "1 autopay charge(s) queued" in summary.line()
    expected = await owed_on_newest_bill()
    assert expected > 0
    balance = (await Account.get(number=ACCOUNT_1)).balance

    # The day of the import: nothing yet.
    assert await charge_all(shop) == 0 and shop.api.charges() == []

    next_day()
    assert await charge_all(shop) == 1
    [charge] = shop.api.charges()
    amount = {"value": f"{expected:.2f}", "currency": "RUB"}
    assert charge["payment_method_id"] == method_id
    assert charge["amount"] == amount and charge["capture"] is True
    assert "confirmation" not in charge and "save_payment_method" not in charge
    assert charge["description"] == f"Оплата электроэнергии, лицевой счёт {ACCOUNT_1}"
    assert charge["receipt"]["customer"] == {"email": "ivanova@mail.ru"}
    assert charge["receipt"]["items"][0]["amount"] == amount
    assert charge["receipt"]["items"][0]["payment_subject"] == "service"
    [row] = await AutopayCharge.all()
    assert row.state == ChargeState.DONE and row.outcome == "paid"
    paid = await OnlinePayment.get(id=row.payment_id)  # type: ignore[attr-defined]
    assert paid.status == PaymentStatus.SUCCEEDED and paid.amount == expected
    assert charge["metadata"] == {"payment_id": str(paid.id), "account_number": ACCOUNT_1}
    assert (await Account.get(number=ACCOUNT_1)).balance == balance - expected

    # Again, and the same export again: nothing more is charged.
    assert await charge_all(shop) == 0
    assert (await new_bill()).autopay_queued == 0
    clock.advance(dt.timedelta(days=3))
    assert await charge_all(shop) == 0
    assert len(shop.api.charges()) == 1

    # The notification YooKassa sends later changes nothing.
    answer = await shop.notify(paid.external_id or "", "payment.succeeded")
    assert answer.json()["status"] == "unchanged"

    await deliver_all(smtp_settings)
    [mail] = [m for m in smtp.messages if "Автоплатёж" in m["Subject"]]
    assert mail["To"] == "ivanova@mail.ru"
    text = mail.get_body(("plain",)).get_content()
    assert "Bank card *4444" in text and ACCOUNT_1 in text


async def test_a_charge_the_acquirer_leaves_pending_ends_by_its_notification(shop: Shop) -> None:
    await enabled(shop)
    await new_bill()
    next_day()
    shop.api.charge_outcomes.append("pending")
    assert await charge_all(shop) == 1
    [external_id] = [
        p for p, made in shop.api.payments.items() if "payment_method_id" in made["request"]
    ]
    payment = await OnlinePayment.get(external_id=external_id)
    assert payment.status == PaymentStatus.PENDING
    shop.api.succeed(external_id)
    answer = await shop.notify(external_id, "payment.succeeded")
    assert answer.json()["status"] == "recorded"
    await payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert (await AutopayCharge.get()).outcome == "paid"


async def test_an_unreachable_acquirer_is_asked_again_with_the_same_key(shop: Shop) -> None:
    await enabled(shop)
    await new_bill()
    next_day()
    # Every attempt of the first round times out (YooKassa makes the payment, its answer is late).
    shop.api.fail_next("timeout", "timeout", "timeout")
    assert await charge_all(shop) == 1
    [row] = await AutopayCharge.all()
    assert row.state == ChargeState.PENDING and row.payment_id is not None  # type: ignore[attr-defined]
    clock.advance(dt.timedelta(minutes=5))
    assert await charge_all(shop) == 1
    # One payment at YooKassa, one of ours: the same Idempotence-Key each time.
    assert len(shop.api.charges()) == 1
    assert await OnlinePayment.filter(account__number=ACCOUNT_1).count() == 2  # + the first
    await row.refresh_from_db()
    assert row.state == ChargeState.DONE and row.outcome == "paid"


async def test_a_charge_started_before_autopay_is_turned_off_finishes_once(shop: Shop) -> None:
    await enabled(shop)
    await new_bill()
    next_day()
    shop.api.fail_next("timeout", "timeout", "timeout")  # made at YooKassa, answers lost
    assert await charge_all(shop) == 1
    done = (await shop.user.data(DISABLE, {"id": await account_id(shop.user)}))["disableAutopay"]
    assert done["userErrors"] == []
    clock.advance(dt.timedelta(minutes=5))
    assert await charge_all(shop) == 1
    # The same key again: YooKassa's payment is found and recorded, not made twice.
    assert len(shop.api.charges()) == 1
    [row] = await AutopayCharge.all()
    assert row.state == ChargeState.DONE and row.outcome == "paid"
    paid = await OnlinePayment.get(id=row.payment_id)  # type: ignore[attr-defined]
    assert paid.status == PaymentStatus.SUCCEEDED
    assert paid.external_id == list(shop.api.payments)[-1]
    assert (await autopay_of(shop.user))["active"] is False


async def test_a_bill_above_the_cap_is_not_charged_and_the_customer_is_told(
    shop: Shop, smtp, smtp_settings
) -> None:
    await enabled(shop, cap="1")
    await new_bill()
    next_day()
    assert await charge_all(shop) == 1
    assert shop.api.charges() == []
    [row] = await AutopayCharge.all()
    assert row.state == ChargeState.SKIPPED and row.outcome == "over_cap"
    await deliver_all(smtp_settings)
    [mail] = [m for m in smtp.messages if "лимит" in m["Subject"]]
    assert mail["To"] == "ivanova@mail.ru"
    assert "1,00 ₽" in mail.get_body(("plain",)).get_content()
    assert (await autopay_of(shop.user))["active"] is True  # still on for the next bill


async def test_the_cap_counts_what_was_charged_this_month(shop: Shop, smtp, smtp_settings) -> None:
    await enabled(shop, cap="100000")
    await new_bill(1)
    first = await owed_on_newest_bill()
    next_day()
    assert await charge_all(shop) == 1 and len(shop.api.charges()) == 1
    await new_bill(2)  # another bill the same month (a correction, a late export)
    second = await owed_on_newest_bill()
    assert second > 0
    # The customer's limit is just below the two together.
    await Autopay.all().update(max_amount=first + second - Decimal("0.01"))
    next_day()
    assert await charge_all(shop) == 1
    assert len(shop.api.charges()) == 1
    assert [c.outcome for c in await AutopayCharge.all().order_by("id")] == ["paid", "over_cap"]
    await deliver_all(smtp_settings)
    [mail] = [m for m in smtp.messages if "лимит" in m["Subject"]]
    assert format_rub(first) in mail.get_body(("plain",)).get_content()  # charged already


async def test_refused_twice_turns_autopay_off_and_the_customer_is_told(
    shop: Shop, smtp, smtp_settings
) -> None:
    await enabled(shop)
    shop.api.charge_outcomes.extend(["insufficient_funds", "insufficient_funds"])

    await new_bill(1)
    next_day()
    assert await charge_all(shop) == 1
    assert (await autopay_of(shop.user))["active"] is True
    first = await OnlinePayment.get(external_id=list(shop.api.payments)[-1])
    assert first.status == PaymentStatus.CANCELED and first.failure_reason == "insufficient_funds"

    assert (await new_bill(2)).autopay_queued == 1
    next_day()
    assert await charge_all(shop) == 1
    assert len(shop.api.charges()) == 2
    assert await autopay_of(shop.user) == {
        "active": False,
        "method": None,
        "maxAmount": "5000.00",
        "waiting": False,
    }
    assert [c.outcome for c in await AutopayCharge.all().order_by("id")] == [
        "refused:insufficient_funds",
        "refused:insufficient_funds",
    ]
    # No more bills are queued.
    assert (await new_bill(3)).autopay_queued == 0

    await deliver_all(smtp_settings)
    refused = [m for m in smtp.messages if "Автоплатёж" in m["Subject"]]
    assert [m["Subject"] for m in refused] == [
        refused[0]["Subject"],
        f"Автоплатёж по лицевому счёту {ACCOUNT_1} отключён",
    ]
    assert "не прошёл" in refused[0]["Subject"]
    assert "Недостаточно денег для оплаты." in refused[0].get_body(("plain",)).get_content()


async def test_a_revoked_permission_turns_autopay_off_at_once(shop: Shop) -> None:
    await enabled(shop)
    shop.api.charge_outcomes.append("permission_revoked")
    await new_bill()
    next_day()
    assert await charge_all(shop) == 1
    assert (await autopay_of(shop.user))["active"] is False


async def test_a_method_the_acquirer_no_longer_knows_counts_as_refused(shop: Shop) -> None:
    await enabled(shop)
    shop.api.saved_methods.clear()  # YooKassa answers 400 on payment_method_id
    await new_bill()
    next_day()
    assert await charge_all(shop) == 1
    [row] = await AutopayCharge.all()
    assert row.state == ChargeState.DONE and row.outcome == "refused:invalid_request"
    payment = await OnlinePayment.get(id=row.payment_id)  # type: ignore[attr-defined]
    assert payment.status == PaymentStatus.FAILED
    assert (await Autopay.get()).refusals == 1


# ---------------------------------------------------------------- turning it off


async def test_disable_autopay_in_one_step(shop: Shop) -> None:
    await enabled(shop)
    assert (await new_bill(1)).autopay_queued == 1  # queued before it is turned off
    done = (await shop.user.data(DISABLE, {"id": await account_id(shop.user)}))["disableAutopay"]
    assert done["userErrors"] == []
    assert done["account"]["autopay"] == {
        "active": False,
        "method": None,
        "maxAmount": "5000.00",
        "waiting": False,
    }
    next_day()
    assert await charge_all(shop) == 1
    assert shop.api.charges() == []
    assert (await AutopayCharge.get()).outcome == "autopay_off"
    assert (await new_bill(2)).autopay_queued == 0


async def test_erasing_the_cabinet_forgets_its_card(shop: Shop) -> None:
    # Given autopay on, a bill queued for it, and its owner asking to delete the cabinet.
    await enabled(shop)
    assert (await new_bill(1)).autopay_queued == 1
    asked = (await shop.user.data(DELETE, {"p": PASSWORD}))["deleteCabinet"]
    assert asked["userErrors"] == [], asked
    # When the grace period ends and the cabinet is erased.
    clock.freeze(now() + dt.timedelta(days=get_settings().cabinet_deletion_grace_days))
    assert await privacy_jobs.run_once() == 1
    # Then the saved method is forgotten and the queued bill is never charged.
    autopay = await Autopay.get()
    assert (autopay.active_since, autopay.method_id, autopay.method_title) == (None, None, "")
    assert await charge_all(shop) == 1
    assert shop.api.charges() == []
    charge = await AutopayCharge.get()
    assert (charge.outcome, charge.method_id) == ("autopay_off", None)


async def test_another_cabinet_can_neither_see_nor_touch_it(shop: Shop, api: Api) -> None:
    await enabled(shop)
    mine = await account_id(shop.user)
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    assert codes(await enable(other, account=mine)) == ["NOT_FOUND"]
    disabled = (await other.data(DISABLE, {"id": mine}))["disableAutopay"]
    assert codes(disabled) == ["NOT_FOUND"]
    assert (await other.data(STATE, {"id": mine}))["node"] is None
    assert (await autopay_of(shop.user))["active"] is True


async def test_a_new_holder_of_the_account_does_not_see_the_old_ones_card(
    shop: Shop, api: Api
) -> None:
    await enabled(shop)
    mine = await account_id(shop.user)
    link = """mutation($n: String!, $a: String!) { linkAccount(input: {accountNumber: $n,
      paymentAmount: $a}) { account { id } userErrors { code } } }"""
    kept = (await shop.user.data(link, {"n": ACCOUNT_3, "a": AMOUNT_3}))["linkAccount"]
    assert kept["userErrors"] == [], kept  # a cabinet keeps one account at least
    unlink = "mutation($id: ID!) { unlinkAccount(input: {accountId: $id}) { userErrors { code } } }"
    assert (await shop.user.data(unlink, {"id": mine}))["unlinkAccount"]["userErrors"] == []
    # The account is linked by another cabinet now (a new tenant, proven by a payment).
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    linked = (await other.data(link, {"n": ACCOUNT_1, "a": AMOUNT_1}))["linkAccount"]
    assert linked["userErrors"] == [], linked
    state = (await other.data(STATE, {"id": linked["account"]["id"]}))["node"]["autopay"]
    assert state == {"active": False, "method": None, "maxAmount": None, "waiting": False}
    # Nor is the new holder's bill charged to the old holder's card.
    assert (await new_bill()).autopay_queued == 0


# ---------------------------------------------------------------- the sandbox (make run)


async def test_the_sandbox_simulates_a_saved_card(api: Api, client, settings) -> None:
    user = await api.signed_up()
    started = await enable(user, "10000")
    assert started["userErrors"] == []
    page = await client.get(started["payment"]["confirmationUrl"].split("lk.example.ru")[1])
    assert "будет сохранена для автоплатежа" in page.text
    assert (await press(client, started["payment"]["confirmationUrl"], "pay")).status_code == 200
    state = await autopay_of(user)
    assert state["active"] is True and state["method"] == "Bank card *4444"
    await new_bill()
    expected = await owed_on_newest_bill()
    next_day()
    charger = Charger(settings)
    assert await charger.run_once() == 1
    [row] = await AutopayCharge.all()
    payment = await OnlinePayment.get(id=row.payment_id)  # type: ignore[attr-defined]
    assert payment.status == PaymentStatus.SUCCEEDED and payment.amount == expected
