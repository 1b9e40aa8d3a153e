"""The two kinds of mail the account flows send: a link to act on, and a notice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from config import get_settings
from mail import send
from models.auth import TokenPurpose
from models.cabinets import Cabinet
from services.core import tokens


async def mail_link(
    cabinet: Cabinet,
    purpose: TokenPurpose,
    template: str,
    *,
    to: str,
    recovery_id: int | None = None,
    context: Mapping[str, object] | None = None,
) -> tokens.Issued:
    """Issue a single-use token bound to `to` and mail its link there (EMAIL_LINK_MINUTES),
    with `context` for the template besides the token. Call it inside the transaction of
    the change the link belongs to."""
    minutes = get_settings().email_link_minutes
    issued = await tokens.issue(
        cabinet.id, purpose, dt.timedelta(minutes=minutes), email=to, recovery_id=recovery_id
    )
    await send(
        template,
        to=to,
        language=cabinet.language,
        context={**(context or {}), "token": issued.token, "expires_minutes": minutes},
    )
    return issued


async def notify(
    cabinet: Cabinet, template: str, *, to: str | None = None, **context: object
) -> None:
    """A notice to the cabinet's address (or `to`), with how to reach support."""
    settings = get_settings()
    await send(
        template,
        to=to or cabinet.email,
        language=cabinet.language,
        context={
            "support_phone": settings.support_phone,
            "support_email": settings.support_email,
            "company": settings.company_name,
            **context,
        },
    )
