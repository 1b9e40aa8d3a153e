"""The two pages the electronic receipt's e-mails link to. Both work without a login and
without cookies: the signed token in the link is the whole authority.

- `/ereceipt/confirm?token=...`: GET shows what confirming the address will do, with a
  button; POST confirms it (link scanners of mail services fetch links with GET, so a
  GET never acts).
- `/ereceipt/unsubscribe?token=...`: the `List-Unsubscribe` address of every receipt
  mail. POST stops the electronic receipt at once: that is RFC 8058's one-click
  unsubscribe, which mail programs send as `List-Unsubscribe=One-Click` without any
  cookie; the body is not needed. GET shows a confirmation page with a button (the
  link in the mail's footer).

An unknown, damaged or expired token answers a page saying so (404; 410 for an expired
confirmation link). Pages carry `Referrer-Policy: no-referrer` and are never cached.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from routes.pages import template
from services.core.errors import RuleError
from services.core.messages import language_from_header, message_for
from services.ereceipts import rules as ereceipts

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

TEXTS = {
    "ru": {
        "home": "Личный кабинет клиента",
        "confirm.title": "Подтверждение адреса",
        "confirm.ask": "Присылать электронные квитанции по лицевому счёту {account} на адрес "
        "{email}?",
        "confirm.button": "Подтвердить адрес",
        "confirm.done": "Готово: квитанции по лицевому счёту {account} будут приходить на "
        "адрес {email}. Отказаться можно по ссылке в любом письме с квитанцией.",
        "unsubscribe.title": "Отказ от электронной квитанции",
        "unsubscribe.ask": "Больше не присылать квитанции по лицевому счёту {account} на "
        "адрес {email}?",
        "unsubscribe.button": "Отказаться от электронной квитанции",
        "unsubscribe.done": "Готово: квитанции по лицевому счёту {account} больше не будут "
        "приходить на адрес {email}. Снова подключить их можно в личном кабинете.",
        "unsubscribe.already": "Квитанции по лицевому счёту {account} на адрес {email} уже "
        "не отправляются.",
        "invalid.title": "Ссылка недействительна",
    },
    "en": {
        "home": "Customer cabinet",
        "confirm.title": "Confirm the address",
        "confirm.ask": "Send the electronic receipts of account {account} to {email}?",
        "confirm.button": "Confirm the address",
        "confirm.done": "Done: the bills of account {account} will come to {email}. Every "
        "receipt mail has a link to stop them.",
        "unsubscribe.title": "Stop the electronic receipt",
        "unsubscribe.ask": "Stop sending the bills of account {account} to {email}?",
        "unsubscribe.button": "Stop the electronic receipt",
        "unsubscribe.done": "Done: the bills of account {account} will no longer come to "
        "{email}. You can switch them on again in the customer cabinet.",
        "unsubscribe.already": "The bills of account {account} are not sent to {email} any more.",
        "invalid.title": "This link is not valid",
    },
}


def _page(
    request: Request,
    title: str,
    text: str,
    *,
    status: int = 200,
    button: str | None = None,
    **values: str,
) -> Response:
    language = language_from_header(request.headers.get("accept-language"))
    texts = TEXTS[language]
    settings = request.app.state.settings
    html = template("page.html").render(
        language=language,
        title=texts[title],
        paragraphs=[texts.get(text, text).format(**values)],
        button=texts[button] if button else None,
        one_click=request.url.path.endswith("/unsubscribe"),
        action=f"{request.url.path}?{request.url.query}",
        home=settings.public_web_url.rstrip("/") + "/",
        home_label=texts["home"],
    )
    return HTMLResponse(html, status, headers=PAGE_HEADERS)


def _refused(request: Request, error: RuleError) -> Response:
    language = language_from_header(request.headers.get("accept-language"))
    status = 410 if error.code == "EXPIRED_TOKEN" else 404
    return _page(request, "invalid.title", message_for(error, language), status=status)


async def confirm(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        if request.method == "POST":
            done = await ereceipts.confirm_email(token)
            text, button = "confirm.done", None
        else:
            done = await ereceipts.describe_confirmation(token)
            text, button = "confirm.ask", "confirm.button"
    except RuleError as error:
        return _refused(request, error)
    return _page(
        request,
        "confirm.title",
        text,
        button=button,
        account=done.account_number,
        email=done.email,
    )


async def unsubscribe(request: Request) -> Response:
    token = request.query_params.get("token", "")
    act = request.method == "POST"
    try:
        found = await ereceipts.unsubscribe_by_link(token, act=act)
    except RuleError as error:
        return _refused(request, error)
    if not found.was_active:
        text, button = "unsubscribe.already", None
    elif act:
        text, button = "unsubscribe.done", None
    else:
        text, button = "unsubscribe.ask", "unsubscribe.button"
    return _page(
        request,
        "unsubscribe.title",
        text,
        button=button,
        account=found.account_number,
        email=found.email,
    )
