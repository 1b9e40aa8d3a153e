"""The web client of a deployment without online payments (PAYMENT_PROVIDER=none), in a
real browser (tests/web/browser.py): no pay button anywhere, and where else to pay."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from config import Settings
from tests.web.test_web_account import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server_env(PAYMENT_PROVIDER="none")]


async def test_no_pay_button_and_where_else_to_pay(page, web_server) -> None:
    bic = Settings().company_bic  # the server runs with the default requisites

    # The dashboard offers no payment, only the way to how to pay
    await log_in(page, "/dashboard")
    card = page.get_by_role("article").first
    await expect(card.get_by_role("link", name="Как оплатить")).to_be_visible()
    await expect(page.get_by_role("link", name="Оплатить", exact=True)).to_have_count(0)

    # The payments page has no pay form: it says where else to pay, with the bill's details
    await card.get_by_role("link", name="Как оплатить").click()
    await expect(page.get_by_role("heading", name="Как оплатить")).to_be_visible()
    elsewhere = page.locator(".pay-elsewhere")
    await expect(elsewhere).to_contain_text("не принимается")
    await expect(elsewhere).to_contain_text(f"БИК {bic}")
    await expect(page.get_by_role("button", name="Перейти к оплате")).to_have_count(0)
    await expect(page.get_by_label("Сумма, ₽")).to_have_count(0)
    # The history is still there
    await expect(page.get_by_role("heading", name="История платежей")).to_be_visible()
