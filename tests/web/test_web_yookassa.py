"""Paying through YooKassa in a real browser (tests/web/browser.py), the test playing
YooKassa: `kabinet serve` with PAYMENT_PROVIDER=yookassa points at the tests' own API
(tests/yookassa_api.py), whose confirmation page the browser is sent to. A button there
moves the payment, YooKassa's notification comes to our webhook from 127.0.0.1 (in
YOOKASSA_NOTIFICATION_IPS here), and the browser returns to the web client, which shows
what became of the payment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from models.accounts import Account
from models.billing import Payment
from tests.web.test_web_account import IVANOVA, log_in
from tests.yookassa_api import SECRET_KEY, SHOP_ID, YooKassaApi, running_api

pytestmark = pytest.mark.browser

RETURNED = re.compile(r"/payments\?payment=[\w-]+$")


@pytest.fixture
def yookassa() -> Iterator[YooKassaApi]:
    with running_api() as api:
        yield api


@pytest.fixture
def server_environment(yookassa: YooKassaApi) -> dict[str, str]:
    return {
        "PAYMENT_PROVIDER": "yookassa",
        "YOOKASSA_SHOP_ID": SHOP_ID,
        "YOOKASSA_SECRET_KEY": SECRET_KEY,
        "YOOKASSA_API_URL": yookassa.url,
        "YOOKASSA_NOTIFICATION_IPS": "127.0.0.1",  # the tests' YooKassa notifies from here
    }


@pytest.fixture
def shop(yookassa: YooKassaApi, web_server) -> YooKassaApi:
    """The shop's settings in YooKassa's cabinet: HTTP notifications to our webhook."""
    yookassa.notification_url = f"{web_server.url}/payments/webhook/yookassa"
    return yookassa


async def balances() -> dict[str, tuple[Decimal, int]]:
    """Balance and number of payments of each of Ivanova's accounts."""
    accounts = await Account.filter(cabinet_link__cabinet__email=IVANOVA)
    return {a.number: (a.balance, await Payment.filter(account=a).count()) for a in accounts}


async def start_paying(page: Page, shop: YooKassaApi, amount: str, method: str) -> None:
    """From the cabinet's payments page to YooKassa's page of the new payment."""
    await log_in(page, "/payments")
    await page.get_by_label("Сумма, ₽").fill(amount)
    await page.get_by_label("Способ оплаты").select_option(label=method)
    await page.get_by_role("button", name="Перейти к оплате").click()
    await expect(page).to_have_url(re.compile(re.escape(shop.checkout_url) + "/checkout/"))


async def test_pay_by_card(page: Page, shop: YooKassaApi) -> None:
    before = await balances()
    await start_paying(page, shop, "250,50", "Банковская карта")

    # YooKassa's page, for the method chosen in the cabinet, with the amount
    await expect(page.get_by_role("heading")).to_have_text("Оплата банковской картой")
    await expect(page.get_by_text("К оплате: 250,50 ₽")).to_be_visible()
    [body] = shop.created()
    assert body["payment_method_data"] == {"type": "bank_card"}
    assert body["amount"] == {"value": "250.50", "currency": "RUB"}
    await page.get_by_role("button", name="Оплатить").click()

    # YooKassa told our webhook, and the customer is back on the payment's page
    await expect(page).to_have_url(RETURNED)
    await expect(page.get_by_role("status").filter(has_text="250,50")).to_contain_text("прошёл")
    assert shop.notified == [("payment.succeeded", 200)]
    first_row = page.get_by_role("table").get_by_role("row").nth(1)
    await expect(first_row).to_contain_text("250,50")
    number = body["metadata"]["account_number"]
    balance, count = before[number]
    assert (await balances())[number] == (balance - Decimal("250.50"), count + 1)


