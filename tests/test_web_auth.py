"""The web client's ways in, in a real browser (tests/browser.py): logging in and out,
registering with the e-mailed verification link, and recovering a cabinet without its
mailbox."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from services.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


async def test_login_language_and_logout(page, web_server) -> None:
    # Given a visitor who opens the cabinet: the start page asks to log in first
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    await expect(page.get_by_role("heading", name="Вход в личный кабинет")).to_be_visible()

    # When the password is wrong, the form says so in a sentence
    await page.get_by_label("Электронная почта").fill("ivanova@example.com")
    await page.get_by_label("Пароль").fill("not the password")
    await page.get_by_role("button", name="Войти").click()
    await expect(page.get_by_role("alert")).to_contain_text("Неверная почта или пароль")

    # When it is right, the cabinet opens, and the session is a cookie scripts cannot read
    await page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await expect(page.get_by_text("Вы вошли как ivanova@example.com")).to_be_visible()
    assert await page.evaluate("document.cookie") == ""
    await page.reload()
    await expect(page.get_by_text("Вы вошли как ivanova@example.com")).to_be_visible()

    # The language switch turns the app English, and the choice survives a reload
    await page.get_by_role("button", name="Switch to English").click()
    await expect(page.get_by_role("link", name="Readings")).to_be_visible()
    await page.reload()
    await expect(page.get_by_text("Logged in as ivanova@example.com")).to_be_visible()

    # Logging out ends the session on the server, not only on the page
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.goto("/readings")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Freadings$"))
