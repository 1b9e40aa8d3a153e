"""HTTP caching of GraphQL answers: only a persisted query (APQ) asked over GET, answered
200 without errors, may be kept - and only by the client itself.

Such an answer gets `Cache-Control: private, max-age=GRAPHQL_GET_MAX_AGE` (0 by default:
kept, but asked again every time), a strong ETag over its media type and bytes, and
`Vary: Accept, Authorization, Cookie` (with the compression's `Accept-Encoding`): the same
URL is the GraphiQL page for a browser and a different answer for another session. A
request whose If-None-Match names that tag (weak comparison, RFC 9110 13.1.2: the
compressed copy's tag is the weak form) gets 304 without a body; the query still runs,
the bytes are what is saved. `private` always: most answers are the viewer's own, and a
shared cache (a proxy, a CDN) must never hand one customer's answer to another.

Everything else keeps the endpoint's `no-store`: POST (mutations), GET of a query sent in
full, answers with errors (their cause may pass), 4xx/5xx, answers setting a cookie.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from config import Settings

VARY = "Accept, Authorization, Cookie"


def _persisted(extensions: dict[str, Any] | None) -> bool:
    return isinstance(extensions, dict) and isinstance(extensions.get("persistedQuery"), dict)


def cacheable(
    request: Request, extensions: dict[str, Any] | None, result: Any, response: Response
) -> bool:
    return (
        request.method == "GET"  # a GET runs queries only (schema/http.py)
        and _persisted(extensions)
        and response.status_code == 200
        and not getattr(result, "errors", None)
        and "set-cookie" not in response.headers
    )


def etag_of(response: Response) -> str:
    digest = hashlib.sha256(response.media_type.encode() if response.media_type else b"")
    digest.update(b"\n")
    digest.update(response.body)
    return '"' + base64.urlsafe_b64encode(digest.digest()[:18]).decode() + '"'


def matching(if_none_match: str | None, etag: str) -> str | None:
    """The tag of If-None-Match that names `etag` (weakly), as the client wrote it."""
    if not if_none_match:
        return None
    if if_none_match.strip() == "*":
        return etag
    for tag in (t.strip() for t in if_none_match.split(",")):
        if tag.removeprefix("W/") == etag:
            return tag
    return None


def conditional(
    request: Request,
    extensions: dict[str, Any] | None,
    result: Any,
    response: Response,
    settings: Settings,
) -> Response:
    """`response` made cacheable (or 304) when it may be; else as it is (`no-store`)."""
    if not cacheable(request, extensions, result, response):
        return response
    etag = etag_of(response)
    headers = {
        "Cache-Control": f"private, max-age={max(settings.graphql_get_max_age, 0)}",
        "ETag": etag,
        "Vary": VARY,
    }
    held = matching(request.headers.get("if-none-match"), etag)
    if held is not None:
        return Response(status_code=304, headers={**headers, "ETag": held})
    response.headers.update(headers)
    return response
