"""PAYMENT_PROVIDER=yookassa against a YooKassa API of the tests' own (tests/yookassa_api.py),
over real HTTP both ways: payBill -> POST /payments, YooKassa's notification -> our webhook
-> GET /payments/{id}."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio

from config import ConfigError, Settings, load_settings
from models.accounts import Account
from models.billing import Payment
from models.payments import OnlinePayment, PaymentStatus
from server import create_app
from services.payments.sweeper import Sweeper
from tests.conftest import with_settings
from tests.payments.test_payments import PAY, STATUS, _pk, account_id
from tests.support import ACCOUNT_1, Api, codes
from tests.yookassa_api import SECRET_KEY, SHOP_ID, YooKassaApi, running_api

pytestmark = pytest.mark.usefixtures("demo_data")

YOOKASSA_ADDRESS = "185.71.76.10"  # inside 185.71.76.0/27, YooKassa's published list
WEBHOOK = "/payments/webhook/yookassa"


@dataclass
class Shop:
    api: YooKassaApi
    settings: Settings
    user: Api
    yookassa: httpx.AsyncClient  # requests from YooKassa's address
    stranger: httpx.AsyncClient  # requests from anywhere else

    async def pay(self, amount: str, key: str = "yk-1", method: str | None = None) -> dict:
        variables = {
            "input": {
                "accountId": await account_id(self.user),
                "amount": amount,
                "idempotencyKey": key,
                "method": method,
            }
        }
        return (await self.user.data(PAY, variables))["payBill"]

    async def notify(self, payment_id: str, event: str, via: httpx.AsyncClient | None = None):
        body = {
            "type": "notification",
            "event": event,
            "object": {"id": payment_id, "status": event.split(".")[1], "paid": True},
        }
        return await (via or self.yookassa).post(WEBHOOK, json=body)


@pytest.fixture
def api_server() -> Iterator[YooKassaApi]:
    with running_api() as server:
        yield server


@pytest_asyncio.fixture
async def shop(api: Api, settings: Settings, api_server: YooKassaApi) -> AsyncIterator[Shop]:
    token = (await api.signed_up()).token
    configured = with_settings(
        settings,
        payment_provider="yookassa",
        yookassa_shop_id=SHOP_ID,
        yookassa_secret_key=SECRET_KEY,
        yookassa_api_url=api_server.url,
        yookassa_timeout_seconds=0.3,
        yookassa_retry_base_seconds=0.01,
        yookassa_tax_system_code=2,
    )
    app = create_app(configured, manage_db=False)

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="https://testserver")

    async with client("203.0.113.7") as http, client(YOOKASSA_ADDRESS) as yookassa:
        yield Shop(api_server, configured, Api(http, token), yookassa, http)


async def ledger() -> tuple[Decimal, int]:
    account = await Account.get(number=ACCOUNT_1)
    return account.balance, await Payment.filter(account=account).count()


async def status_of(shop: Shop, payment: dict) -> str:
    return (await shop.user.data(STATUS, {"id": payment["id"]}))["onlinePayment"]["status"]


# ---------------------------------------------------------------- payBill


async def test_pay_bill_creates_the_payment_yookassa_expects(shop: Shop) -> None:
    started = await shop.pay("1 234,5")
    assert started["userErrors"] == []
    payment = started["payment"]
    [created] = shop.api.payments.values()
    assert payment["confirmationUrl"] == created["confirmation"]["confirmation_url"]
    assert payment["status"] == "PENDING"
    row = await OnlinePayment.get(id=_pk(payment["id"]))
    assert row.external_id == created["id"]
    body = created["request"]
    amount = {"value": "1234.50", "currency": "RUB"}
    assert body["amount"] == amount and body["capture"] is True
    assert body["confirmation"] == {
        "type": "redirect",
        "return_url": f"https://lk.example.ru/payments?payment={payment['id']}",
    }
    assert body["description"] == f"Оплата электроэнергии, лицевой счёт {ACCOUNT_1}"
    assert body["metadata"] == {"payment_id": str(row.id), "account_number": ACCOUNT_1}
    assert "payment_method_data" not in body
    assert body["receipt"] == {
        "customer": {"email": "ivanova@mail.ru"},
        "items": [
            {
                "description": body["description"],
                "quantity": "1.00",
                "amount": amount,
                "vat_code": 1,
                "payment_subject": "service",
                "payment_mode": "full_payment",
            }
        ],
        "tax_system_code": 2,
    }
    # The same key again: the same payment, and YooKassa is not asked again.
    again = await shop.pay("1234.50")
    assert again["payment"]["id"] == payment["id"]
    assert len(shop.api.requests) == 1


@pytest.mark.parametrize(("method", "kind"), [("SBP", "sbp"), ("SBERPAY", "sberbank")])
async def test_the_app_may_choose_the_method(shop: Shop, method: str, kind: str) -> None:
    assert (await shop.pay("100", method=method))["userErrors"] == []
    [body] = shop.api.created()
    assert body["payment_method_data"] == {"type": kind}


async def test_a_timeout_is_retried_with_the_same_key_and_makes_one_payment(shop: Shop) -> None:
    # YooKassa creates the payment, but its answer comes after our timeout, every time.
    shop.api.fail_next("timeout", "timeout", "timeout")
    failed = await shop.pay("300", key="slow")
    assert codes(failed) == ["PROVIDER_UNAVAILABLE"] and failed["payment"] is None
    row = await OnlinePayment.get(idempotency_key="slow")
    assert row.status == PaymentStatus.PENDING and row.confirmation_url == ""
    # payBill retried by the app: the same Idempotence-Key finds the payment made before.
    retried = await shop.pay("300", key="slow")
    assert retried["userErrors"] == []
    assert len(shop.api.payments) == 1 and len(shop.api.requests) == 4
    keys = {key for key, _ in shop.api.keys.items()}
    assert len(keys) == 1
    [created] = shop.api.payments.values()
    assert retried["payment"]["confirmationUrl"] == created["confirmation"]["confirmation_url"]
    assert await OnlinePayment.all().count() == 1


async def test_a_429_then_success(shop: Shop) -> None:
    shop.api.fail_next("429", "500")
    started = await shop.pay("300")
    assert started["userErrors"] == [] and started["payment"]["confirmationUrl"]
    assert len(shop.api.requests) == 3 and len(shop.api.payments) == 1


async def test_a_refusal_is_a_typed_error_and_logged_with_its_code(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    shop.api.fail_next("400")
    with caplog.at_level(logging.ERROR, "kabinet.payments"):
        refused = await shop.pay("300")
    assert codes(refused) == ["PROVIDER_REFUSED"] and refused["payment"] is None
    assert "invalid_request" in caplog.text
    assert len(shop.api.requests) == 1  # a 4xx is not retried
    row = await OnlinePayment.get(idempotency_key="yk-1")
    assert row.status == PaymentStatus.PENDING and not row.confirmation_url


async def test_wrong_credentials_are_refused_not_retried(shop: Shop) -> None:
    app = create_app(with_settings(shop.settings, yookassa_secret_key="wrong"), manage_db=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 1))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        user = Api(http, shop.user.token)
        data = await user.data(
            PAY,
            {"input": {"accountId": await account_id(user), "amount": "1", "idempotencyKey": "w"}},
        )
    assert codes(data["payBill"]) == ["PROVIDER_REFUSED"]
    assert shop.api.payments == {}


# ---------------------------------------------------------------- notifications


async def test_paid_then_notified(shop: Shop) -> None:
    balance, count = await ledger()
    payment = (await shop.pay("300"))["payment"]
    [external_id] = shop.api.payments
    shop.api.succeed(external_id)
    answer = await shop.notify(external_id, "payment.succeeded")
    assert answer.status_code == 200 and answer.json()["status"] == "recorded"
    assert await status_of(shop, payment) == "SUCCEEDED"
    assert await ledger() == (balance - 300, count + 1)
    again = await shop.notify(external_id, "payment.succeeded")
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    assert await ledger() == (balance - 300, count + 1)


async def test_canceled_keeps_the_reason(shop: Shop) -> None:
    payment = (await shop.pay("300"))["payment"]
    [external_id] = shop.api.payments
    shop.api.cancel(external_id, "insufficient_funds")
    assert (await shop.notify(external_id, "payment.canceled")).status_code == 200
    assert await status_of(shop, payment) == "CANCELED"
    row = await OnlinePayment.get(id=_pk(payment["id"]))
    assert row.failure_reason == "insufficient_funds"
    # The customer reads why, in their language.
    query = "query($id: ID!) { onlinePayment(id: $id) { failureReason } }"
    ru = await shop.user.data(query, {"id": payment["id"]}, Accept_Language="ru")
    en = await shop.user.data(query, {"id": payment["id"]}, Accept_Language="en")
    assert ru["onlinePayment"]["failureReason"] == "Недостаточно денег для оплаты."
    assert en["onlinePayment"]["failureReason"] == "There is not enough money to pay."


async def test_a_pending_or_paid_payment_has_no_failure_reason(shop: Shop) -> None:
    payment = (await shop.pay("300"))["payment"]
    query = "query($id: ID!) { onlinePayment(id: $id) { failureReason } }"
    data = await shop.user.data(query, {"id": payment["id"]})
    assert data["onlinePayment"]["failureReason"] is None


async def test_a_forged_notification_changes_nothing(shop: Shop) -> None:
    before = await ledger()
    payment = (await shop.pay("300"))["payment"]
    [external_id] = shop.api.payments
    # The body says succeeded; the API says pending.
    answer = await shop.notify(external_id, "payment.succeeded")
    assert answer.status_code == 200 and answer.json() == {"status": "unchanged"}
    assert await status_of(shop, payment) == "PENDING"
    # A payment YooKassa never made.
    assert (
        await shop.notify("2419a771-000f-5000-9000-1edaf29243f2", "payment.succeeded")
    ).status_code == 400
    assert (await shop.yookassa.post(WEBHOOK, content=b"garbage")).status_code == 400
    assert await ledger() == before


async def test_a_notification_from_outside_the_list_is_refused(shop: Shop) -> None:
    before = await ledger()
    payment = (await shop.pay("300"))["payment"]
    [external_id] = shop.api.payments
    shop.api.succeed(external_id)
    refused = await shop.notify(external_id, "payment.succeeded", via=shop.stranger)
    assert refused.status_code == 403
    forged = await shop.stranger.post(
        WEBHOOK,
        json={"type": "notification", "event": "payment.succeeded", "object": {"id": external_id}},
        headers={"X-Forwarded-For": YOOKASSA_ADDRESS},  # 203.0.113.7 is no trusted proxy
    )
    assert forged.status_code == 403
    assert len([r for r in shop.api.requests if r[0] == "GET"]) == 0
    assert await status_of(shop, payment) == "PENDING" and await ledger() == before


async def test_an_amount_that_differs_is_refused_and_logged(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    before = await ledger()
    payment = (await shop.pay("300"))["payment"]
    [external_id] = shop.api.payments
    shop.api.payments[external_id]["amount"] = {"value": "3.00", "currency": "RUB"}
    shop.api.succeed(external_id)
    with caplog.at_level(logging.ERROR, "kabinet.payments"):
        answer = await shop.notify(external_id, "payment.succeeded")
    assert answer.status_code == 200 and answer.json() == {"status": "refused"}
    assert "3.00 notified" in caplog.text
    assert await status_of(shop, payment) == "PENDING" and await ledger() == before


async def test_another_orders_metadata_is_refused(shop: Shop) -> None:
    payment = (await shop.pay("300"))["payment"]
    [external_id] = shop.api.payments
    shop.api.payments[external_id]["metadata"]["payment_id"] = "999999"
    shop.api.succeed(external_id)
    answer = await shop.notify(external_id, "payment.succeeded")
    assert answer.status_code == 200 and answer.json() == {"status": "refused"}
    assert await status_of(shop, payment) == "PENDING"


async def test_a_payment_of_the_shop_not_made_here_is_ignored(shop: Shop) -> None:
    before = await ledger()
    await shop.pay("300")
    [external_id] = shop.api.payments
    shop.api.succeed(external_id)
    await OnlinePayment.all().update(external_id="another")  # made by another system
    answer = await shop.notify(external_id, "payment.succeeded")
    assert answer.status_code == 200 and answer.json() == {"status": "ignored"}
    assert await ledger() == before


# ---------------------------------------------------------------- the sweeper


async def test_the_sweeper_asks_about_pending_payments(shop: Shop) -> None:
    paid = (await shop.pay("300", key="a"))["payment"]
    waiting = (await shop.pay("400", key="b"))["payment"]
    by_amount = {p["amount"]["value"]: pid for pid, p in shop.api.payments.items()}
    shop.api.succeed(by_amount["300.00"])
    shop.api.fail_next("500", "500", "500")  # the first question fails: asked next round
    await Sweeper(shop.settings).run_once()
    assert await status_of(shop, paid) == "PENDING"
    await Sweeper(shop.settings).run_once()
    assert await status_of(shop, paid) == "SUCCEEDED"
    assert await status_of(shop, waiting) == "PENDING"


# ---------------------------------------------------------------- configuration


def test_production_requires_the_shop(tmp_path) -> None:
    base = {
        "ENV": "production",
        "SECRET_KEY": "k" * 40,
        "PAYMENT_WEBHOOK_SECRET": "w" * 40,
        "PAYMENT_PROVIDER": "yookassa",
        "VAR_PATH": str(tmp_path),
    }
    with pytest.raises(ConfigError, match="YOOKASSA_SHOP_ID"):
        load_settings(base, env_file=None)
    bad_ips = base | {
        "YOOKASSA_SHOP_ID": "1",
        "YOOKASSA_SECRET_KEY": "s",
        "YOOKASSA_NOTIFICATION_IPS": "x",
    }
    with pytest.raises(ConfigError, match="YOOKASSA_NOTIFICATION_IPS"):
        load_settings(bad_ips, env_file=None)
    settings = load_settings(
        base | {"YOOKASSA_SHOP_ID": "1", "YOOKASSA_SECRET_KEY": "s"}, env_file=None
    )
    assert settings.yookassa_receipts is True