async def test_pay_by_sbp(page: Page, shop: YooKassaApi) -> None:
    before = await balances()
    await start_paying(page, shop, "1200", "СБП (Система быстрых платежей)")

    # YooKassa's SBP page sends the payer to their bank's app; the test plays the bank
    await expect(page.get_by_role("heading")).to_have_text("Оплата через СБП")
    await expect(page.get_by_text("Откройте приложение своего банка")).to_be_visible()
    await expect(page.get_by_text("К оплате: 1 200,00 ₽")).to_be_visible()
    [body] = shop.created()
    assert body["payment_method_data"] == {"type": "sbp"}
    await page.get_by_role("button", name="Банк подтвердил оплату").click()

    await expect(page).to_have_url(RETURNED)
    await expect(page.get_by_role("status").filter(has_text="1 200")).to_contain_text("прошёл")
    assert shop.notified == [("payment.succeeded", 200)]
    number = body["metadata"]["account_number"]
    balance, count = before[number]
    assert (await balances())[number] == (balance - 1200, count + 1)


async def test_a_declined_card_says_why(page: Page, shop: YooKassaApi) -> None:
    before = await balances()
    await start_paying(page, shop, "300", "Выбрать на странице оплаты")

    # No method sent: the payer chooses on YooKassa's page; then the bank declines the card
    await expect(page.get_by_role("heading")).to_have_text("Выберите способ оплаты")
    [body] = shop.created()
    assert "payment_method_data" not in body
    await page.get_by_role("button", name="Банковская карта").click()
    shop.decline_reason = "insufficient_funds"
    await page.get_by_role("button", name="Оплатить").click()

    # Back in the cabinet: canceled, no money taken, and the bank's reason in Russian
    await expect(page).to_have_url(RETURNED)
    status = page.get_by_role("status").filter(has_text="300,00")
    await expect(status).to_contain_text("отменён, деньги не списаны")
    await expect(status).to_contain_text("Недостаточно денег для оплаты.")
    assert shop.notified == [("payment.canceled", 200)]
    assert await balances() == before


async def test_a_payer_who_cancels_reads_why_in_english(page: Page, shop: YooKassaApi) -> None:
    before = await balances()
    await log_in(page, "/payments")
    await page.get_by_role("button", name="Switch to English").click()
    await page.get_by_label("Amount, RUB").fill("300")
    await page.get_by_label("Payment method").select_option(label="SberPay")
    await page.get_by_role("button", name="Go to payment").click()

    # YooKassa's SberPay page; the payer gives up
    await expect(page.get_by_text("Откройте приложение СберБанк Онлайн")).to_be_visible()
    assert shop.created()[0]["payment_method_data"] == {"type": "sberbank"}
    await page.get_by_role("button", name="Отменить").click()

    # Back in the cabinet, in the customer's language: canceled, and why
    await expect(page).to_have_url(RETURNED)
    status = page.get_by_role("status").filter(has_text="300.00")
    await expect(status).to_contain_text("was cancelled; no money was taken.")
    await expect(status).to_contain_text("The payment was not confirmed in time.")
    assert shop.notified == [("payment.canceled", 200)]
    assert await balances() == before


async def test_a_guest_pays_by_card_without_logging_in(page: Page, shop: YooKassaApi) -> None:
    """/pay, no account: YooKassa's checkout page, then back to the guest page."""
    account = await Account.get(number="001234567890")
    before = (account.balance, await Payment.filter(account=account).count())
    await page.goto("/pay?account=001234567890&amount=321.50")
    await page.get_by_role("button", name="Продолжить").click()
    await expect(page.get_by_label("Сумма, ₽")).to_have_value("321,50")
    await page.get_by_label("Электронная почта для чека").fill("payer@example.ru")
    await page.get_by_label("Способ оплаты").select_option(label="Банковская карта")
    await page.get_by_role("button", name="Перейти к оплате").click()

    await expect(page).to_have_url(re.compile(re.escape(shop.checkout_url) + "/checkout/"))
    await expect(page.get_by_text("К оплате: 321,50 ₽")).to_be_visible()
    [body] = shop.created()
    assert body["receipt"]["customer"] == {"email": "payer@example.ru"}
    await page.get_by_role("button", name="Оплатить").click()

    await expect(page).to_have_url(re.compile(r"/pay\?status="))
    await expect(page.get_by_role("status").filter(has_text="321,50")).to_contain_text("прошёл")
    assert shop.notified == [("payment.succeeded", 200)]
    await account.refresh_from_db()
    assert (account.balance, await Payment.filter(account=account).count()) == (
        before[0] - Decimal("321.50"),
        before[1] + 1,
    )
