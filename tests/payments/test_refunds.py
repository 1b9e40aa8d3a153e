"""Refunds by operators: `kabinet payments refund` run as an operator runs it (a process of
its own on the test's database) against the tests' YooKassa API over real HTTP; what the
customer then sees through GraphQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from config import ROOT, Settings
from models.accounts import Account
from models.mail import OutboxMessage
from models.payments import OnlinePayment, PaymentStatus, Refund, RefundStatus
from tests.payments.test_payments import _pk, pay, press
from tests.payments.test_yookassa import Shop
from tests.support import ACCOUNT_1, Api
from tests.yookassa_api import SECRET_KEY, SHOP_ID

pytestmark = pytest.mark.usefixtures("demo_data")

SEEN = "query($id: ID!) { onlinePayment(id: $id) { id status amount refundedAmount } }"


async def kabinet_refund(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`kabinet payments refund ARGS` in a process of its own, on the test's database."""
    environment = {
        "PATH": os.environ["PATH"],
        "ENV": "development",
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": settings.var_dir,
        "SECRET_KEY": settings.secret_key,
        "PUBLIC_WEB_URL": settings.public_web_url,
        **env,
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(ROOT / "server.py"), "payments", "refund", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def refund(shop: Shop, *args: str) -> subprocess.CompletedProcess:
    return await kabinet_refund(
        shop.settings,
        *args,
        PAYMENT_PROVIDER="yookassa",
        YOOKASSA_SHOP_ID=SHOP_ID,
        YOOKASSA_SECRET_KEY=SECRET_KEY,
        YOOKASSA_API_URL=shop.api.url,
        YOOKASSA_TIMEOUT_SECONDS="0.3",
        YOOKASSA_RETRY_BASE_SECONDS="0.01",
        YOOKASSA_TAX_SYSTEM_CODE="2",
    )


async def paid(shop: Shop, amount: str = "1500") -> dict:
    """A payment YooKassa took, as its notification and API said."""
    payment = (await shop.pay(amount))["payment"]
    row = await OnlinePayment.get(id=_pk(payment["id"]))
    shop.api.succeed(row.external_id or "")
    assert (await shop.notify(row.external_id or "", "payment.succeeded")).status_code == 200
    return payment


async def seen(shop: Shop, payment: dict) -> dict:
    return (await shop.user.data(SEEN, {"id": payment["id"]}))["onlinePayment"]


async def balance() -> Decimal:
    return (await Account.get(number=ACCOUNT_1)).balance


async def test_a_full_refund_by_the_payment_id(shop: Shop) -> None:
    payment = await paid(shop)
    before = await balance()
    done = await refund(shop, payment["id"])
    assert done.returncode == 0, done.stderr
    assert "refunded 1500.00 of 1500.00 RUB, payment refunded" in done.stdout
    [made] = shop.api.refunds.values()
    row = await OnlinePayment.get(id=_pk(payment["id"]))
    body = made["request"]
    assert body["payment_id"] == row.external_id
    assert body["amount"] == {"value": "1500.00", "currency": "RUB"}
    assert body["receipt"]["customer"] == {"email": "ivanova@mail.ru"}
    assert body["receipt"]["items"][0]["amount"] == body["amount"]
    assert body["receipt"]["tax_system_code"] == 2
    assert await seen(shop, payment) == {
        "id": payment["id"],
        "status": "REFUNDED",
        "amount": "1500.00",
        "refundedAmount": "1500.00",
    }
    assert await balance() == before + Decimal("1500.00")
    [stored] = await Refund.all()
    assert stored.status == RefundStatus.SUCCEEDED and stored.external_id == made["id"]
    assert await OutboxMessage.filter(template="payment_refunded").count() == 1
    # Nothing is left: refused, and YooKassa is not asked.
    again = await refund(shop, payment["id"])
    assert again.returncode == 1 and "refunded in full already" in again.stderr
    assert len(shop.api.refunds) == 1


async def test_part_then_the_rest_by_the_payment_number(shop: Shop) -> None:
    payment = await paid(shop)
    number = str(_pk(payment["id"]))
    before = await balance()
    part = await refund(shop, number, "500,50")
    assert part.returncode == 0, part.stderr
    assert await seen(shop, payment) == {
        "id": payment["id"],
        "status": "SUCCEEDED",  # partly refunded
        "amount": "1500.00",
        "refundedAmount": "500.50",
    }
    assert await balance() == before + Decimal("500.50")
    rest = await refund(shop, number)
    assert rest.returncode == 0, rest.stderr
    assert [r["amount"]["value"] for r in shop.api.refunds.values()] == ["500.50", "999.50"]
    shown = await seen(shop, payment)
    assert shown["status"] == "REFUNDED" and shown["refundedAmount"] == "1500.00"
    assert await balance() == before + Decimal("1500.00")


async def test_more_than_is_left_is_refused(shop: Shop) -> None:
    payment = await paid(shop)
    assert (await refund(shop, payment["id"], "1000")).returncode == 0
    before = await balance()
    over = await refund(shop, payment["id"], "500.01")
    assert over.returncode == 1
    assert "cannot refund 500.01 RUB: only 500.00 RUB of payment" in over.stderr
    assert len(shop.api.refunds) == 1 and await Refund.all().count() == 1
    assert await balance() == before
    assert (await seen(shop, payment))["refundedAmount"] == "1000.00"


async def test_only_a_succeeded_payment_of_ours_is_refunded(shop: Shop) -> None:
    pending = (await shop.pay("100", key="pending"))["payment"]
    refused = await refund(shop, pending["id"])
    assert refused.returncode == 1 and "only a succeeded payment" in refused.stderr
    unknown = await refund(shop, "999999")
    assert unknown.returncode == 1 and "no online payment 999999" in unknown.stderr
    assert shop.api.refunds == {} and await Refund.all().count() == 0


async def test_a_retried_command_refunds_once(shop: Shop) -> None:
    payment = await paid(shop)
    before = await balance()
    # YooKassa makes the refund, but its answer comes after our timeout, every time.
    shop.api.fail_next("timeout", "timeout", "timeout")
    lost = await refund(shop, payment["id"], "700")
    assert lost.returncode == 1 and "run the same command again" in lost.stderr
    assert len(shop.api.refunds) == 1  # the money went back, we do not know it yet
    [stored] = await Refund.all()
    assert stored.status == RefundStatus.PENDING
    assert await balance() == before
    # The operator runs it again: the same Idempotence-Key finds the same refund.
    retried = await refund(shop, payment["id"], "700")
    assert retried.returncode == 0, retried.stderr
    assert "finished earlier refund" in retried.stdout
    assert len(shop.api.refunds) == 1
    refund_keys = [key for key, (_, made) in shop.api.keys.items() if "payment_id" in made]
    assert len(refund_keys) == 1
    row = await OnlinePayment.get(id=_pk(payment["id"]))
    assert row.refunded_amount == Decimal("700.00") and row.status == PaymentStatus.SUCCEEDED
    assert await balance() == before + Decimal("700.00")
    assert await Refund.filter(status=RefundStatus.SUCCEEDED).count() == 1


async def test_a_pending_refund_is_confirmed_by_the_api_not_the_notification(shop: Shop) -> None:
    payment = await paid(shop)
    before = await balance()
    shop.api.refund_status = "pending"
    started = await refund(shop, payment["id"], "300")
    assert started.returncode == 0, started.stderr
    assert "has not finished it yet" in started.stdout
    [made] = shop.api.refunds.values()
    [stored] = await Refund.all()
    assert stored.status == RefundStatus.PENDING and stored.external_id == made["id"]
    body = {
        "type": "notification",
        "event": "refund.succeeded",
        "object": {"id": made["id"], "payment_id": made["payment_id"], "status": "succeeded"},
    }
    # The body says succeeded, the API says pending: nothing is counted.
    forged = await shop.yookassa.post("/payments/webhook/yookassa", json=body)
    assert forged.json() == {"status": "recorded", "refund": "pending"}
    # From an address that is not YooKassa's: refused before the API is asked.
    stranger = await shop.stranger.post("/payments/webhook/yookassa", json=body)
    assert stranger.status_code == 403
    assert await balance() == before
    assert (await seen(shop, payment))["refundedAmount"] == "0.00"
    shop.api.succeed_refund(made["id"])
    confirmed = await shop.yookassa.post("/payments/webhook/yookassa", json=body)
    assert confirmed.json() == {"status": "recorded", "refund": "succeeded"}
    again = await shop.yookassa.post("/payments/webhook/yookassa", json=body)
    assert again.json() == {"status": "recorded", "refund": "succeeded"}
    assert await balance() == before + Decimal("300.00")
    shown = await seen(shop, payment)
    assert shown["status"] == "SUCCEEDED" and shown["refundedAmount"] == "300.00"
    assert await OutboxMessage.filter(template="payment_refunded").count() == 1


async def test_the_sandbox_refunds_locally(api: Api, client, settings: Settings) -> None:
    user = await api.signed_up()
    payment = (await pay(user, "800"))["payment"]
    assert (await press(client, payment["confirmationUrl"], "pay")).status_code == 200
    before = await balance()
    done = await kabinet_refund(settings, payment["id"])
    assert done.returncode == 0, done.stderr
    assert "(sandbox sbx_rf_" in done.stdout
    shown = (await user.data(SEEN, {"id": payment["id"]}))["onlinePayment"]
    assert shown["status"] == "REFUNDED" and shown["refundedAmount"] == "800.00"
    assert await balance() == before + Decimal("800.00")
