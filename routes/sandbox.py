"""The sandbox acquirer's payment page, `/payments/sandbox/<order>` (development and tests).

The page shows the amount with two buttons, Pay and Cancel, in a plain HTML form protected
against CSRF (a signed double-submit token bound to the payment, and the Origin checked).
Pressing one sends the notification a real acquirer would send (`SandboxProvider.
notification`, signed) to the webhook through the application's whole HTTP stack. Pressing
again sends the same event again. The provider itself - its orders, its notifications - is
`payments.providers.sandbox`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from models.payments import PaymentStatus
from payments.providers.sandbox import PAGE_PATH, WEBHOOK_PATH, SandboxProvider
from payments.signing import HEADER, sign
from services.core.clock import now
from services.core.money import format_rub

CSRF_COOKIE = "kabinet_sandbox_csrf"
EVENTS = {"pay": PaymentStatus.SUCCEEDED, "cancel": PaymentStatus.CANCELED}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    # Not no-referrer: with it a browser sends `Origin: null` on the page's own POST (Fetch,
    # "serializing a request origin"), which the Origin check refuses. same-origin still
    # keeps the page's address (it holds the signed order) from going to anyone else.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def routes(provider: SandboxProvider) -> list[Route]:
    page = SandboxPage(provider)
    return [Route(f"{PAGE_PATH}/{{token}}", page.page, methods=["GET", "POST"])]


class SandboxPage:
    """The confirmation page of `provider`'s orders: GET shows it, POST decides."""

    def __init__(self, provider: SandboxProvider) -> None:
        self.provider = provider
        self.settings = provider.settings

    def _csrf(self, cookie: str, order: dict[str, Any]) -> str:
        message = f"sandbox-csrf:{cookie}:{order['id']}".encode()
        return hmac.new(self.settings.secret_key.encode(), message, hashlib.sha256).hexdigest()

    def _same_origin(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None:
            return True  # browsers send Origin with a cross-site POST; its absence is not one
        ours = {f"{request.url.scheme}://{request.url.netloc}"}
        public = urlsplit(self.settings.public_web_url)
        ours.add(f"{public.scheme}://{public.netloc}")
        return origin.lower() in {o.lower() for o in ours}

    async def page(self, request: Request) -> Response:
        order = self.provider.order(request.path_params["token"])
        if order is None:
            return _page("Платёж не найден", "<p>Ссылка на оплату повреждена.</p>", 404)
        if now().timestamp() > order["expires"]:
            return _page("Срок оплаты истёк", "<p>Вернитесь в личный кабинет.</p>", 410)
        if request.method == "POST":
            return await self._decide(request, order)
        cookie = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        response = _page("Оплата (песочница)", self._form(order, self._csrf(cookie, order)))
        response.set_cookie(
            CSRF_COOKIE,
            cookie,
            path=PAGE_PATH,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    def _form(self, order: dict[str, Any], csrf: str) -> str:
        amount = html.escape(format_rub(Decimal(order["amount"])))
        return (
            f"<p>{html.escape(order['description'])}</p>"
            f"<p class=amount>{amount} ₽</p>"
            "<p class=note>Песочница: деньги не списываются. "
            "Sandbox: no money is taken.</p>"
            + (
                "<p class=note>Карта *4444 будет сохранена для автоплатежа. "
                "Card *4444 will be saved for autopay.</p>"
                if order.get("save")
                else ""
            )
            + '<form method="post">'
            f'<input type="hidden" name="csrf" value="{csrf}">'
            '<button name="action" value="pay">Оплатить / Pay</button> '
            '<button name="action" value="cancel">Отменить / Cancel</button>'
            "</form>"
        )

    async def _decide(self, request: Request, order: dict[str, Any]) -> Response:
        form = parse_qs((await request.body())[:4096].decode("utf-8", "replace"))
        cookie = request.cookies.get(CSRF_COOKIE, "")
        given = (form.get("csrf") or [""])[0]
        expected = self._csrf(cookie, order)
        if (
            not cookie
            or not hmac.compare_digest(given.encode(), expected.encode())
            or not self._same_origin(request)
        ):
            return _page("Запрос отклонён", "<p>Откройте страницу оплаты заново.</p>", 403)
        status = EVENTS.get((form.get("action") or [""])[0])
        if status is None:
            return _page("Запрос отклонён", "<p>Нажмите «Оплатить» или «Отменить».</p>", 400)
        body = self.provider.notification(order, status)
        delivered = await deliver(request.app, WEBHOOK_PATH, body, sign(self.provider.secret, body))
        title = "Оплата прошла" if status == PaymentStatus.SUCCEEDED else "Оплата отменена"
        back = html.escape(order["return"])
        return _page(
            title,
            f"<p>Уведомление отправлено магазину: HTTP {delivered}.</p>"
            f'<p><a href="{back}">Вернуться в личный кабинет</a></p>',
        )


async def deliver(app: Any, path: str, body: bytes, signature: str) -> int:
    """POST the webhook through the application's ASGI stack, as an acquirer's request
    arrives (routing, middleware, the handler); returns the HTTP status."""
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    headers = [
        (b"host", b"sandbox.invalid"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (HEADER.lower().encode(), signature.encode()),
        (b"user-agent", b"kabinet-sandbox"),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": ("sandbox.invalid", 443),
    }
    await app(scope, receive, send)
    return status


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}"
        ".amount{font-size:2rem;font-weight:600}.note{color:#666;font-size:.9rem}"
        "button{font:inherit;padding:.5rem 1rem;margin:.25rem .5rem 0 0}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=SECURITY_HEADERS)
