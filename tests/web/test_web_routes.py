"""The web client's files as the server serves them (routes/web.py): pages of the app on
every path that is not the API's, static files under /static, a strict CSP on both."""

from __future__ import annotations

import pytest

from routes.web import is_app_path

APP_PATHS = [
    "/",
    "/login",
    "/verify-email",
    "/set-password",
    "/questions/UXVlc3Rpb246MQ",
    "/payments",
    "/receipts",
    "/pay",
    "/submit-reading",
]
NOT_APP = [
    "/favicon.ico",
    "/receipts/abc",
    "/payments/sandbox",
    "/ereceipt/x",
    "/static",
    "/metrics/x",
    "/graphql/",
]


@pytest.mark.parametrize("path", APP_PATHS)
def test_app_paths(path: str) -> None:
    assert is_app_path(path)


@pytest.mark.parametrize("path", NOT_APP)
def test_api_paths_are_not_the_app(path: str) -> None:
    assert not is_app_path(path)


async def test_the_links_in_mail_open_the_app(client) -> None:
    for path in (
        "/",
        "/verify-email?token=abc.def",
        "/set-password?token=abc",
        "/login",
        "/pay?status=abc.def",
        "/submit-reading",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/static/js/app.js"></script>' in response.text
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        # the API and its WebSocket (subscriptions), named for pre-CSP3 browsers
        assert "connect-src 'self' wss://lk.example.ru;" in csp
        # the tokens in these links never leave in a Referer
        assert response.headers["referrer-policy"] == "no-referrer"


async def test_static_files(client) -> None:
    script = await client.get("/static/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in script.headers["content-security-policy"]
    again = await client.get("/static/js/app.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    assert (await client.get("/static/css/app.css")).headers["content-type"].startswith("text/css")
    assert (await client.get("/static/js/missing.js")).status_code == 404
    assert (await client.get("/static/../server.py")).status_code == 404


async def test_the_api_is_not_shadowed(client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    version = await client.post("/graphql", json={"query": "{ version }"})
    assert "version" in version.json()["data"]
    for path in ("/receipts/nothing.pdf", "/receipts/abc", "/favicon.ico", "/attachments/x"):
        response = await client.get(path)
        assert response.status_code in (401, 404), path  # the API's answer, not a page
        assert "text/html" not in response.headers.get("content-type", ""), path
    assert (await client.post("/")).status_code == 405


def test_the_security_log_names_every_kind_in_both_languages() -> None:
    """Every SecurityEventKind has a sentence in ru and en on /security (STAFF_VIEWED is
    written from its detail), so the page never shows a raw enum name."""
    import re
    from pathlib import Path

    from models.auth import SecurityEventKind

    source = (Path(__file__).parents[2] / "web/js/pages/security-log.js").read_text()
    ru, en = source.split("\n  en: {", 1)
    for kind in SecurityEventKind:
        if kind is SecurityEventKind.STAFF_VIEWED:
            continue
        key = re.escape(f"'security.kind.{kind.name}': '")
        assert re.search(key, ru), f"{kind.name} has no Russian sentence"
        assert re.search(key, en), f"{kind.name} has no English sentence"


def test_the_settings_name_every_notification_event_in_both_languages() -> None:
    """Every NotificationEvent has a name in ru and en on /settings' notifications."""
    import re
    from pathlib import Path

    from services.notifications.events import NotificationEvent

    source = (Path(__file__).parents[2] / "web/js/pages/settings.js").read_text()
    ru, en = source.split("\n  en: {", 1)
    for event in NotificationEvent:
        key = re.escape(f"'notification.{event.name}': '")
        assert re.search(key, ru), f"{event.name} has no Russian name"
        assert re.search(key, en), f"{event.name} has no English name"
