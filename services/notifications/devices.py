"""Push devices: an app installation's FCM or APNs token, bound to the session that
registered it. A session has at most one device (a token that rotates replaces the old
one); a token is one device, and registering it again moves it to the registering
session (the phone changed hands, or the app logged in again). When the session ends the
device goes with it (services.security.sessions.revoke/revoke_all)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from config import get_settings
from models.auth import Session
from models.push import PushDevice, PushMessage, PushPlatform, PushState
from services.core.clock import now
from services.core.errors import CoreError, RuleError
from services.notifications.errors import NotificationError

_FCM_TOKEN = re.compile(r"[A-Za-z0-9_:\-]{20,4096}")
_APNS_TOKEN = re.compile(r"(?:[0-9a-fA-F]{2}){16,256}")
_LOCALE = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")
LANGUAGES = ("ru", "en")
# Every event fans out to each device: a cabinet keeps its most recently registered ones.
MAX_DEVICES_PER_CABINET = 20


@dataclass(frozen=True)
class Registration:
    platform: PushPlatform
    token: str
    app_version: str
    locale: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def read_registration(
    platform: PushPlatform, token: str, app_version: str | None, locale: str | None
) -> Registration:
    """Check and normalise what an app sends; RuleErrors name the input field."""
    token = (token or "").strip()
    pattern = _APNS_TOKEN if platform == PushPlatform.IOS else _FCM_TOKEN
    if not pattern.fullmatch(token):
        raise RuleError(NotificationError.INVALID_PUSH_TOKEN, "token")
    if platform == PushPlatform.IOS:
        token = token.lower()
    version = app_version or ""
    if len(version) > 32 or not version.isprintable() or version != version.strip():
        raise RuleError(NotificationError.INVALID_APP_VERSION, "appVersion")
    tag = (locale or "ru").strip()
    match = _LOCALE.fullmatch(tag) if len(tag) <= 35 else None
    if match is None:
        raise RuleError(NotificationError.INVALID_LOCALE, "locale")
    language = match[1].lower()
    # Texts exist in Russian and English; any other language reads the company's Russian.
    return Registration(platform, token, version, language if language in LANGUAGES else "ru")


async def register(session: Session, registration: Registration) -> PushDevice:
    """Bind the token to `session` (idempotent: the same token again refreshes the row)."""
    digest = token_hash(registration.token)
    cabinet_id: int = session.cabinet_id  # type: ignore[attr-defined]
    moment = now()
    fields = {
        "cabinet_id": cabinet_id,
        "session_id": session.id,
        "platform": registration.platform,
        "token": registration.token,
        "app_version": registration.app_version,
        "locale": registration.locale,
        "last_seen_at": moment,
    }
    for _ in range(2):  # a concurrent first registration of the token wins the insert
        async with in_transaction():
            # The session's previous token (rotated by FCM or APNs) is replaced.
            await PushDevice.filter(session_id=session.id).exclude(token_hash=digest).delete()
            existing = await PushDevice.filter(token_hash=digest).select_for_update().first()
            if existing is None:
                try:
                    async with in_transaction():
                        device = await PushDevice.create(
                            token_hash=digest, created_at=moment, **fields
                        )
                except IntegrityError:
                    continue
                await _keep_the_newest(cabinet_id)
                return device
            if existing.cabinet_id != cabinet_id:  # type: ignore[attr-defined]
                # Another cabinet's pushes still waiting must not reach the new owner.
                await PushMessage.filter(
                    device_id=existing.id, state__in=[PushState.PENDING, PushState.SENDING]
                ).delete()
            await PushDevice.filter(id=existing.id).update(**fields)
            await existing.refresh_from_db()
            return existing
    raise RuntimeError("push device: the token's row kept changing")  # pragma: no cover


async def _keep_the_newest(cabinet_id: int) -> None:
    stale = (
        await PushDevice.filter(cabinet_id=cabinet_id)
        .order_by("-last_seen_at", "-id")
        .offset(MAX_DEVICES_PER_CABINET)
        .values_list("id", flat=True)
    )
    if stale:
        await PushDevice.filter(id__in=list(stale)).delete()


async def unregister(cabinet_id: int, *, device_id: int | None, token: str | None) -> None:
    """Forget one of the cabinet's devices, by id or by token; NOT_FOUND otherwise."""
    query = PushDevice.filter(cabinet_id=cabinet_id)
    if device_id is not None:
        query = query.filter(id=device_id)
    elif token:
        query = query.filter(token_hash=token_hash(token.strip()))
    else:
        raise RuleError(CoreError.NOT_FOUND, "id")
    if not await query.delete():
        raise RuleError(CoreError.NOT_FOUND, "id" if device_id is not None else "token")


async def devices(cabinet_id: int) -> list[PushDevice]:
    """The cabinet's devices whose session is live, newest first."""
    moment = now()
    idle = get_settings().session_idle_minutes
    return (
        await PushDevice.filter(
            cabinet_id=cabinet_id,
            session__revoked_at__isnull=True,
            session__expires_at__gt=moment,
            session__last_used_at__gt=moment - dt.timedelta(minutes=idle),
        )
        .order_by("-created_at", "-id")
        .all()
    )
