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
from services import tokens
from services.emails import normalize_email
from services.errors import RuleError
from services.passwords import hash_password

DISPLAY_NAME_MAX = 100
# The token's own signature outlives no more than a day (services.tokens), so neither
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
        raise RuleError("NAME_TOO_LONG", "name", max=DISPLAY_NAME_MAX)
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
            raise RuleError("EMAIL_TAKEN", "email")
        elif display_name is not None:
            cabinet.display_name = display_name
            await cabinet.save(update_fields=["display_name", "updated_at"])
        await tokens.void_outstanding(cabinet.id, (TokenPurpose.RESET_PASSWORD,))
        issued = await tokens.issue(
            cabinet.id, TokenPurpose.RESET_PASSWORD, INVITE_TTL, email=address
        )
    link = link_builder(get_settings().public_web_url)("/set-password", token=issued.token)
    return Invited(cabinet, created, link, issued.expires_at)


async def specialists() -> list[Cabinet]:
    return await Cabinet.filter(role=Role.STAFF).order_by("display_name", "email")
