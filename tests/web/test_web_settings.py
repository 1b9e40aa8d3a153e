"""The customer's settings page in a real browser: changing the password (a refusal next
to its field; then every other session ends) and the e-mail address (through the link
sent to the new address)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from models.cabinets import Cabinet
from services.ops.demo import DEMO_PASSWORD
from tests.support import LOGIN
from tests.web.test_web_account import IVANOVA
from tests.web.test_web_console import log_in, screenshot

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new kitchen lantern"


async def bearer_login(url: str) -> str:
    async with httpx.AsyncClient(base_url=url) as http:
        body = (
            await http.post(
                "/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"input": {"email": IVANOVA, "password": DEMO_PASSWORD}},
                },
            )
        ).json()
    return body["data"]["login"]["token"]


async def still_logged_in(url: str, token: str) -> bool:
    async with httpx.AsyncClient(base_url=url) as http:
        body = (
            await http.post(
                "/graphql",
                json={"query": "{ me { email } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
    return "errors" not in body


async def test_change_the_password_and_the_address(page, web_server) -> None:
    # Given the cabinet logged in on a phone app too
    elsewhere = await bearer_login(web_server.url)
    await log_in(page, IVANOVA, "/dashboard")
    await page.get_by_role("link", name="Настройки").click()
    await expect(page.get_by_role("heading", name="Настройки кабинета", level=1)).to_be_visible()
    await screenshot(page, "settings")

    # A wrong current password is said next to its field
    change = page.get_by_role("form", name="Сменить пароль")
    await change.get_by_label("Текущий пароль").fill("not my password at all")
    await change.get_by_label("Новый пароль").fill(NEW_PASSWORD)
    await change.get_by_role("button", name="Сменить пароль").click()
    await expect(change.get_by_text("Текущий пароль неверен.")).to_be_visible()
    await expect(change.get_by_label("Текущий пароль")).to_have_attribute("aria-invalid", "true")
    # and a weak new one too, with the server's reason
    await change.get_by_label("Текущий пароль").fill(DEMO_PASSWORD)
    await change.get_by_label("Новый пароль").fill("short")
    await change.get_by_role("button", name="Сменить пароль").click()
    await expect(change.get_by_label("Новый пароль")).to_have_attribute("aria-invalid", "true")
    assert await still_logged_in(web_server.url, elsewhere)

    # When it is right, the password changes and the other session ends; this one stays
    await change.get_by_label("Новый пароль").fill(NEW_PASSWORD)
    await change.get_by_role("button", name="Сменить пароль").click()
    await expect(page.get_by_text("Пароль изменён.")).to_be_visible()
    assert not await still_logged_in(web_server.url, elsewhere)
    await page.get_by_role("link", name="Главная").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))

    # The address: a link goes to the new one, and following it moves the cabinet
    [notice] = await web_server.mail(1)  # the password change's notice
    assert notice["To"] == IVANOVA
    await page.get_by_role("link", name="Настройки").click()
    move = page.get_by_role("form", name="Сменить адрес почты")
    await move.get_by_label("Новый адрес").fill("ivanova.new@example.org")
    await move.get_by_label("Пароль (для подтверждения)").fill(NEW_PASSWORD)
    await move.get_by_role("button", name="Прислать ссылку на новый адрес").click()
    await expect(page.get_by_text("Мы отправили ссылку на ivanova.new@example.org")).to_be_visible()
    letters = await web_server.mail(2)
    [link_letter] = [m for m in letters if m["To"] == "ivanova.new@example.org"]
    await page.goto(web_server.link(link_letter, "/verify-email?token="))
    await page.get_by_role("button", name="Подтвердить адрес").click()
    await expect(page.get_by_text("ivanova.new@example.org").first).to_be_visible()
    assert await Cabinet.filter(email="ivanova.new@example.org").exists()
    assert not await Cabinet.filter(email=IVANOVA).exists()


async def test_the_mail_language(page, web_server) -> None:
    await log_in(page, IVANOVA, "/dashboard")
    await page.goto("/settings")
    choose = page.get_by_role("form", name="Язык писем")
    await expect(choose.get_by_label("Письма и уведомления приходят")).to_have_value("ru")
    await choose.get_by_label("Письма и уведомления приходят").select_option("en")
    await choose.get_by_role("button", name="Сохранить язык").click()
    # The page speaks English from now on, and so does every letter
    await expect(page.get_by_text("Saved: letters will come in English.")).to_be_visible()
    await expect(page.get_by_role("heading", name="Cabinet settings", level=1)).to_be_visible()
    change = page.get_by_role("form", name="Change the password")
    await change.get_by_label("Current password").fill(DEMO_PASSWORD)
    await change.get_by_label("New password").fill(NEW_PASSWORD)
    await change.get_by_role("button", name="Change the password").click()
    await expect(page.get_by_text("The password is changed.")).to_be_visible()
    [letter] = await web_server.mail(1)
    assert letter["To"] == IVANOVA
    body = letter.get_body(("plain",)).get_content()
    assert re.search(r"[A-Za-z]{4}", letter["Subject"]) and not re.search("[а-яА-Я]", body), (
        letter["Subject"],
        body,
    )
    # At the next login the client switches to the cabinet's language by itself
    await page.evaluate("() => localStorage.clear()")
    await page.get_by_role("button", name="Log out").click()
    await page.reload()
    await page.get_by_label("Электронная почта").fill(IVANOVA)
    await page.get_by_label("Пароль").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page.get_by_text(f"Logged in as {IVANOVA}")).to_be_visible()


async def test_unlink_an_account_after_a_confirmation(page, web_server) -> None:
    await log_in(page, IVANOVA, "/dashboard")
    await page.goto("/settings")
    accounts = page.get_by_role("region", name="Лицевые счета кабинета")
    await accounts.get_by_role("button", name="Отвязать счёт № 001234567891").click()
    warning = accounts.get_by_text(re.compile(r"Счёт № 001234567891 .* исчезнет из кабинета"))
    await expect(warning).to_be_visible()
    # "Keep it" changes nothing
    await accounts.get_by_role("button", name="Не отвязывать").click()
    await expect(warning).to_be_hidden()
    await accounts.get_by_role("button", name="Отвязать счёт № 001234567891").click()
    await accounts.get_by_role("button", name="Да, отвязать № 001234567891").click()
    await expect(page.get_by_text("Счёт № 001234567891 отвязан от кабинета.")).to_be_visible()
    await expect(accounts.get_by_role("button", name=re.compile("001234567891"))).to_have_count(0)
    # The last one stays, and the page says why
    await accounts.get_by_role("button", name="Отвязать счёт № 001234567890").click()
    await accounts.get_by_role("button", name="Да, отвязать № 001234567890").click()
    await expect(
        accounts.get_by_role("status").filter(has_text="единственный счёт")
    ).to_be_visible()


PREFERENCES = "{ me { notificationPreferences { event email push alwaysOn } } }"


async def preferences_of(url: str, token: str) -> dict[str, dict]:
    async with httpx.AsyncClient(base_url=url) as http:
        body = (
            await http.post(
                "/graphql",
                json={"query": PREFERENCES},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
    return {p["event"]: p for p in body["data"]["me"]["notificationPreferences"]}


async def test_notification_preferences(page, web_server) -> None:
    await log_in(page, IVANOVA, "/dashboard")
    await page.goto("/settings")
    prefs = page.get_by_role("form", name="Уведомления")
    answered = prefs.get_by_role("group", name="Специалист ответил на вопрос")
    await expect(answered.get_by_label("По почте")).to_be_checked()
    await expect(answered.get_by_label("Push-уведомлением")).to_be_checked()
    # A security notice is shown on, cannot be changed, and says why
    login = prefs.get_by_role("group", name="Вход с нового устройства")
    await expect(login.get_by_label("Push-уведомлением")).to_be_checked()
    await expect(login.get_by_label("Push-уведомлением")).to_be_disabled()
    await expect(login.get_by_label("Push-уведомлением")).to_have_accessible_description(
        re.compile("нельзя отключить")
    )
    await expect(login.get_by_label("По почте")).to_have_count(0)  # a login is never mailed

    # Turning the answer's e-mail off is saved, and stays off after a reload
    await answered.get_by_label("По почте").uncheck()
    await prefs.get_by_role("button", name="Сохранить уведомления").click()
    await expect(page.get_by_role("status").filter(has_text="Сохранено.")).to_be_visible()
    await page.reload()
    answered = page.get_by_role("group", name="Специалист ответил на вопрос")
    await expect(answered.get_by_label("По почте")).not_to_be_checked()
    await expect(answered.get_by_label("Push-уведомлением")).to_be_checked()
    token = await bearer_login(web_server.url)
    api = await preferences_of(web_server.url, token)
    assert api["QUESTION_ANSWERED"]["email"] is False
    assert api["QUESTION_ANSWERED"]["push"] is True
    assert api["NEW_LOGIN"] == {"event": "NEW_LOGIN", "email": None, "push": True, "alwaysOn": True}
    await screenshot(page, "settings-notifications")

    # A refusal (a page whose security notice was tampered on) is shown next to its box,
    # and nothing of the request is saved
    await answered.get_by_label("По почте").check()
    login = page.get_by_role("group", name="Вход с нового устройства")
    await login.get_by_label("Push-уведомлением").evaluate(
        "box => { box.disabled = false; box.checked = false; }"
    )
    await page.get_by_role("button", name="Сохранить уведомления").click()
    await expect(
        login.get_by_text("Это уведомление о безопасности: его нельзя отключить.")
    ).to_be_visible()
    await expect(login.get_by_label("Push-уведомлением")).to_have_attribute("aria-invalid", "true")
    api = await preferences_of(web_server.url, token)
    assert api["QUESTION_ANSWERED"]["email"] is False
    assert api["NEW_LOGIN"]["push"] is True
