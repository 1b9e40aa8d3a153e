"""Paying a bill: payBill, the sandbox's page, the signed webhook, history, balance, mail.

The whole flow runs over HTTP through the app, as a customer's browser and an
acquirer would drive it: payBill gives a confirmation URL, the browser opens the
sandbox's page and presses Pay, the sandbox POSTs its signed notification to the
webhook, and the payment shows in the account's history and balance.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import re
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest

from config import Settings
from models.accounts import Account
from models.billing import Payment
from models.mail import OutboxMessage
from models.payments import OnlinePayment, PaymentStatus
from payments.providers import provider_for
from payments.signing import HEADER, sign, webhook_secret
from server import create_app
from services.core.clock import clock
from services.payments.sweeper import Sweeper
from tests.conftest import with_settings
from tests.mail_fixtures import deliver_all
from tests.support import ACCOUNT_1, ACCOUNT_3, AMOUNT_3, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

PAY = """
mutation Pay($input: PayBillInput!) {
  payBill(input: $input) {
    payment { id status amount confirmationUrl createdAt completedAt account { number } }
    userErrors { field message code }
  }
}"""

STATUS = (
    "query($id: ID!) { onlinePayment(id: $id) { id status amount confirmationUrl completedAt } }"
)

HISTORY = """{ me { accounts { number balance balanceOn
  payments(first: 3) { totalCount nodes { amount channel paidAt } } } } }"""

RECOVERY = """mutation($n: String!, $a: String!) {
  startRecoveryWithoutEmail(input: {accountNumber: $n, paymentAmount: $a}) {
    recoveryToken userErrors { code } } }"""


def gid(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


async def account_id(user: Api, number: str = ACCOUNT_1) -> str:
    accounts = (await user.data("{ me { accounts { id number } } }"))["me"]["accounts"]
    return next(a["id"] for a in accounts if a["number"] == number)


async def pay(user: Api, amount: str, key: str = "pay-1", number: str = ACCOUNT_1) -> dict:
    variables = {
        "input": {
            "accountId": await account_id(user, number),
            "amount": amount,
            "idempotencyKey": key,
        }
    }
    return (await user.data(PAY, variables))["payBill"]


async def press(client: httpx.AsyncClient, confirmation_url: str, action: str) -> httpx.Response:
    """What the customer's browser does: open the page, press the button."""
    path = urlsplit(confirmation_url).path
    page = await client.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["x-frame-options"] == "DENY"
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)[1]
    return await client.post(path, data={"csrf": csrf, "action": action})


def notification(external_id: str, amount: str, status: str = "succeeded") -> bytes:
    return json.dumps(
        {
            "id": f"evt-{external_id}-{status}",
            "type": f"payment.{status}",
            "payment": {
                "id": external_id,
                "amount": amount,
                "currency": "RUB",
                "status": status,
                "paid_at": clock.now().isoformat(),
            },
        }
    ).encode()


