"""The reference web client: static files from `web/`, served by this server.

- `/static/...`: the files of `web/` (HTML, CSS, JavaScript modules; no build step), and
  under `/static/graphiql/` those of GraphiQL's page (schema/ide.py; not in production).
- Every other GET that no route of the API took is a page of the single-page app:
  `/`, the links in e-mails (`/verify-email?token=`, `/set-password?token=`,
  `/questions/<id>`) and the app's own paths all answer `web/index.html`, and the app's
  router draws the page. Paths under the API's prefixes (`/graphql`, `/receipts`,
  `/attachments`, `/payments`, `/ereceipt`, `/metrics`, ...) and paths that look like a
  file (`/favicon.ico`) are never the app: they stay 404 when nothing matched them.

This route list is mounted last, so it shadows no API route. The pages carry a strict
Content-Security-Policy: scripts are same-origin module files only (no inline script, no
eval), styles same-origin files, requests only to our own origin (and its WebSocket,
named for browsers older than CSP Level 3: the subscriptions of web/js/live.js). Tokens
arrive in the query string of these pages; `Referrer-Policy: no-referrer` (every response
has it, see server.RequestContext) keeps them from leaking onward.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from config import ROOT

WEB_DIR = ROOT / "web"
STATIC_PREFIX = "/static"
# First path segments of the API: the path and everything below it is never an app page.
API_ONLY = frozenset({"graphql", "healthz", "readyz", "metrics", "static", "api"})
# First segments whose paths *below* belong to the API (`/receipts/<id>.pdf`,
# `/payments/sandbox/...`); the bare word is free for an app page (`/payments`).
API_BELOW = frozenset({"receipts", "attachments", "payments", "ereceipt", "security"})
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'{socket}; font-src 'self'; manifest-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def socket_origin(public_web_url: str) -> str:
    """The WebSocket origin of PUBLIC_WEB_URL (wss for https), where the pages open their
    subscriptions: CSP Level 3 lets 'self' match it, older browsers need it named."""
    parts = urlsplit(public_web_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}"


def headers_for(public_web_url: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY.format(
            socket=f" {socket_origin(public_web_url)}"
        ),
        # No build step means no content hashes in the names: revalidate every time (the
        # answer is a cheap 304 while the file is unchanged).
        "Cache-Control": "no-cache",
    }


HEADERS = headers_for("http://127.0.0.1:8000")  # PUBLIC_WEB_URL's default


class _StaticFiles(StaticFiles):
    """Starlette's StaticFiles (ETag, Last-Modified, 304s, no path traversal) with the
    app's headers on every answer."""

    def __init__(self, *args: Any, headers: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def is_app_path(path: str) -> bool:
    """Whether `path` is one the single-page app draws (else the server's 404 stands)."""
    segments = path.strip("/").split("/")
    if segments[0] in API_ONLY or (segments[0] in API_BELOW and len(segments) > 1):
        return False
    return "." not in segments[-1]


def app_page(headers: dict[str, str]):
    async def page(request: Request) -> Response:
        if not is_app_path(request.url.path):
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(WEB_DIR / "index.html", headers=headers, media_type="text/html")

    return page


async def not_found(request: Request) -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def routes(
    web_dir: Path = WEB_DIR, graphiql: bool = True, public_web_url: str = "http://127.0.0.1:8000"
) -> list[BaseRoute]:
    """The web client's routes; mount them after every API route. Without `graphiql`
    (production) the files of GraphiQL's page under /static/graphiql/ are not served."""
    headers = headers_for(public_web_url)
    hidden = [] if graphiql else [Route(f"{STATIC_PREFIX}/graphiql/{{path:path}}", not_found)]
    return [
        *hidden,
        Mount(STATIC_PREFIX, app=_StaticFiles(directory=web_dir, headers=headers), name="static"),
        Route("/{path:path}", app_page(headers), methods=["GET", "HEAD"]),
    ]
