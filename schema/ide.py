"""GraphiQL at `GET /graphql` for a browser, outside production, served whole from this server.

The page (web/graphiql/index.html) loads React, ReactDOM and GraphiQL vendored in
web/graphiql/vendor/ (`make graphiql`, with their licences and MANIFEST.json) and our
start script, all from `/static/graphiql/`: no CDN, so it works without internet, and its
policy is as strict as the web client's: scripts from this origin only (no inline script,
no eval), styles from this origin or carrying the answer's nonce, requests only here.

Which GET is the page: one from a browser, whose Accept prefers `text/html` to JSON, with
or without `?query=` (GraphiQL keeps the document in the address, so a reload asks for
`/graphql?query=...`). An API client's GET names JSON or nothing and gets the result.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from config import ROOT, Settings
from services.core import qvalues

PAGE = ROOT / "web" / "graphiql" / "index.html"
# `{nonce}`: a new one for every answer; only GraphiQL's own run-time <style> gets it
# (web/graphiql/start.js). No inline script, no eval, nothing from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_JSON_TYPES = {"application/json", "application/graphql-response+json"}


def page(settings: Settings) -> str | None:
    """The page's HTML, or None where GraphiQL is not served (production)."""
    return None if settings.is_production else PAGE.read_text(encoding="utf-8")


def wanted(request: Request) -> bool:
    """Whether this request is a browser asking for the page: a GET whose Accept names
    `text/html` above every JSON type it names (a browser's `*/*` does not count)."""
    if request.method != "GET":
        return False
    qualities = qvalues.weights(request.headers.get("accept"))
    html = qualities.get("text/html", 0.0)
    return html > 0 and all(html > qualities.get(media, 0.0) for media in _JSON_TYPES)


def response(html: str | None) -> Response:
    if html is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    nonce = secrets.token_urlsafe(18)
    return HTMLResponse(
        html.replace("{{nonce}}", nonce),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY.format(nonce=nonce),
            "Cache-Control": "no-store",  # a nonce is good for one answer
        },
    )
