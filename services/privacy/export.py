"""A copy of everything a cabinet holds, for its owner (152-FZ art. 14; GDPR art. 15, 20).

`request` (requestDataExport) queues an export, one a day per cabinet. The personal-data
job of every server process claims queued exports as the outbox worker claims mail
(`models.sql.claim_due`: FOR UPDATE SKIP LOCKED on PostgreSQL), builds the ZIP, keeps its
bytes in the database (any process serves the download) and mails a signed link valid
DATA_EXPORT_LINK_HOURS. The link is bound to the export, to the cabinet and to its
address and password: a password or address change voids it, as it voids every link.

The ZIP holds one JSON file per kind of data (see `KINDS`), the photos the cabinet
uploaded and every receipt of its accounts as the PDF the cabinet downloads. Everything
is read through the cabinet's own id and its accounts, never anyone else's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import logging
import uuid
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from tortoise.transactions import in_transaction

from config import get_settings
from models import sql
from models.accounts import Account
from models.auth import SecurityEvent, Session
from models.billing import Payment, Receipt
from models.cabinets import Cabinet, CabinetAccount, Role
from models.mail import OutboxMessage
from models.metering import Meter, MeterReading, ReadingSubmission
from models.payments import Autopay, OnlinePayment, Refund
from models.privacy_requests import DataExport, DataExportContent, ExportState
from models.push import NotificationOptOut, PushDevice
from models.questions import Attachment, AttachmentContent, Question, QuestionMessage
from services.core.clock import now
from services.core.errors import NotAllowed, RuleError
from services.core.tokens import ClockSigner
from services.notifications.notices import charge_mail_budget, notify
from services.privacy.errors import PrivacyError
from services.receipts.document import load_receipt_document
from services.receipts.files import file_names, render_pdf

log = logging.getLogger("kabinet")

LINK_SALT = "kabinet.data_export"
EVERY = dt.timedelta(days=1)  # one export a day per cabinet
LEASE = dt.timedelta(minutes=10)  # a crashed builder's claim ends then
MAX_ATTEMPTS = 5
KINDS = (
    "cabinet",
    "accounts",
    "readings",
    "payments",
    "receipts",
    "questions",
    "sessions",
    "security_events",
    "mail",
    "autopay",
    "notifications",
)
_PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class Requested:
    requested_at: dt.datetime


async def request(cabinet: Cabinet) -> Requested:
    """requestDataExport: queue an export unless one was asked for in the last day."""
    if cabinet.role != Role.CUSTOMER:
        raise NotAllowed()
    moment = now()
    async with in_transaction():
        # The cabinet's row serialises two requests of one cabinet (aliases, processes).
        await Cabinet.filter(id=cabinet.id).select_for_update().get()
        last = await DataExport.filter(cabinet_id=cabinet.id).order_by("-requested_at").first()
        if last is not None and last.requested_at + EVERY > moment:
            raise RuleError(PrivacyError.TOO_MANY_EXPORTS, retry_after=last.requested_at + EVERY)
        await charge_mail_budget(cabinet.id)
        await DataExport.create(cabinet_id=cabinet.id, requested_at=moment, due_at=moment)
    return Requested(moment)


# ---------------------------------------------------------------- the signed link


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=LINK_SALT, signer=ClockSigner)


def _fingerprint(cabinet: Cabinet) -> str:
    """Changes when the address or the password does, which voids the link."""
    material = f"{cabinet.email}\0{cabinet.password_hash}".encode()
    return hashlib.sha256(material).hexdigest()[:16]


def sign_link(export_id: int, cabinet: Cabinet) -> str:
    return _serializer().dumps({"x": export_id, "c": cabinet.id, "f": _fingerprint(cabinet)})


@dataclass(frozen=True)
class Download:
    file_name: str
    data: bytes


async def download(token: str) -> Download | None:
    """The ZIP a link opens, or None for a link that is damaged, expired, voided, or of an
    export that is gone (all alike)."""
    if not token or len(token) > 500:
        return None
    max_age = get_settings().data_export_link_hours * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired too
        return None
    if not isinstance(data, dict) or not {"x", "c", "f"} <= data.keys():
        return None
    export = await DataExport.filter(
        id=data["x"], cabinet_id=data["c"], state=ExportState.SENT, expires_at__gt=now()
    ).first()
    cabinet = await Cabinet.filter(id=data["c"], disabled_at__isnull=True).first()
    if export is None or cabinet is None or _fingerprint(cabinet) != data["f"]:
        return None
    content = await DataExportContent.filter(export_id=export.id).first()
    if content is None:
        return None
    stamp = export.requested_at.strftime("%Y-%m-%d")
    return Download(f"kabinet-data-{stamp}.zip", bytes(content.data))


# ---------------------------------------------------------------- the builder


async def build_due(worker: str = "") -> int:
    """Build and mail the exports that are due; returns how many were claimed. Called by
    the personal-data job of every process; tests call it after moving the clock."""
    moment = now()
    token = f"{worker or 'export'}-{uuid.uuid4().hex[:12]}"[-64:]
    rows = await sql.claim_due(
        sql.connection(),
        "data_export",
        "id, cabinet_id, attempts",
        now=moment,
        limit=5,
        token=token,
        lease_until=moment + LEASE,
    )
    for row in rows:
        await _build_one(row["id"], row["cabinet_id"], row["attempts"], token)
    return len(rows)


async def _build_one(export_id: int, cabinet_id: int, attempts: int, token: str) -> None:
    try:
        data = await build_zip(cabinet_id)
    except Exception as exc:  # kept in the row, retried, then FAILED
        log.exception("data export %s: building failed", export_id)
        failed = attempts >= MAX_ATTEMPTS
        await DataExport.filter(id=export_id, claimed_by=token).update(
            state=ExportState.FAILED if failed else ExportState.PENDING,
            due_at=now() + dt.timedelta(minutes=2**attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        return
    moment = now()
    hours = get_settings().data_export_link_hours
    async with in_transaction():
        done = await DataExport.filter(
            id=export_id, claimed_by=token, state=ExportState.SENDING
        ).update(
            state=ExportState.SENT,
            ready_at=moment,
            expires_at=moment + dt.timedelta(hours=hours),
            size=len(data),
            last_error=None,
        )
        if done != 1:  # the lease ran out and another process took it over
            return
        await DataExportContent.create(export_id=export_id, data=data)
        cabinet = await Cabinet.get(id=cabinet_id)
        await notify(
            cabinet,
            "data_export_ready",
            token=sign_link(export_id, cabinet),
            expires_hours=hours,
        )


async def purge_expired() -> int:
    """Delete the ZIPs whose link has ended (the request's row stays: one a day)."""
    expired = DataExport.filter(state=ExportState.SENT, expires_at__lte=now())
    ids = await expired.values_list("id", flat=True)
    return await DataExportContent.filter(export_id__in=list(ids)).delete() if ids else 0


# ---------------------------------------------------------------- what goes in


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value"):  # enums
        return value.value
    raise TypeError(f"not JSON: {type(value).__name__}")


def _dump(value: Any) -> bytes:
    return json.dumps(value, default=_json, ensure_ascii=False, indent=2).encode()


async def build_zip(cabinet_id: int) -> bytes:
    """The ZIP of a cabinet's data: `<kind>.json` for each of KINDS, `photos/`, `receipts/`."""
    cabinet = await Cabinet.get(id=cabinet_id)
    links = await CabinetAccount.filter(cabinet_id=cabinet_id).order_by("linked_at", "id")
    account_ids = [link.account_id for link in links]  # type: ignore[attr-defined]
    linked_at = {link.account_id: link.linked_at for link in links}  # type: ignore[attr-defined]
    accounts = await Account.filter(id__in=account_ids).order_by("number")
    meters = await Meter.filter(account_id__in=account_ids).order_by("serial")
    meter_numbers = {m.id: m.serial for m in meters}
    number_of = {a.id: a.number for a in accounts}
    files: dict[str, bytes] = {}

    files["cabinet.json"] = _dump(
        {
            "email": cabinet.email,
            "email_verified_at": cabinet.email_verified_at,
            "language": cabinet.language,
            "created_at": cabinet.created_at,
            "privacy_notice_version": cabinet.privacy_notice_version,
            "privacy_notice_accepted_at": cabinet.privacy_notice_accepted_at,
        }
    )
    files["accounts.json"] = _dump(
        [
            {
                "number": a.number,
                "holder_name": a.holder_name,
                "address": a.address,
                "tariff": a.tariff,
                "balance": a.balance,
                "balance_on": a.balance_on,
                "linked_at": linked_at[a.id],
                "meters": [
                    {
                        "serial": m.serial,
                        "model": m.model,
                        "zones": m.zones,
                        "installed_on": m.installed_on,
                        "verified_on": m.verified_on,
                        "next_verification_on": m.next_verification_on,
                    }
                    for m in meters
                    if m.account_id == a.id  # type: ignore[attr-defined]
                ],
            }
            for a in accounts
        ]
    )
    readings = await MeterReading.filter(meter_id__in=list(meter_numbers)).order_by(
        "meter_id", "taken_on", "id"
    )
    submissions = await ReadingSubmission.filter(cabinet_id=cabinet_id).order_by("created_at")
    files["readings.json"] = _dump(
        {
            "readings": [
                {
                    "meter": meter_numbers[r.meter_id],  # type: ignore[attr-defined]
                    "taken_on": r.taken_on,
                    "t1": r.t1,
                    "t2": r.t2,
                    "t3": r.t3,
                    "source": r.source,
                    "status": r.status,
                }
                for r in readings
            ],
            "submitted_by_this_cabinet": [
                {"meter": meter_numbers.get(s.meter_id), "created_at": s.created_at}  # type: ignore[attr-defined]
                for s in submissions
            ],
        }
    )
    payments = await Payment.filter(account_id__in=account_ids).order_by("paid_at", "id")
    online = await OnlinePayment.filter(cabinet_id=cabinet_id).order_by("created_at", "id")
    refunds = await Refund.filter(payment_id__in=[p.id for p in online]).order_by("id")
    files["payments.json"] = _dump(
        {
            "received": [
                {
                    "account": number_of[p.account_id],  # type: ignore[attr-defined]
                    "amount": p.amount,
                    "paid_at": p.paid_at,
                    "channel": p.channel,
                }
                for p in payments
            ],
            "paid_online_in_this_cabinet": [
                {
                    "account": await _account_number(p.account_id, number_of),  # type: ignore[attr-defined]
                    "amount": p.amount,
                    "status": p.status,
                    "created_at": p.created_at,
                    "completed_at": p.completed_at,
                    "refunds": [
                        {"amount": r.amount, "status": r.status, "created_at": r.created_at}
                        for r in refunds
                        if r.payment_id == p.id  # type: ignore[attr-defined]
                    ],
                }
                for p in online
            ],
        }
    )
    receipts = await Receipt.filter(account_id__in=account_ids).order_by("account_id", "period")
    receipt_list = []
    for receipt in receipts:
        doc = await load_receipt_document(receipt.id)
        if doc is None:
            continue
        name, _ = file_names(doc)
        files[f"receipts/{name}"] = await render_pdf(doc)
        receipt_list.append(
            {
                "account": number_of[receipt.account_id],  # type: ignore[attr-defined]
                "period": receipt.period,
                "issued_on": receipt.issued_on,
                "due_on": receipt.due_on,
                "charged": receipt.charged,
                "paid": receipt.paid,
                "amount_due": receipt.amount_due,
                "file": f"receipts/{name}",
            }
        )
    files["receipts.json"] = _dump(receipt_list)

    photos = await Attachment.filter(cabinet_id=cabinet_id).order_by("id")
    contents = {
        c.attachment_id: bytes(c.data)  # type: ignore[attr-defined]
        for c in await AttachmentContent.filter(attachment_id__in=[p.id for p in photos])
    }
    photo_names: dict[int, str] = {}
    for photo in photos:
        if photo.id in contents:
            ext = _PHOTO_EXTENSIONS.get(photo.content_type, "bin")
            photo_names[photo.id] = f"photos/{photo.id}.{ext}"
            files[photo_names[photo.id]] = contents[photo.id]
    questions = await Question.filter(cabinet_id=cabinet_id).order_by("created_at", "id")
    messages = await QuestionMessage.filter(question_id__in=[q.id for q in questions]).order_by(
        "created_at", "id"
    )
    files["questions.json"] = _dump(
        [
            {
                "topic": q.topic,
                "subject": q.subject,
                "status": q.status,
                "account": number_of.get(q.account_id),  # type: ignore[attr-defined]
                "created_at": q.created_at,
                "closed_at": q.closed_at,
                "messages": [
                    {
                        "from": m.author_kind,
                        "body": m.body,
                        "created_at": m.created_at,
                        "photos": [
                            photo_names[p.id]
                            for p in photos
                            if p.message_id == m.id and p.id in photo_names  # type: ignore[attr-defined]
                        ],
                    }
                    for m in messages
                    if m.question_id == q.id  # type: ignore[attr-defined]
                ],
            }
            for q in questions
        ]
    )
    files["sessions.json"] = _dump(
        [
            {
                "created_at": s.created_at,
                "last_used_at": s.last_used_at,
                "expires_at": s.expires_at,
                "revoked_at": s.revoked_at,
                "ip": s.ip,
                "user_agent": s.user_agent,
            }
            for s in await Session.filter(cabinet_id=cabinet_id).order_by("created_at", "id")
        ]
    )
    files["security_events.json"] = _dump(
        [
            {
                "kind": e.kind,
                "at": e.created_at,
                "ip": e.ip,
                "user_agent": e.user_agent,
                "detail": e.detail,
            }
            for e in await SecurityEvent.filter(cabinet_id=cabinet_id).order_by("created_at", "id")
        ]
    )
    files["mail.json"] = _dump(
        [
            {
                "message_id": m.message_id,
                "to": m.recipient,
                "subject": m.subject,
                "kind": m.template,
                "created_at": m.created_at,
                "sent_at": m.sent_at,
                "state": m.state,
            }
            for m in await OutboxMessage.filter(recipient=cabinet.email).order_by(
                "created_at", "id"
            )
        ]
    )
    files["autopay.json"] = _dump(
        [
            {
                "account": await _account_number(a.account_id, number_of),  # type: ignore[attr-defined]
                "active": a.active_since is not None,
                "active_since": a.active_since,
                "method": a.method_title if a.active_since is not None else None,
                "max_amount_per_month": a.max_amount,
                "created_at": a.created_at,
            }
            for a in await Autopay.filter(cabinet_id=cabinet_id).order_by("created_at", "id")
        ]
    )
    files["notifications.json"] = _dump(
        {
            "push_devices": [
                {
                    "platform": d.platform,
                    "app_version": d.app_version,
                    "locale": d.locale,
                    "registered_at": d.created_at,
                }
                for d in await PushDevice.filter(cabinet_id=cabinet_id).order_by("created_at", "id")
            ],
            "turned_off": [
                {"event": o.event, "channel": o.channel, "since": o.created_at}
                for o in await NotificationOptOut.filter(cabinet_id=cabinet_id).order_by("id")
            ],
        }
    )
    files["README.txt"] = _readme(cabinet.language)
    return await asyncio.to_thread(_zip, files)  # compressing is CPU work: off the loop


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def _account_number(account_id: int, known: dict[int, str]) -> str:
    """An online payment stays the cabinet's after its account was unlinked."""
    if account_id in known:
        return known[account_id]
    account = await Account.filter(id=account_id).first()
    return account.number if account is not None else ""


def _readme(language: str) -> bytes:
    if language == "en":
        text = (
            "The data of your customer cabinet.\n\n"
            "cabinet.json - the cabinet; accounts.json - its accounts and meters;\n"
            "readings.json, payments.json, receipts.json (the bills in receipts/);\n"
            "questions.json (photos in photos/); sessions.json - logins;\n"
            "security_events.json - the security log; mail.json - mail we sent to you;\n"
            "autopay.json - autopay you set up; notifications.json - your app\n"
            "installations for push notifications and the notifications you turned off.\n"
        )
    else:
        text = (
            "Данные вашего личного кабинета.\n\n"
            "cabinet.json - кабинет; accounts.json - лицевые счета и счётчики;\n"
            "readings.json - показания, payments.json - платежи, receipts.json - квитанции\n"
            "(сами квитанции в receipts/); questions.json - обращения (фото в photos/);\n"
            "sessions.json - входы; security_events.json - журнал безопасности;\n"
            "mail.json - письма, которые мы вам отправили; autopay.json - автоплатежи;\n"
            "notifications.json - устройства для push-уведомлений и отключённые уведомления.\n"
        )
    return text.encode()
