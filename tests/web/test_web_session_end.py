"""A session that ends while the web client holds it (issue 18, 2): the server refuses the
dead cookie with UNAUTHENTICATED and a reason, and the app goes to the login page, says why,
and comes back after the login."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from services.ops.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

LOGIN = "mutation($i: LoginInput!) { login(input: $i) { token } }"


async def test_a_session_ended_elsewhere_returns_to_the_login_page(page, web_server) -> None:
    # Given a customer logged in in the browser
    await page.goto("/login")
    await page.get_by_label("Электронная почта").fill("ivanova@example.com")
    await page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page.get_by_text("Вы вошли как ivanova@example.com")).to_be_visible()

    # When she logs out everywhere from her phone
    async with httpx.AsyncClient(base_url=web_server.url) as phone:
        credentials = {"email": "ivanova@example.com", "password": DEMO_PASSWORD}
        login = await phone.post("/graphql", json={"query": LOGIN, "variables": {"i": credentials}})
        token = login.json()["data"]["login"]["token"]
        ended = await phone.post(
            "/graphql",
            json={"query": "mutation { logoutEverywhere { endedSessions } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert ended.json()["data"]["logoutEverywhere"]["endedSessions"] == 2

    # Then the browser's next page goes to the login page, which says why
    await page.goto("/readings")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Freadings&ended=REVOKED$"))
    await expect(page.get_by_role("status")).to_contain_text("Сеанс завершён")
    # and after logging in again she is where she was going
    await page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    await page.get_by_label("Электронная почта").fill("ivanova@example.com")
    await page.get_by_role("button", name="Войти").click()
    await expect(page).to_have_url(re.compile(r"/readings$"))
