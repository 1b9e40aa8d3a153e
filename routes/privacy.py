"""`/privacy`: the personal-data notice customers accept (PRIVACY_NOTICE_VERSION), in Russian
or English: `?lang=ru|en`, else the browser's Accept-Language. Public, no login, no cookies;
its periods are the deployment's retention settings, so the page never tells another story
than the retention job does."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from routes.pages import template
from services.core.messages import LANGUAGES, language_from_header

HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}
TEXTS = {
    "ru": {
        "title": "Уведомление об обработке персональных данных",
        "version": "Редакция от",
        "other_language": "English",
        "home": "Личный кабинет клиента",
    },
    "en": {
        "title": "Personal data notice",
        "version": "Version of",
        "other_language": "Русский",
        "home": "Customer cabinet",
    },
}


async def notice(request: Request) -> Response:
    language = request.query_params.get("lang", "")
    if language not in LANGUAGES:
        language = language_from_header(request.headers.get("accept-language"))
    settings = request.app.state.settings
    html = template("privacy.html").render(
        language=language,
        other="en" if language == "ru" else "ru",
        t=TEXTS[language],
        version=settings.privacy_notice_version,
        company={
            "name": settings.company_name,
            "inn": settings.company_inn,
            "address": settings.company_address,
            "phone": settings.company_phone,
            "site": settings.company_site,
        },
        retention={
            "mail": settings.mail_body_retention_days,
            "sessions": settings.session_retention_days,
            "audit": settings.audit_retention_days,
            "unverified": settings.unverified_cabinet_retention_days,
        },
        home=settings.public_web_url.rstrip("/") + "/",
    )
    return HTMLResponse(html, headers={**HEADERS, "Content-Language": language})
