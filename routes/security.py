"""The two pages security mails link to, without a login: the signed token in the link is
the whole authority. A GET shows what the link will do, with a button; only the POST acts
(mail scanners fetch links with GET). Built as the e-receipt's pages are (routes.ereceipt).

- `/security/cancel-hold?token=...`: "Cancel, this wasn't me" from the warning of a held
  recovery: it never happens.
- `/security/freeze?token=...`: "This wasn't me" from a security notice: the cabinet is
  frozen (services.security.freeze).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from models.auth import HoldState
from routes.ereceipt import PAGE_HEADERS
from routes.pages import template
from services.core.errors import RuleError
from services.core.messages import language_from_header, message_for
from services.recovery import rules as recovery
from services.security import freeze as freezing
from services.security.sessions import Client

TEXTS = {
    "ru": {
        "home": "Личный кабинет клиента",
        "hold.title": "Отмена восстановления доступа",
        "hold.ask": "Кто-то просит перевести ваш кабинет на адрес {email}. Изменение ждёт до "
        "{until}. Отменить его?",
        "hold.button": "Отменить: это был не я",
        "hold.done": "Готово: восстановление отменено, кабинет остаётся за вами. Рекомендуем "
        "сменить пароль и позвонить в поддержку.",
        "hold.over": "Это восстановление уже не ждёт: оно отменено или завершено.",
        "freeze.title": "Заморозка кабинета",
        "freeze.ask": "Заморозить кабинет? Все сеансы завершатся, вход и восстановление "
        "будут закрыты, пока специалист не проверит кабинет и не свяжется с вами.",
        "freeze.button": "Заморозить кабинет",
        "freeze.done": "Готово: кабинет заморожен, все сеансы завершены. Специалист "
        "свяжется с вами по обращению, которое мы открыли.",
        "freeze.already": "Кабинет уже заморожен; специалист свяжется с вами.",
        "invalid.title": "Ссылка недействительна",
    },
    "en": {
        "home": "Customer cabinet",
        "hold.title": "Cancel the recovery",
        "hold.ask": "Someone asks to move your cabinet to {email}. The change waits until "
        "{until}. Cancel it?",
        "hold.button": "Cancel, this wasn't me",
        "hold.done": "Done: the recovery is canceled and the cabinet stays yours. We advise "
        "you to change the password and call support.",
        "hold.over": "This recovery is not waiting any more: it was canceled or completed.",
        "freeze.title": "Freeze the cabinet",
        "freeze.ask": "Freeze the cabinet? Every session ends, and login and recovery stay "
        "closed until a specialist has checked the cabinet and contacted you.",
        "freeze.button": "Freeze the cabinet",
        "freeze.done": "Done: the cabinet is frozen and every session has ended. A specialist "
        "will contact you about the question we opened.",
        "freeze.already": "The cabinet is frozen already; a specialist will contact you.",
        "invalid.title": "This link is not valid",
    },
}


def _client(request: Request) -> Client:
    peer = request.client.host if request.client else ""
    return Client(ip=peer, user_agent=request.headers.get("user-agent", "")[:300])


def _page(
    request: Request, title: str, text: str, *, button: str | None = None, **values: str
) -> Response:
    language = language_from_header(request.headers.get("accept-language"))
    texts = TEXTS[language]
    html = template("page.html").render(
        language=language,
        title=texts[title],
        paragraphs=[texts[text].format(**values)],
        button=texts[button] if button else None,
        one_click=False,
        action=f"{request.url.path}?{request.url.query}",
        home=request.app.state.settings.public_web_url.rstrip("/") + "/",
        home_label=texts["home"],
    )
    return HTMLResponse(html, 200, headers=PAGE_HEADERS)


def _refused(request: Request, error: RuleError) -> Response:
    language = language_from_header(request.headers.get("accept-language"))
    texts = TEXTS[language]
    html = template("page.html").render(
        language=language,
        title=texts["invalid.title"],
        paragraphs=[message_for(error, language)],
        button=None,
        one_click=False,
        action="",
        home=request.app.state.settings.public_web_url.rstrip("/") + "/",
        home_label=texts["home"],
    )
    status = 410 if error.code == "EXPIRED_TOKEN" else 404
    return HTMLResponse(html, status, headers=PAGE_HEADERS)


async def cancel_hold(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        if request.method == "POST":
            held = await recovery.cancel_hold(token, _client(request))
            text = "hold.done" if held.state == HoldState.CANCELED else "hold.over"
            button = None
        else:
            held = await recovery.describe_hold(token)
            over = held.state != HoldState.HELD
            text, button = ("hold.over", None) if over else ("hold.ask", "hold.button")
    except RuleError as error:
        return _refused(request, error)
    zone = ZoneInfo(request.app.state.settings.timezone)
    until = held.until.astimezone(zone).strftime("%d.%m.%Y %H:%M")
    return _page(request, "hold.title", text, button=button, email=held.masked_email, until=until)


async def freeze(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        if request.method == "POST":
            done = await freezing.freeze(token, _client(request))
            text, button = ("freeze.already" if done.already else "freeze.done"), None
        else:
            done = await freezing.describe(token)
            already = done.already
            text, button = ("freeze.already", None) if already else ("freeze.ask", "freeze.button")
    except RuleError as error:
        return _refused(request, error)
    return _page(request, "freeze.title", text, button=button)
