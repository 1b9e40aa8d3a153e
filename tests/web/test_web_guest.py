"""Without an account, in a real browser (tests/web/browser.py): paying by the account
number through the sandbox acquirer, sending a meter reading, and the recovery page's
"Pay now" when the account has no recent payments (issue 16 items 1-3, 6)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from models.accounts import Account
from models.billing import Payment
from models.metering import MeterReading
from tests.support import SILENT_ACCOUNT
from tests.web.test_web_account import IVANOVA_METER, typed

pytestmark = pytest.mark.browser

IVANOVA_ACCOUNT = "001234567890"  # the account of IVANOVA_METER


async def test_pay_without_logging_in_through_the_sandbox(page: Page, web_server) -> None:
    account = await Account.get(number=IVANOVA_ACCOUNT)
    before = (account.balance, await Payment.filter(account=account).count())

    # From the login page, without an account
    await page.goto("/login")
    await page.get_by_role("link", name="Оплатить без входа").click()
    await expect(page).to_have_url(re.compile(r"/pay$"))
    await page.get_by_label("Номер лицевого счёта").fill("0012 3456 7890")
    await page.get_by_role("button", name="Продолжить").click()

    # The payee, masked, to check before paying
    payee = page.get_by_role("region", name="Получатель платежа")
    await expect(payee).to_contain_text("И*****а М. П.")
    await expect(payee).to_contain_text("ул. Рождественская")
    await expect(payee).not_to_contain_text("д. 12")
    await page.get_by_label("Сумма, ₽").fill("9")
    await page.get_by_label("Электронная почта для чека").fill("payer@example.ru")
    await page.get_by_role("button", name="Перейти к оплате").click()
    await expect(page.get_by_text("не меньше 10,00 ₽")).to_be_visible()
    await page.get_by_label("Сумма, ₽").fill("150,25")
    await page.get_by_role("button", name="Перейти к оплате").click()

    # The sandbox takes the payment and sends the payer back to the guest page
    await expect(page).to_have_url(re.compile(r"/payments/sandbox/"))
    await page.get_by_role("button", name="Оплатить / Pay").click()
    await page.get_by_role("link", name="Вернуться в личный кабинет").click()
    await expect(page).to_have_url(re.compile(r"/pay\?status="))
    await expect(page.get_by_role("status").filter(has_text="150,25")).to_contain_text("прошёл")

    await account.refresh_from_db()
    assert (account.balance, await Payment.filter(account=account).count()) == (
        before[0] - Decimal("150.25"),
        before[1] + 1,
    )
    [receipt] = await web_server.mail(1)
    assert receipt["To"] == "payer@example.ru" and "150,25" in receipt["Subject"]


async def test_submit_a_reading_without_logging_in(page: Page, web_server) -> None:
    last = await MeterReading.filter(meter__serial=IVANOVA_METER).order_by("-taken_on").first()
    assert last is not None
    await page.goto("/login")
    await page.get_by_role("link", name="Передать показания без входа").click()
    await page.get_by_label("Номер лицевого счёта").fill(IVANOVA_ACCOUNT)
    await page.get_by_label("Заводской номер счётчика").fill(IVANOVA_METER)
    day = page.get_by_label("Показание T1 (день или единственная зона), кВт·ч")
    night = page.get_by_label("Показание T2 (ночь), кВт·ч")

    # Lower than the last one: refused, without telling what the last one was
    await day.fill(typed(last.t1 - 100))
    await night.fill(typed(last.t2 + 5))
    await page.get_by_role("button", name="Передать показания").click()
    await expect(day).to_have_attribute("aria-invalid", "true")
    refusal = page.get_by_text("меньше последнего принятого")
    await expect(refusal).to_be_visible()
    await expect(refusal).not_to_contain_text(typed(last.t1))

    await day.fill(typed(last.t1 + Decimal("7.5")))
    await page.get_by_role("button", name="Передать показания").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Показания счётчика {IVANOVA_METER}")
    saved = await MeterReading.filter(meter__serial=IVANOVA_METER, source="guest").get()
    assert (saved.t1, saved.t2) == (last.t1 + Decimal("7.5"), last.t2 + 5)


async def test_recovery_without_recent_payments_offers_to_pay_now(page: Page, web_server) -> None:
    await page.goto("/recover")
    await page.get_by_label("Номер лицевого счёта").fill(SILENT_ACCOUNT)
    await page.get_by_label("Сумма платежа").fill("700")
    await page.get_by_role("button", name="Продолжить").click()
    offer = page.get_by_role("link", name="Оплатить 10,00 ₽ сейчас")
    await expect(offer).to_be_visible()
    await expect(page.get_by_text("повторите попытку, указав его сумму")).to_be_visible()
    await offer.click()

    # The guest page, filled in with the account and the minimal payment
    await expect(page).to_have_url(re.compile(rf"/pay\?account={SILENT_ACCOUNT}&amount=10\.00$"))
    await expect(page.get_by_label("Номер лицевого счёта")).to_have_value(SILENT_ACCOUNT)
    await page.get_by_role("button", name="Продолжить").click()
    await expect(page.get_by_label("Сумма, ₽")).to_have_value("10,00")
