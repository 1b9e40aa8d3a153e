"""`GET /receipts/{id}.pdf`: the printable bill of a receipt, for its owner only.

Who may have it:
- the session (bearer token or the session cookie, resolved exactly as GraphQL resolves
  it), when the receipt is of an account the cabinet holds; or
- a signed link from `Receipt.pdfUrl` (`?token=...`): 10 minutes, this receipt only,
  and only while the cabinet it was issued to still holds the account.

Answers: 200 with the PDF; 401 when the request presents no live session and no link;
404 for everything else alike: a missing receipt, another customer's, a malformed id,
and a link that is expired, tampered with or made for another receipt (the link
answers for itself: a bad link is not retried as a session).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from resolvers.context import request_session
from schema.relay import decode_id
from services.receipts import files as receipt_files

NO_STORE = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link's token must not leak onward
}


def _not_found() -> Response:
    return PlainTextResponse("Not found", 404, headers=NO_STORE)


async def receipt_pdf(request: Request) -> Response:
    receipt_id = decode_id("Receipt", request.path_params["receipt_id"])
    token = request.query_params.get("token")
    if token is not None:
        cabinet_id = receipt_files.cabinet_of_link(token, receipt_id or 0)
        if cabinet_id is None:
            return _not_found()
    else:
        session, _ = await request_session(request, request.app.state.settings)
        if session is None:
            headers = {**NO_STORE, "WWW-Authenticate": 'Bearer realm="kabinet"'}
            return PlainTextResponse("Log in first", 401, headers=headers)
        cabinet_id = session.cabinet_id  # type: ignore[attr-defined]
    if receipt_id is None:
        return _not_found()
    found = await receipt_files.owned_receipt_pdf(cabinet_id, receipt_id)
    if found is None:
        return _not_found()
    doc, pdf = found
    download = request.query_params.get("download") in {"1", "true"}
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **NO_STORE,
            "Content-Disposition": receipt_files.content_disposition(doc, download=download),
        },
    )
