"""The web client drives deletion (issue 22): "Delete my cabinet" on the sessions page asks
for the password, ends the session and says how to cancel; logging in again shows the
pending deletion on the dashboard, and "Keep my cabinet" cancels it."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from services.ops.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

LOGIN = "mutation($i: LoginInput!) { login(input: $i) { token } }"
EMAIL = "ivanova@example.com"


async def log_in(page) -> None:
    await page.get_by_label("Электронная почта").fill(EMAIL)
    await page.get_by_label("Пароль", exact=True).fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Войти").click()


async def pending_deletion(web_server) -> dict | None:
    async with httpx.AsyncClient(base_url=web_server.url) as phone:
        credentials = {"email": EMAIL, "password": DEMO_PASSWORD}
        login = await phone.post("/graphql", json={"query": LOGIN, "variables": {"i": credentials}})
        token = login.json()["data"]["login"]["token"]
        me = await phone.post(
            "/graphql",
            json={"query": "{ me { deletion { erasesAt } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        return me.json()["data"]["me"]["deletion"]


async def test_deleting_the_cabinet_and_keeping_it_in_the_browser(page, web_server) -> None:
    # Given a customer on the sessions page
    await page.goto("/login")
    await log_in(page)
    await expect(page.get_by_text(f"Вы вошли как {EMAIL}")).to_be_visible()
    await page.goto("/sessions")
    deletion = page.get_by_role("form", name="Удалить личный кабинет")

    # A wrong password deletes nothing
    await deletion.get_by_label("Пароль кабинета").fill("not-the-password-1")
    await deletion.get_by_role("button", name="Удалить кабинет").click()
    await expect(deletion).to_contain_text("Пароль указан неверно.")
    assert await pending_deletion(web_server) is None

    # The right one ends the session and says how to cancel
    await deletion.get_by_label("Пароль кабинета").fill(DEMO_PASSWORD)
    await deletion.get_by_role("button", name="Удалить кабинет").click()
    await expect(page).to_have_url(re.compile(r"/login\?ended=DELETION_REQUESTED&on=[^&]+$"))
    await expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"Кабинет будет удалён \d{1,2} [а-я]+ \d{4}")
    )
    assert await pending_deletion(web_server) is not None

    # Logging in again shows the pending deletion, and "Keep my cabinet" cancels it
    await log_in(page)
    await expect(page.get_by_text("Ваш кабинет будет удалён")).to_be_visible()
    assert await pending_deletion(web_server) is not None  # logging in alone keeps nothing
    await page.get_by_role("button", name="Сохранить кабинет").click()
    await expect(page.get_by_text("Удаление отменено: кабинет остаётся.")).to_be_visible()
    assert await pending_deletion(web_server) is None
