"""Paying without logging in: payableAccount, payAsGuest, guestPayment, the guest limits,
and NO_RECENT_PAYMENTS pointing at the guest payment page (issue 16 items 1 and 3).

Over HTTP through the app: the sandbox's page and its signed webhook, and the YooKassa
stand-in (tests/yookassa_api.py) with its checkout page."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from config import Settings
from models.accounts import Account
from models.billing import Payment
from models.mail import OutboxMessage
from models.payments import GuestPayment, OnlinePayment
from server import create_app
from tests.conftest import with_settings
from tests.mail_fixtures import deliver_all
from tests.payments.test_payments import _pk, press
from tests.payments.test_refunds import refund
from tests.payments.test_yookassa import Shop
from tests.support import ACCOUNT_1, ACCOUNT_2, SILENT_ACCOUNT, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

LOOKUP = """query($n: String!) { payableAccount(accountNumber: $n) {
  number holder street amountDue minimalAmount maximalAmount } }"""

PAY = """mutation($input: PayAsGuestInput!) { payAsGuest(input: $input) {
  payment { id status amount confirmationUrl }
  statusToken
  userErrors { field message code retryAfter } } }"""

STATUS = """query($t: String!) { guestPayment(statusToken: $t) {
  status amount accountNumber holder completedAt confirmationUrl failureReason } }"""


def guest_input(**changes: str) -> dict:
    return {
        "input": {
            "accountNumber": ACCOUNT_1,
            "amount": "250,50",
            "email": "payer@example.ru",
            "idempotencyKey": "guest-1",
            **changes,
        }
    }


async def pay_as_guest(api: Api, headers: dict[str, str] | None = None, **changes: str) -> dict:
    return (await api.data(PAY, guest_input(**changes), **(headers or {})))["payAsGuest"]


async def ledger(number: str = ACCOUNT_1) -> tuple[Decimal, int]:
    account = await Account.get(number=number)
    return account.balance, await Payment.filter(account=account).count()


# ---------------------------------------------------------------- looking the payee up


async def test_the_payee_is_shown_masked_and_the_amount_due_only_when_configured(
    api: Api, settings: Settings, client: httpx.AsyncClient
) -> None:
    found = (await api.data(LOOKUP, {"n": "0012 3456 7890"}))["payableAccount"]
    assert found == {
        "number": ACCOUNT_1,
        "holder": "И*****а М. П.",
        "street": "г. Нижний Новгород, ул. Рождественская",
        "amountDue": None,
        "minimalAmount": "10.00",
        "maximalAmount": "100000.00",
    }
    assert (await api.data(LOOKUP, {"n": "009999999999"}))["payableAccount"] is None
    assert (await api.data(LOOKUP, {"n": "not a number"}))["payableAccount"] is None

    with_settings(settings, guest_shows_amount_due=True)
    shown = (await api.data(LOOKUP, {"n": ACCOUNT_1}))["payableAccount"]
    balance = (await Account.get(number=ACCOUNT_1)).balance
    assert Decimal(shown["amountDue"]) == max(balance, Decimal(0))


# ---------------------------------------------------------------- the sandbox, end to end


async def test_a_guest_pays_through_the_sandbox_and_the_account_is_credited(
    api: Api, client: httpx.AsyncClient, smtp, smtp_settings: Settings
) -> None:
    balance, count = await ledger()
    started = await pay_as_guest(api)
    assert started["userErrors"] == []
    payment = started["payment"]
    assert payment["status"] == "PENDING" and payment["amount"] == "250.50"
    row = await OnlinePayment.get(id=_pk(payment["id"]))
    assert row.cabinet_id is None  # the contract: a guest payment has no cabinet
    guest = await GuestPayment.get(payment_id=row.id)
    assert guest.email == "payer@example.ru" and guest.client_key == "203.0.113.7"

    token = started["statusToken"]
    status = (await api.data(STATUS, {"t": token}))["guestPayment"]
    assert status["status"] == "PENDING" and status["accountNumber"] == ACCOUNT_1
    assert status["holder"] == "И*****а М. П."

    # the payer presses Pay on the sandbox's page; it comes back to the guest page
    done = await press(client, payment["confirmationUrl"], "pay")
    assert done.status_code == 200 and "Оплата прошла" in done.text
    assert "https://lk.example.ru/pay?status=" in done.text

    status = (await api.data(STATUS, {"t": token}))["guestPayment"]
    assert status["status"] == "SUCCEEDED" and status["completedAt"] is not None
    assert status["confirmationUrl"] is None
    # credited like any online payment
    assert await ledger() == (balance - Decimal("250.50"), count + 1)
    ledger_row = await Payment.get(id=(await OnlinePayment.get(id=row.id)).ledger_payment_id)
    assert ledger_row.channel == "Личный кабинет"

    # the receipt goes to the address the payer gave, without the account's balance
    await deliver_all(smtp_settings)
    [message] = [m for m in smtp.messages if "250,50" in m["Subject"]]
    assert message["To"] == "payer@example.ru"
    text = message.get_body(("plain",)).get_content()
    assert "И*****а М. П." in text and row.external_id in text
    assert "Иванова" not in text and "долг" not in text.lower()
    assert await OutboxMessage.filter(template="guest_payment_received").count() == 1

    # the same key again: the same payment
    again = await pay_as_guest(api)
    assert again["payment"]["id"] == payment["id"]
    assert codes(await pay_as_guest(api, amount="300")) == ["IDEMPOTENCY_KEY_REUSED"]
    assert codes(await pay_as_guest(api, email="other@example.ru")) == ["IDEMPOTENCY_KEY_REUSED"]


async def test_a_damaged_status_token_shows_nothing(api: Api) -> None:
    token = (await pay_as_guest(api))["statusToken"]
    assert (await api.data(STATUS, {"t": token[:-2] + "xx"}))["guestPayment"] is None
    assert (await api.data(STATUS, {"t": "nonsense"}))["guestPayment"] is None


async def test_a_guest_payment_is_no_cabinets_node(api: Api) -> None:
    payment = (await pay_as_guest(api))["payment"]
    user = await api.signed_up()
    found = await user.data("query($id: ID!) { node(id: $id) { id } }", {"id": payment["id"]})
    assert found["node"] is None


# ---------------------------------------------------------------- the input


async def test_amount_bounds_and_typed_errors(api: Api, settings: Settings) -> None:
    assert codes(await pay_as_guest(api, amount="9.99")) == ["AMOUNT_TOO_SMALL"]
    too_small = await pay_as_guest(api, amount="9.99")
    assert "10,00" in too_small["userErrors"][0]["message"]
    assert codes(await pay_as_guest(api, amount="100000.01")) == ["AMOUNT_TOO_LARGE"]
    assert codes(await pay_as_guest(api, amount="abc")) == ["INVALID_AMOUNT"]
    assert codes(await pay_as_guest(api, amount="100000.00", idempotencyKey="max")) == []
    assert codes(await pay_as_guest(api, amount="10", idempotencyKey="min")) == []
    with_settings(settings, guest_min_amount=Decimal("50"), guest_max_amount=Decimal("60"))
    assert codes(await pay_as_guest(api, amount="49.99", idempotencyKey="k2")) == [
        "AMOUNT_TOO_SMALL"
    ]
    assert codes(await pay_as_guest(api, amount="60.01", idempotencyKey="k2")) == [
        "AMOUNT_TOO_LARGE"
    ]
    # several problems of form at once, each on its field; none costs an attempt
    many = await pay_as_guest(api, accountNumber="12ab", email="nope", idempotencyKey="")
    assert {tuple(e["field"] or ()) for e in many["userErrors"]} == {
        ("accountNumber",),
        ("amount",),
        ("email",),
        ("idempotencyKey",),
    }
    assert codes(
        await pay_as_guest(api, accountNumber="009999999999", amount="55", idempotencyKey="k3")
    ) == ["NOT_FOUND"]
    assert await OnlinePayment.filter(cabinet_id__isnull=True).count() == 2


async def test_no_online_payments_no_guest_payment(api: Api, settings: Settings) -> None:
    with_settings(settings, payment_provider="none")
    assert codes(await pay_as_guest(api)) == ["PAYMENTS_UNAVAILABLE"]
    assert await OnlinePayment.all().count() == 0


# ---------------------------------------------------------------- the limits

# payableAccount counts a guest attempt each time it resolves: differential execution would
# count every lookup twice and refuse at half the limit (tests/conftest.py).
COUNTS_EACH_EXECUTION = pytest.mark.single_execution


@COUNTS_EACH_EXECUTION
async def test_the_31st_guest_call_from_one_address_is_refused(
    api: Api, client: httpx.AsyncClient
) -> None:
    """Lookups and payments count together per client IP; X-Forwarded-For from a peer
    that is no trusted proxy changes nothing."""
    numbers = ["0012345678" + f"{i:02d}" for i in range(20)]  # spread over many accounts
    for i in range(29):
        await api.data(LOOKUP, {"n": numbers[i % 20]}, x_forwarded_for=f"198.51.100.{i}")
    assert codes(await pay_as_guest(api, accountNumber=ACCOUNT_2)) == []  # the 30th
    refused = await api(LOOKUP, {"n": ACCOUNT_1}, x_forwarded_for="198.51.100.200")
    assert refused["data"]["payableAccount"] is None
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_ATTEMPTS"
    assert error["extensions"]["retryAfter"]
    payment = await pay_as_guest(api, {"x_forwarded_for": "192.0.2.1"}, idempotencyKey="other")
    assert codes(payment) == ["TOO_MANY_ATTEMPTS"] and payment["userErrors"][0]["retryAfter"]

    # another client is not affected
    transport = httpx.ASGITransport(app=client._transport.app, client=("192.0.2.50", 1))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as other:
        found = await Api(other).data(LOOKUP, {"n": ACCOUNT_2})
        assert found["payableAccount"]["number"] == ACCOUNT_2


@COUNTS_EACH_EXECUTION
async def test_the_limit_per_account_counts_every_client(
    api: Api, settings: Settings, client: httpx.AsyncClient
) -> None:
    with_settings(settings, guest_attempts_per_account=3)
    app = create_app(dataclasses.replace(settings, guest_attempts_per_account=3), manage_db=False)
    for i in range(3):
        transport = httpx.ASGITransport(app=app, client=(f"192.0.2.{i + 1}", 1))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            assert (await Api(http).data(LOOKUP, {"n": ACCOUNT_1}))["payableAccount"]
    assert codes(await pay_as_guest(api)) == ["TOO_MANY_ATTEMPTS"]
    assert (await api.data(LOOKUP, {"n": ACCOUNT_2}))["payableAccount"]["number"] == ACCOUNT_2


@COUNTS_EACH_EXECUTION
async def test_aliases_in_one_document_count_one_each(api: Api, settings: Settings) -> None:
    with_settings(settings, guest_attempts_per_hour=3)
    aliases = " ".join(
        f'a{i}: payableAccount(accountNumber: "{ACCOUNT_1}") {{ number }}' for i in range(4)
    )
    answer = await api(f"{{ {aliases} }}")
    found = [answer["data"][f"a{i}"] for i in range(4)] if answer.get("data") else []
    assert sum(1 for f in found if f) == 3
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["TOO_MANY_ATTEMPTS"]


# ---------------------------------------------------------------- closing the recovery loop

RECOVERY = """mutation($n: String!, $a: String!) {
  startRecoveryWithoutEmail(input: {accountNumber: $n, paymentAmount: $a}) {
    minimalPayment userErrors { code message ... on StartRecoveryWithoutEmailError {
      minimalPayment payUrl } } } }"""

LINK = """mutation($n: String!, $a: String!) {
  linkAccount(input: {accountNumber: $n, paymentAmount: $a}) {
    userErrors { code ... on LinkAccountError { minimalPayment payUrl } } } }"""


async def test_no_recent_payments_points_at_the_guest_page_and_that_payment_proves(
    api: Api, client: httpx.AsyncClient
) -> None:
    answer = (await api.data(RECOVERY, {"n": SILENT_ACCOUNT, "a": "10"}))[
        "startRecoveryWithoutEmail"
    ]
    [error] = answer["userErrors"]
    assert error["code"] == "NO_RECENT_PAYMENTS"
    assert error["minimalPayment"] == "10.00"
    url = urlsplit(error["payUrl"])
    assert (url.scheme, url.netloc, url.path) == ("https", "lk.example.ru", "/pay")
    assert parse_qs(url.query) == {"account": [SILENT_ACCOUNT], "amount": ["10.00"]}

    user = await api.signed_up(ACCOUNT_2, "2750.00", "petrov@example.ru")
    linked = (await user.data(LINK, {"n": SILENT_ACCOUNT, "a": "10"}))["linkAccount"]
    assert linked["userErrors"] == [
        {"code": "NO_RECENT_PAYMENTS", "minimalPayment": "10.00", "payUrl": error["payUrl"]}
    ]

    # the page's payment, once it arrived, is a payment of the last year like any other
    params = parse_qs(url.query)
    paid = await pay_as_guest(
        api, accountNumber=params["account"][0], amount=params["amount"][0], idempotencyKey="p"
    )
    await press(client, paid["payment"]["confirmationUrl"], "pay")
    again = (await api.data(RECOVERY, {"n": SILENT_ACCOUNT, "a": "10"}))[
        "startRecoveryWithoutEmail"
    ]
    # proven now: the account simply has no cabinet to recover
    assert [e["code"] for e in again["userErrors"]] == ["NO_CABINET"]


# ---------------------------------------------------------------- the YooKassa stand-in


async def test_a_guest_pays_through_yookassa(shop: Shop) -> None:
    api = Api(shop.stranger)
    balance, count = await ledger()
    started = await pay_as_guest(api, amount="1200")
    assert started["userErrors"] == []
    [created] = shop.api.payments.values()
    body = created["request"]
    assert body["receipt"]["customer"] == {"email": "payer@example.ru"}
    # back to the guest page, whose token names this payment (signed apart from the
    # answer's, so compared by what it shows)
    back = urlsplit(body["confirmation"]["return_url"])
    assert (back.scheme, back.netloc, back.path) == ("https", "lk.example.ru", "/pay")
    [returned] = parse_qs(back.query)["status"]
    shown_back = (await api.data(STATUS, {"t": returned}))["guestPayment"]
    assert shown_back["amount"] == "1200.00" and shown_back["accountNumber"] == ACCOUNT_1

    # the payer's browser on YooKassa's checkout page, then YooKassa's notification
    page = urlsplit(started["payment"]["confirmationUrl"])
    async with httpx.AsyncClient(base_url=f"{page.scheme}://{page.netloc}") as browser:
        shown = await browser.get(f"{page.path}?{page.query}")
        assert shown.status_code == 200 and "1 200" in shown.text.replace("\xa0", " ")
    [external_id] = shop.api.payments
    shop.api.succeed(external_id)
    answer = await shop.notify(external_id, "payment.succeeded")
    assert answer.status_code == 200 and answer.json()["status"] == "recorded"
    status = (await api.data(STATUS, {"t": started["statusToken"]}))["guestPayment"]
    assert status["status"] == "SUCCEEDED"
    assert await ledger() == (balance - 1200, count + 1)


async def test_a_guest_payment_is_refunded_to_the_payer(shop: Shop) -> None:
    """The operator's refund: the acquirer's refund receipt goes to the payer's address;
    no notice of ours (it would tell the payer the account's balance)."""
    api = Api(shop.stranger)
    started = await pay_as_guest(api, amount="700")
    [external_id] = shop.api.payments
    shop.api.succeed(external_id)
    assert (await shop.notify(external_id, "payment.succeeded")).status_code == 200
    balance, _count = await ledger()

    done = await refund(shop, started["payment"]["id"])
    assert done.returncode == 0, done.stderr
    [made] = shop.api.refunds.values()
    assert made["request"]["receipt"]["customer"] == {"email": "payer@example.ru"}
    assert (await ledger())[0] == balance + 700
    assert await OutboxMessage.filter(template="payment_refunded").count() == 0
    status = (await api.data(STATUS, {"t": started["statusToken"]}))["guestPayment"]
    assert status["status"] == "REFUNDED"
