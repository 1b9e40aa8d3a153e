"""The customer's consent to the personal-data notice (152-FZ): which version each cabinet
accepted and when. Registration needs the current version (PRIVACY_NOTICE_VERSION); when the
notice changes, `notice()` says so until the customer accepts the new one. Every acceptance
is an entry of the cabinet's security log.

It lives with registration, which needs it, rather than in services/privacy: deleting a
cabinet there asks for the password under the login throttle (services.auth), and the
two domains may not import each other."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from config import get_settings
from models.auth import SecurityEventKind
from models.cabinets import Cabinet, Role
from services.auth.errors import AuthError
from services.core.clock import now
from services.core.errors import RuleError
from services.security import audit
from services.security.sessions import Client

PATH = "/privacy"


def current_version() -> str:
    return get_settings().privacy_notice_version


def notice_url() -> str:
    return get_settings().public_web_url.rstrip("/") + PATH


@dataclass(frozen=True)
class Notice:
    """The notice as one cabinet stands with it."""

    version: str  # the current one
    url: str
    accepted_version: str | None
    accepted_at: dt.datetime | None

    @property
    def accepted(self) -> bool:
        return self.accepted_version == self.version


def notice(cabinet: Cabinet) -> Notice | None:
    """The current notice and what the cabinet accepted; None for a specialist (the notice
    is the customers')."""
    if cabinet.role != Role.CUSTOMER:
        return None
    return Notice(
        current_version(),
        notice_url(),
        cabinet.privacy_notice_version,
        cabinet.privacy_notice_accepted_at,
    )


def check_version(version: str | None, field: str) -> str:
    """The current version, if `version` is it; else PRIVACY_NOTICE_NOT_ACCEPTED."""
    current = current_version()
    if (version or "").strip() != current:
        raise RuleError(
            AuthError.PRIVACY_NOTICE_NOT_ACCEPTED, field, version=current, url=notice_url()
        )
    return current


async def record(cabinet: Cabinet, version: str, client: Client) -> None:
    """Store the acceptance of `version` on the cabinet and in its security log, in one
    transaction (the caller's, if any). A version the cabinet has accepted already changes
    nothing and logs nothing, however many requests accept it at once."""
    moment = now()
    async with in_transaction():
        changed = (
            await Cabinet.filter(id=cabinet.id)
            .filter(Q(privacy_notice_version__isnull=True) | ~Q(privacy_notice_version=version))
            .update(privacy_notice_version=version, privacy_notice_accepted_at=moment)
        )
        if changed:
            await audit.record(
                cabinet.id, SecurityEventKind.PRIVACY_NOTICE_ACCEPTED, client, version
            )
    if changed:
        cabinet.privacy_notice_version, cabinet.privacy_notice_accepted_at = version, moment


async def accept(cabinet: Cabinet, version: str | None, client: Client) -> Cabinet:
    """The customer accepts the notice `version` their client showed: it must be the current
    one."""
    await record(cabinet, check_version(version, "version"), client)
    return cabinet