async def post_webhook(client: httpx.AsyncClient, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[HEADER] = signature
    return await client.post("/payments/webhook/sandbox", content=body, headers=headers)


async def receipts_mailed() -> int:
    return await OutboxMessage.filter(template="payment_received").count()


async def ledger_of(number: str = ACCOUNT_1) -> tuple[Decimal, int]:
    account = await Account.get(number=number)
    return account.balance, await Payment.filter(account=account).count()


# ---------------------------------------------------------------- the whole flow


async def test_paying_through_the_sandbox(
    api: Api, client: httpx.AsyncClient, smtp, smtp_settings: Settings
) -> None:
    user = await api.signed_up()
    balance, payments_before = await ledger_of()

    # payBill: a pending payment and where to confirm it
    started = await pay(user, "1 234,56")
    assert started["userErrors"] == []
    payment = started["payment"]
    assert payment["status"] == "PENDING" and payment["amount"] == "1234.56"
    assert payment["account"]["number"] == ACCOUNT_1 and payment["completedAt"] is None
    assert payment["confirmationUrl"].startswith("https://lk.example.ru/payments/sandbox/")

    # the customer presses Pay on the sandbox's page; it notifies the webhook
    done = await press(client, payment["confirmationUrl"], "pay")
    assert done.status_code == 200
    assert "Оплата прошла" in done.text and "HTTP 200" in done.text
    # and sends the customer back to the cabinet's page of this very payment
    back = f'href="https://lk.example.ru/payments?payment={payment["id"]}"'
    assert back in done.text

    status = (await user.data(STATUS, {"id": payment["id"]}))["onlinePayment"]
    assert status["status"] == "SUCCEEDED" and status["confirmationUrl"] is None
    assert status["completedAt"] is not None

    # in the history, the balance, the ledger; once
    account = (await user.data(HISTORY))["me"]["accounts"][0]
    newest = account["payments"]["nodes"][0]
    assert newest["amount"] == "1234.56" and newest["channel"] == "Личный кабинет"
    assert account["payments"]["totalCount"] == payments_before + 1
    assert Decimal(account["balance"]) == balance - Decimal("1234.56")
    row = await OnlinePayment.get(id=_pk(payment["id"]))
    ledger = await Payment.get(id=row.ledger_payment_id)
    assert ledger.external_id == row.external_id and row.external_id.startswith("sbx_")

    # the receipt of payment, through the outbox
    await deliver_all(smtp_settings)
    [message] = [m for m in smtp.messages if "Платёж" in m["Subject"]]
    assert message["To"] == "ivanova@mail.ru"
    assert "1 234,56" in message["Subject"] and ACCOUNT_1 in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert row.external_id in text and "квитанция об оплате" in text

    # pressing Pay again sends the same event again: nothing changes
    again = await press(client, payment["confirmationUrl"], "pay")
    assert again.status_code == 200
    assert await ledger_of() == (balance - Decimal("1234.56"), payments_before + 1)
    assert await receipts_mailed() == 1


async def test_canceling_through_the_sandbox(api: Api, client: httpx.AsyncClient) -> None:
    user = await api.signed_up()
    before = await ledger_of()
    payment = (await pay(user, "500"))["payment"]
    done = await press(client, payment["confirmationUrl"], "cancel")
    assert "Оплата отменена" in done.text
    status = (await user.data(STATUS, {"id": payment["id"]}))["onlinePayment"]
    assert status["status"] == "CANCELED"
    # A success arriving after the cancel changes nothing either.
    late = await press(client, payment["confirmationUrl"], "pay")
    assert late.status_code == 200
    assert (await user.data(STATUS, {"id": payment["id"]}))["onlinePayment"]["status"] == (
        "CANCELED"
    )
    assert await ledger_of() == before
    assert await receipts_mailed() == 0


def _pk(global_id: str) -> int:
    return int(base64.urlsafe_b64decode(global_id + "==").decode().split(":")[1])


# ---------------------------------------------------------------- the webhook


async def test_unsigned_tampered_and_stale_webhooks_change_nothing(
    api: Api, client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await api.signed_up()
    payment = (await pay(user, "300"))["payment"]
    row = await OnlinePayment.get(id=_pk(payment["id"]))
    before = await ledger_of()
    secret = webhook_secret(settings)
    body = notification(row.external_id, "300.00")

    assert (await post_webhook(client, body, None)).status_code == 401
    assert (await post_webhook(client, body, "t=1,v1=00")).status_code == 401
    assert (await post_webhook(client, body, sign(b"another secret", body))).status_code == 401
    tampered = body.replace(b'"300.00"', b'"3.00"')
    assert (await post_webhook(client, tampered, sign(secret, body))).status_code == 401
    stale = int((clock.now() - dt.timedelta(minutes=6)).timestamp())
    assert (await post_webhook(client, body, sign(secret, body, stale))).status_code == 401

    assert (await OnlinePayment.get(id=row.id)).status == PaymentStatus.PENDING
    assert await ledger_of() == before

    # Signed, but for another amount than ordered: refused, recorded nowhere.
    other = notification(row.external_id, "3000.00")
    assert (await post_webhook(client, other, sign(secret, other))).status_code == 409
    unknown = notification("sbx_unknown", "300.00")
    assert (await post_webhook(client, unknown, sign(secret, unknown))).status_code == 404
    assert (await OnlinePayment.get(id=row.id)).status == PaymentStatus.PENDING
    assert await ledger_of() == before


async def test_a_replayed_webhook_changes_nothing(
    api: Api, client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await api.signed_up()
    payment = (await pay(user, "300"))["payment"]
    row = await OnlinePayment.get(id=_pk(payment["id"]))
    balance, count = await ledger_of()
    body = notification(row.external_id, "300.00")
    signature = sign(webhook_secret(settings), body)

    first = await post_webhook(client, body, signature)
    assert first.status_code == 200 and first.json()["status"] == "recorded"
    replayed = await asyncio.gather(*(post_webhook(client, body, signature) for _ in range(3)))
    assert [r.json() for r in replayed] == [{"status": "unchanged", "payment": "succeeded"}] * 3
    assert await ledger_of() == (balance - 300, count + 1)
    assert await receipts_mailed() == 1


# ---------------------------------------------------------------- the sandbox's page


async def test_the_sandbox_page_refuses_forged_posts(api: Api, client: httpx.AsyncClient) -> None:
    user = await api.signed_up()
    payment = (await pay(user, "300"))["payment"]
    path = urlsplit(payment["confirmationUrl"]).path
    page = await client.get(path)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)[1]

    cross_site = await client.post(
        path, data={"csrf": csrf, "action": "pay"}, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    assert (await client.post(path, data={"csrf": "0" * 64, "action": "pay"})).status_code == 403
    client.cookies.clear()  # a forged form from elsewhere carries no cookie of ours
    assert (await client.post(path, data={"csrf": csrf, "action": "pay"})).status_code == 403
    assert (await client.get(path[:-3] + "xyz")).status_code == 404
    assert (await OnlinePayment.get(id=_pk(payment["id"]))).status == PaymentStatus.PENDING


# ---------------------------------------------------------------- payBill's rules


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("0", "INVALID_AMOUNT"),
        ("-5", "INVALID_AMOUNT"),
        ("десять", "INVALID_AMOUNT"),
        ("10.005", "INVALID_AMOUNT"),
        ("100000.01", "AMOUNT_TOO_LARGE"),
    ],
)
async def test_amount_limits(api: Api, amount: str, code: str) -> None:
    user = await api.signed_up()
    result = await pay(user, amount)
    assert codes(result) == [code] and result["userErrors"][0]["field"] == ["amount"]
    assert result["payment"] is None
    assert await OnlinePayment.all().count() == 0


async def test_the_largest_amount_is_a_setting(api: Api, settings: Settings) -> None:
    user = await api.signed_up()
    assert codes(await pay(user, "100000.00")) == []
    with_settings(settings, payment_max_amount=Decimal("5000.00"))
    result = await pay(user, "5000.01", key="pay-2")
    assert codes(result) == ["AMOUNT_TOO_LARGE"]
    assert "5\u00a0000,00 ₽" in result["userErrors"][0]["message"]


async def test_only_the_viewers_accounts(api: Api) -> None:
    other = await api.signed_up(ACCOUNT_3, AMOUNT_3, "kuznetsova@mail.ru")
    theirs = await account_id(other, ACCOUNT_3)
    user = await api.signed_up()
    for target in (theirs, "garbage", gid("Account", 10**9)):
        data = await user.data(
            PAY, {"input": {"accountId": target, "amount": "100", "idempotencyKey": "k"}}
        )
        assert codes(data["payBill"]) == ["NOT_FOUND"]
    mine = (await pay(other, "100", number=ACCOUNT_3))["payment"]
    assert (await user.data(STATUS, {"id": mine["id"]}))["onlinePayment"] is None
    api.http.cookies.clear()  # the logins above left a session cookie
    anonymous = await api(STATUS, {"id": mine["id"]})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_same_key_never_makes_a_second_payment(api: Api) -> None:
    user = await api.signed_up()
    first = await pay(user, "250", key="tap-once")
    again = await pay(user, "250,00", key="tap-once")
    assert again["payment"]["id"] == first["payment"]["id"]
    assert again["payment"]["confirmationUrl"] == first["payment"]["confirmationUrl"]
    at_once = await asyncio.gather(*(pay(user, "250", key="tap-twice") for _ in range(6)))
    assert len({r["payment"]["id"] for r in at_once}) == 1
    assert await OnlinePayment.all().count() == 2
    changed = await pay(user, "260", key="tap-once")
    assert codes(changed) == ["IDEMPOTENCY_KEY_REUSED"]
    assert codes(await pay(user, "260", key="")) == ["INVALID_IDEMPOTENCY_KEY"]


async def test_an_acquirer_that_is_down(api: Api, settings: Settings) -> None:
    token = (await api.signed_up()).token
    down = with_settings(settings, payment_provider="tests.acquirer")
    transport = httpx.ASGITransport(app=create_app(down, manage_db=False))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        user = Api(http, token)
        result = await pay(user, "100", key="down-1")
        assert codes(result) == ["PROVIDER_UNAVAILABLE"] and result["payment"] is None
        row = await OnlinePayment.get(idempotency_key="down-1")
        assert row.status == PaymentStatus.PENDING and row.confirmation_url == ""
        # Retrying the key asks the acquirer again for the same order, creates nothing.
        assert codes(await pay(user, "100", key="down-1")) == ["PROVIDER_UNAVAILABLE"]
    asked = provider_for(down).asked  # type: ignore[attr-defined]
    assert [order.id for order in asked] == [row.id, row.id]
    assert await OnlinePayment.all().count() == 1


# ---------------------------------------------------------------- the timeout


async def test_payments_left_pending_fail_after_the_timeout(
    api: Api, client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await api.signed_up()
    payment = (await pay(user, "300"))["payment"]
    sweeper = Sweeper(settings)
    clock.advance(dt.timedelta(minutes=29))
    assert await sweeper.run_once() == 0
    clock.advance(dt.timedelta(minutes=2))
    assert await sweeper.run_once() == 1
    status = (await user.data(STATUS, {"id": payment["id"]}))["onlinePayment"]
    assert status["status"] == "FAILED" and status["confirmationUrl"] is None

    # The sandbox's page has expired by now; but if an acquirer reports the money taken
    # after we gave up, the money wins.
    expired = await client.get(urlsplit(payment["confirmationUrl"]).path)
    assert expired.status_code == 410
    row = await OnlinePayment.get(id=_pk(payment["id"]))
    body = notification(row.external_id, "300.00")
    late = await post_webhook(client, body, sign(webhook_secret(settings), body))
    assert late.json() == {"status": "recorded", "payment": "succeeded"}
    assert await Payment.filter(external_id=row.external_id).count() == 1


async def test_the_sweeper_runs_in_the_server_lifespan(api: Api, settings: Settings) -> None:
    user = await api.signed_up()
    await pay(user, "300")
    clock.advance(dt.timedelta(minutes=31))
    app = create_app(settings, manage_db=False, payment_sweeper=True)
    async with app.router.lifespan_context(app):
        task = app.state.payment_sweeper
        assert task is not None and not task.done()
        for _ in range(100):  # its first round runs at once
            if await OnlinePayment.filter(status=PaymentStatus.FAILED).exists():
                break
            await asyncio.sleep(0.05)
    assert task.done() and task.exception() is None
    assert await OnlinePayment.filter(status=PaymentStatus.FAILED).count() == 1
    quiet = create_app(settings, manage_db=False)
    async with quiet.router.lifespan_context(quiet):
        assert quiet.state.payment_sweeper is None


# ---------------------------------------------------------------- proof of ownership


async def test_a_payment_made_here_proves_ownership(api: Api, client: httpx.AsyncClient) -> None:
    user = await api.signed_up()
    payment = (await pay(user, "77.77"))["payment"]
    before = (await api.data(RECOVERY, {"n": ACCOUNT_1, "a": "77.77"}))["startRecoveryWithoutEmail"]
    assert codes(before) == ["INVALID_PROOF"]  # pending: no money yet, no proof
    await press(client, payment["confirmationUrl"], "pay")
    after = (await api.data(RECOVERY, {"n": ACCOUNT_1, "a": "77,77"}))["startRecoveryWithoutEmail"]
    assert after["userErrors"] == [] and after["recoveryToken"]
