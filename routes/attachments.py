"""The HTTP routes of photos, beside /graphql (GraphQL carries no file bodies):

- `POST /attachments`: the raw bytes of one JPEG or PNG as the request body (any
  Content-Type; the bytes decide). 201 with `{"id", "contentType", "size", "width",
  "height"}`; the id then goes into `askQuestion`/`replyToQuestion` (customers) or
  `answerQuestion` (specialists).
- `GET /attachments/{id}`: the photo, to its uploader, to specialists once it belongs
  to a question, and to the question's customer once it was sent in an answer; 404 to
  anyone else, logged in or not.

Both authenticate as /graphql does (bearer token, or the session cookie from our own
origin). Refusals are JSON: `{"error": {"code", "message"}}`, in the request's language.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models.cabinets import Cabinet
from resolvers.context import Context
from services.core.clock import now
from services.core.errors import NotAllowed, RuleError
from services.core.ids import decode_id, encode_id
from services.core.messages import language_from_header, message_for
from services.questions import attachments

STATUS = {
    "ATTACHMENT_TOO_LARGE": 413,
    "ATTACHMENT_TOO_MANY_PIXELS": 413,
    "ATTACHMENT_NOT_IMAGE": 415,
    "TOO_MANY_PENDING_ATTACHMENTS": 429,
    "TOO_MANY_REJECTED_ATTACHMENTS": 429,
    "ATTACHMENT_QUEUE_FULL": 429,
}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}
PRIVATE = {
    "X-Content-Type-Options": "nosniff",
    # The viewer's own data: browsers may keep it, shared caches and proxies never.
    "Cache-Control": "private, max-age=3600",
    "Vary": "Authorization, Cookie",
}


async def _viewer(request: Request) -> Cabinet | None:
    ctx = Context.for_request(request, Response(), request.app.state.settings)
    return await ctx.viewer()


def _refusal(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status,
        headers={**PRIVATE, "Cache-Control": "no-store", **headers},
    )


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


async def upload(request: Request) -> Response:
    language = language_from_header(request.headers.get("accept-language"))
    viewer = await _viewer(request)
    if viewer is None:
        return _refusal(401, "UNAUTHENTICATED", "Log in first.")
    try:
        row = await attachments.upload(viewer, request.stream(), _declared_length(request))
    except NotAllowed:
        return _refusal(403, "FORBIDDEN", "Not allowed.")
    except RuleError as refused:
        status = STATUS[refused.code]
        # The rest of a refused body is never read: the connection cannot be reused.
        extra = {"Connection": "close"} if status == 413 else {}
        if refused.retry_after is not None:
            wait = (refused.retry_after - now()).total_seconds()
            extra["Retry-After"] = str(max(1, math.ceil(wait)))
        return _refusal(status, refused.code, message_for(refused, language), **extra)
    body: dict[str, Any] = {
        "id": encode_id("Attachment", row.id),
        "contentType": row.content_type,
        "size": row.size,
        "width": row.width,
        "height": row.height,
    }
    return JSONResponse(body, status_code=201, headers={**PRIVATE, "Cache-Control": "no-store"})


async def download(request: Request) -> Response:
    not_found = _refusal(404, "NOT_FOUND", "Not found.")
    viewer = await _viewer(request)
    pk = decode_id("Attachment", request.path_params["id"])
    if viewer is None or pk is None:
        return not_found
    found = await attachments.viewable(viewer, pk)
    if found is None:
        return not_found
    row, data = found
    name = f"photo-{request.path_params['id']}.{EXTENSIONS.get(row.content_type, 'bin')}"
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            **PRIVATE,
            # Should a browser ever render it as a document, it can do nothing.
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cross-Origin-Resource-Policy": "same-site",
        },
    )
