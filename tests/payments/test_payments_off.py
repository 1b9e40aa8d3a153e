"""PAYMENT_PROVIDER=none: a deployment that takes no payments online.

payBill answers PAYMENTS_UNAVAILABLE with where else to pay and stores nothing;
`paymentOptions` tells clients before they ask; no acquirer's route is mounted, so
nothing can notify us; the sweeper leaves payments alone. All over HTTP through the app.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from config import Settings
from models.payments import OnlinePayment, PaymentStatus
from payments.signing import sign, webhook_secret
from server import create_app
from services.core.clock import clock
from services.payments.sweeper import Sweeper
from tests.conftest import with_settings
from tests.payments.test_payments import notification, pay, post_webhook
from tests.support import Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

OPTIONS = "{ paymentOptions { online otherWays } }"


def app_client(settings: Settings, language: str = "ru") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings, manage_db=False))
    return httpx.AsyncClient(
        transport=transport,
        base_url="https://testserver",
        headers={"Accept-Language": language},
    )


async def test_pay_bill_answers_payments_unavailable_and_stores_nothing(
    api: Api, settings: Settings
) -> None:
    token = (await api.signed_up()).token
    off = with_settings(settings, payment_provider="none")
    async with app_client(off) as http:
        result = await pay(Api(http, token), "1 234,56", key="off-1")
        assert codes(result) == ["PAYMENTS_UNAVAILABLE"] and result["payment"] is None
        message = result["userErrors"][0]["message"]
        # Where else to pay: the bank details every bill prints, and the office.
        for detail in (off.company_bic, off.company_settlement_account, off.company_address):
            assert detail in message, message
        assert "онлайн" in message
        # Whatever the input: the answer does not depend on it, and still nothing is stored.
        assert codes(await pay(Api(http, token), "-1", key="")) == ["PAYMENTS_UNAVAILABLE"]
    async with app_client(off, "en") as http:
        english = await pay(Api(http, token), "100", key="off-2")
        assert "Bank details" in english["userErrors"][0]["message"]
    assert await OnlinePayment.all().count() == 0


async def test_payment_options_tell_clients_before_they_ask(api: Api, settings: Settings) -> None:
    # The sandbox (the default outside production): online.
    assert (await api.data(OPTIONS))["paymentOptions"]["online"] is True
    off = with_settings(settings, payment_provider="none")
    async with app_client(off) as http:  # nobody logged in: every bill prints this anyway
        options = (await Api(http).data(OPTIONS))["paymentOptions"]
    assert options["online"] is False
    assert off.company_bic in options["otherWays"] and "Реквизиты" in options["otherWays"]
    async with app_client(off, "en") as http:
        english = (await Api(http).data(OPTIONS))["paymentOptions"]["otherWays"]
    assert "Bank details" in english and off.company_bic in english


async def test_no_acquirer_route_is_mounted_and_the_sweeper_rests(
    api: Api, settings: Settings
) -> None:
    # A payment made while the sandbox was the acquirer, then the deployment turns it off.
    user = await api.signed_up()
    started = (await pay(user, "300", key="before"))["payment"]
    row = await OnlinePayment.get(idempotency_key="before")
    off = with_settings(settings, payment_provider="none")
    body = notification(row.external_id, "300.00")
    async with app_client(off) as http:
        # Even a correctly signed notification finds no webhook (only the web client's
        # GET-only pages answer there): nothing changes.
        refused = await post_webhook(http, body, sign(webhook_secret(off), body))
        assert refused.status_code in (404, 405), refused.text
        page = await http.get(httpx.URL(started["confirmationUrl"]).path)
        assert page.status_code == 404
    clock.advance(dt.timedelta(minutes=off.payment_pending_timeout_minutes + 1))
    assert await Sweeper(off).run_once() == 0
    await row.refresh_from_db()
    assert row.status == PaymentStatus.PENDING and row.completed_at is None
