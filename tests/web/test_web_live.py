"""The web client's payment page is told of the payment's outcome over the
onlinePaymentUpdated subscription (web/js/live.js), not by asking every two seconds; and
when the socket is refused it falls back to asking."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Page, WebSocket, expect

from tests.web.test_web_account import log_in

pytestmark = pytest.mark.browser


async def press_pay(base_url: str, confirmation_url: str) -> None:
    """The acquirer's side, outside the browser: the sandbox's Pay, which notifies the
    server's webhook."""
    path = urlsplit(confirmation_url).path
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        page = await http.get(path)
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)[1]  # type: ignore[index]
        pressed = await http.post(path, data={"csrf": csrf, "action": "pay"})
        assert pressed.status_code == 200, pressed.text


def status_queries(requests: list[str]) -> int:
    return sum(
        '"query OnlinePayment(' in body or "query OnlinePayment(" in body for body in requests
    )


async def pending_payment(page: Page) -> str:
    """Start a payment, leave the acquirer's page without paying, come back to the
    payment's status (PENDING); returns the acquirer's page."""
    await log_in(page, "/payments")
    await page.get_by_label("Сумма, ₽").fill("250,50")
    await page.get_by_role("button", name="Перейти к оплате").click()
    await expect(page).to_have_url(re.compile(r"/payments/sandbox/"))
    sandbox = page.url
    await page.go_back()
    await expect(page.get_by_role("status").filter(has_text="250,50")).to_contain_text(
        "обрабатывается"
    )
    return sandbox


async def test_the_payment_page_updates_without_polling(page: Page, web_server) -> None:
    requests: list[str] = []
    page.on(
        "request",
        lambda r: requests.append(r.post_data or "") if r.url.endswith("/graphql") else None,
    )
    frames: list[dict] = []
    subscribed = asyncio.Event()

    def on_socket(socket: WebSocket) -> None:
        def received(payload: str | bytes) -> None:
            message = json.loads(payload)
            frames.append(message)
            if message["type"] == "next":
                subscribed.set()

        socket.on("framereceived", received)

    page.on("websocket", on_socket)
    sandbox = await pending_payment(page)
    await asyncio.wait_for(subscribed.wait(), 30)  # the socket's first answer: PENDING

    await press_pay(web_server.url, sandbox)

    await expect(page.get_by_role("status").filter(has_text="250,50")).to_contain_text("прошёл")
    statuses = [
        f["payload"]["data"]["onlinePaymentUpdated"]["status"]
        for f in frames
        if f["type"] == "next"
    ]
    assert statuses[-1] == "SUCCEEDED", frames  # told over the socket ...
    assert status_queries(requests) == 1, requests  # ... after one query, never asked again


async def test_without_the_socket_the_page_asks_again(page: Page, web_server) -> None:
    requests: list[str] = []
    page.on(
        "request",
        lambda r: requests.append(r.post_data or "") if r.url.endswith("/graphql") else None,
    )

    async def refuse(socket) -> None:  # a proxy that does not pass WebSocket upgrades
        await socket.close(code=1011, reason="no upgrades here")

    await page.route_web_socket(re.compile(r".*/graphql$"), refuse)
    sandbox = await pending_payment(page)
    await press_pay(web_server.url, sandbox)
    await expect(page.get_by_role("status").filter(has_text="250,50")).to_contain_text("прошёл")
    assert status_queries(requests) >= 2, requests
