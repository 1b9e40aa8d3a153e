"""A receipt's PDF as a file for its owner: who may have it, the short-lived signed link
that opens it without the session, its file name, and rendering off the event loop.

The signed link carries the receipt and the cabinet it was issued to, signed with a salt
of its own and time-limited (RECEIPT_LINK_MINUTES). It is checked against the database
on every use: once the account leaves the cabinet, a leaked link opens nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer

from config import get_settings
from models import sql
from services.core.clock import now
from services.core.pools import background_pool
from services.core.timeutil import format_period
from services.core.tokens import ClockSigner
from services.receipts.document import ReceiptDocument, load_receipt_document
from services.receipts.pdf import render_receipt_pdf

LINK_SALT = "kabinet.receipt_pdf"
_MAX_ID = 2**63 - 1

# Rendering a bill takes tens of milliseconds of CPU: never on the event loop.
_POOL = background_pool("receipt-pdf")


async def render_pdf(doc: ReceiptDocument) -> bytes:
    """`render_receipt_pdf` in the rendering pool, so other requests go on meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, render_receipt_pdf, doc)


async def cabinet_holds(cabinet_id: int, receipt_id: int) -> bool:
    """Whether the receipt is of an account the cabinet holds now."""
    if not 0 < receipt_id <= _MAX_ID:
        return False
    row = await sql.fetch_one(
        sql.connection(),
        "SELECT r.id FROM receipt r JOIN cabinet_account ca ON ca.account_id = r.account_id "
        "WHERE r.id = ? AND ca.cabinet_id = ?",
        [receipt_id, cabinet_id],
    )
    return row is not None


async def owned_receipt_pdf(
    cabinet_id: int, receipt_id: int
) -> tuple[ReceiptDocument, bytes] | None:
    """The bill and its PDF if the cabinet holds the receipt's account; None for a
    missing receipt and another customer's alike."""
    if not await cabinet_holds(cabinet_id, receipt_id):
        return None
    doc = await load_receipt_document(receipt_id)
    if doc is None:  # deleted in between
        return None
    return doc, await render_pdf(doc)


# ---------------------------------------------------------------- the signed link


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=LINK_SALT, signer=ClockSigner)


@dataclass(frozen=True)
class SignedLink:
    token: str
    expires_at: dt.datetime


def sign_link(receipt_id: int, cabinet_id: int) -> SignedLink:
    """A token opening one receipt's PDF for RECEIPT_LINK_MINUTES, bound to the cabinet."""
    minutes = get_settings().receipt_link_minutes
    token = _serializer().dumps({"r": receipt_id, "c": cabinet_id})
    return SignedLink(token, now() + dt.timedelta(minutes=minutes))


def cabinet_of_link(token: str, receipt_id: int) -> int | None:
    """The cabinet a live link for this receipt was issued to; None when the token is
    expired, tampered with, or made for another receipt."""
    if not token or len(token) > 500:
        return None
    try:
        data = _serializer().loads(token, max_age=get_settings().receipt_link_minutes * 60)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or data.get("r") != receipt_id:
        return None
    cabinet_id = data.get("c")
    return cabinet_id if isinstance(cabinet_id, int) else None


# ---------------------------------------------------------------- the file


def file_names(doc: ReceiptDocument) -> tuple[str, str]:
    """(ASCII, Russian) names of the bill's file: kvitanciya-001234567890-2026-10.pdf."""
    stem = f"{doc.account_number}-{format_period(doc.period)}.pdf"
    return f"kvitanciya-{stem}", f"квитанция-{stem}"


def content_disposition(doc: ReceiptDocument, *, download: bool = False) -> str:
    """`inline` (or `attachment`) with an ASCII `filename` for old clients and the
    Russian one in RFC 5987 form (`filename*=UTF-8''...`) for the others."""
    ascii_name, name = file_names(doc)
    kind = "attachment" if download else "inline"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
