"""The two kinds of mail the account flows send: a link to act on, and a notice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from config import get_settings
from mail import send
from models.auth import TokenPurpose
from models.cabinets import Cabinet
from models.mail import MailLane
from services.core import throttle, tokens
from services.core.errors import CoreError, RuleError
from services.security import freeze


async def charge_mail_budget(cabinet_id: int) -> None:
    """Count one mail-sending call against the cabinet's hourly budget, before anything is
    queued or looked up (SECURITY.md 22): every rule that mails on a cabinet's request
    calls this first. Exact across aliases, batches and processes (services.core.throttle).
    Raises TOO_MANY_EMAILS past MAIL_BUDGET_PER_CABINET."""
    budget = throttle.Window(get_settings().mail_budget_per_cabinet, dt.timedelta(hours=1))
    try:
        await throttle.attempt((f"mail:cabinet:{cabinet_id}", budget))
    except throttle.Throttled as throttled:
        raise RuleError(CoreError.TOO_MANY_EMAILS, retry_after=throttled.retry_after) from None


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
    ttl = link_lifetime()
    issued = await tokens.issue(cabinet.id, purpose, ttl, email=to, recovery_id=recovery_id)
    await mail_token(issued, template, to=to, language=cabinet.language, context=context)
    return issued


def link_lifetime() -> dt.timedelta:
    return dt.timedelta(minutes=get_settings().email_link_minutes)


async def mail_token(
    issued: tokens.Issued,
    template: str,
    *,
    to: str,
    language: str,
    context: Mapping[str, object] | None = None,
) -> None:
    """Mail the link of a token issued already (see `mail_link`)."""
    await send(
        template,
        to=to,
        language=language,
        context={
            **(context or {}),
            "token": issued.token,
            "expires_minutes": get_settings().email_link_minutes,
        },
        lane=MailLane.SECURITY,
    )


async def notify(
    cabinet: Cabinet,
    template: str,
    *,
    to: str | None = None,
    lane: MailLane = MailLane.SECURITY,
    **context: object,
) -> None:
    """A notice to the cabinet's address (or `to`), with how to reach support; a security
    notice unless `lane` says it is routine."""
    await notify_address(to or cabinet.email, cabinet.language, template, lane=lane, **context)


async def notify_old_address(
    cabinet: Cabinet, template: str, *, to: str | None = None, **context: object
) -> None:
    """A security notice to the address that held the cabinet (SECURITY.md 21), with a
    "this wasn't me" link (`freeze_token`, FREEZE_LINK_DAYS) that freezes the cabinet.
    Call it inside the transaction of the change it reports."""
    address = to or cabinet.email
    token = await freeze.issue_link(cabinet.id, address)
    await notify(cabinet, template, to=address, freeze_token=token, **context)


async def notify_address(
    to: str, language: str, template: str, *, lane: MailLane = MailLane.SECURITY, **context: object
) -> None:
    """A notice to an address that may have no cabinet (it is taken; it has none)."""
    settings = get_settings()
    await send(
        template,
        to=to,
        language=language,
        context={
            "support_phone": settings.support_phone,
            "support_email": settings.support_email,
            "company": settings.company_name,
            **context,
        },
        lane=lane,
    )
