"""Specialists: staff cabinets that answer customers' questions (`kabinet staff add`).

A specialist is a cabinet with the `staff` role and a display name, which is all a
customer ever sees of them. It holds no accounts and cannot act as a customer; a
person who is also a customer keeps their own cabinet under another address. An
address that already has a customer cabinet cannot become a specialist's.

Creating one issues a password-reset token (the same single-use, time-limited link
a customer gets by mail) for the operator to hand over; `setPassword` completes it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from config import get_settings
from mail.compose import link_builder
from models.auth import TokenPurpose
from models.cabinets import Cabinet, Role
from models.questions import Question, QuestionStatus
from services.core import tokens
from services.core.clock import now
from services.core.emails import normalize_email
from services.core.errors import CoreError, RuleError
from services.security import sessions
from services.security.passwords import hash_password
from services.staff.errors import StaffError

DISPLAY_NAME_MAX = 100
# The token's own signature outlives no more than a day (services.core.tokens), so neither
# can the link an operator hands to a new specialist.
INVITE_TTL = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Invited:
    cabinet: Cabinet
    created: bool
    link: str
    expires_at: dt.datetime


def clean_name(name: str | None) -> str | None:
    if name is None:
        return None
    cleaned = " ".join(name.split())
    if len(cleaned) > DISPLAY_NAME_MAX:
        raise RuleError(StaffError.NAME_TOO_LONG, "name", max=DISPLAY_NAME_MAX)
    return cleaned


async def add(email: str, name: str | None = None) -> Invited:
    """Create a specialist (or, for an existing one, rename it if asked) and issue a
    fresh link to set the password; earlier links of that kind die."""
    address = normalize_email(email)
    display_name = clean_name(name)
    # A password nobody knows, hashed like any other: until the link is used, logging
    # in fails exactly as a wrong password does.
    placeholder = await hash_password(secrets.token_urlsafe(32))
    async with in_transaction():
        cabinet = await Cabinet.filter(email=address).select_for_update().first()
        created = cabinet is None
        if cabinet is None:
            cabinet = await Cabinet.create(
                email=address,
                password_hash=placeholder,
                role=Role.STAFF,
                display_name=display_name or "",
            )
        elif cabinet.role != Role.STAFF:
            raise RuleError(CoreError.EMAIL_TAKEN, "email")
        else:
            # Renaming, or bringing back a specialist who was removed.
            if display_name is not None:
                cabinet.display_name = display_name
            cabinet.disabled_at = None
            await cabinet.save(update_fields=["display_name", "disabled_at", "updated_at"])
        await tokens.void_outstanding(cabinet.id, (TokenPurpose.RESET_PASSWORD,))
        issued = await tokens.issue(
            cabinet.id, TokenPurpose.RESET_PASSWORD, INVITE_TTL, email=address
        )
    link = link_builder(get_settings().public_web_url)("/set-password", token=issued.token)
    return Invited(cabinet, created, link, issued.expires_at)


@dataclass(frozen=True)
class Removed:
    cabinet: Cabinet
    sessions_ended: int
    questions_returned: int


async def remove(email: str) -> Removed:
    """Close a specialist's cabinet (someone who left the company): every session ends
    at once, outstanding links die, login and password reset fail as for an unknown
    address, and the questions assigned to them go back to the shared queue. Their
    answers stay, signed with their display name; `add` brings them back."""
    address = normalize_email(email)
    async with in_transaction():
        cabinet = await Cabinet.filter(email=address, role=Role.STAFF).select_for_update().first()
        if cabinet is None:
            raise RuleError(CoreError.SPECIALIST_NOT_FOUND, "email")
        if cabinet.disabled_at is None:
            cabinet.disabled_at = now()
            await cabinet.save(update_fields=["disabled_at", "updated_at"])
        ended = await sessions.revoke_all(cabinet.id)
        await tokens.void_outstanding(cabinet.id)
        returned = await Question.filter(
            assignee_id=cabinet.id, status__not=QuestionStatus.CLOSED
        ).update(assignee_id=None, updated_at=now())
    return Removed(cabinet, ended, returned)


async def specialists(*, removed_too: bool = False) -> list[Cabinet]:
    """The specialists at work; with `removed_too`, also those removed (`disabled_at`)."""
    query = Cabinet.filter(role=Role.STAFF)
    if not removed_too:
        query = query.filter(disabled_at__isnull=True)
    return await query.order_by("display_name", "email")
