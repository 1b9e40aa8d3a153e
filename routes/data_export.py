"""`GET /data-export?token=...`: the ZIP of a data export (requestDataExport), opened by
the signed link mailed to the cabinet. The link answers for itself, without a session,
for DATA_EXPORT_LINK_HOURS; a link that is damaged, expired, voided by a password or
address change, or of an export that is gone answers 404 alike."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from services.privacy import export

NO_STORE = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link's token must not leak onward
}


async def download(request: Request) -> Response:
    found = await export.download(request.query_params.get("token", ""))
    if found is None:
        return PlainTextResponse("This link is not valid or has expired.", 404, headers=NO_STORE)
    return Response(
        found.data,
        media_type="application/zip",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="{found.file_name}"',
        },
    )
