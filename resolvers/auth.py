"""Resolvers of the cabinet's own fields and mutations: thin calls into
services.auth. They hand back domain results (cabinets, sessions, counts) and let the
rules' RuleErrors through; the schema turns both into payloads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from models.auth import Session
from models.cabinets import Cabinet
from resolvers import paging
from resolvers.context import Context, NotAuthenticated
from services.auth import read_model
from services.auth import rules as auth
from services.core.ids import decode_id
from services.core.paging import Page
from services.recovery.rules import Completed
from services.security import freeze
from services.security import sessions as session_rules

Info = strawberry.Info[Context]


async def me(info: Info) -> Cabinet | None:
    return await info.context.viewer()


async def require_own(info: Info, cabinet_pk: int) -> None:
    """The fields of a cabinet are its own session's only."""
    viewer = await info.context.viewer()
    if viewer is None or viewer.id != cabinet_pk:
        raise NotAuthenticated()


async def sessions(info: Info, cabinet_pk: int) -> list[tuple[Session, bool]]:
    """The cabinet's live sessions, most recently used first, each with whether it is
    the one making this request."""
    current = await info.context.session()
    return [
        (s, current is not None and s.id == current.id)
        for s in await session_rules.active(cabinet_pk)
    ]


async def security_events(cabinet_id: int, first: int, after: str | None) -> Page:
    """`me.securityEvents`: the cabinet's security log, newest first."""
    args = paging.page_args(first, after, (None, None), dt.datetime)
    rows = await read_model.security_events(cabinet_id, args)
    return Page.cut(rows, args, "created_at", lambda: read_model.count_security_events(cabinet_id))


async def register(info: Info, input: Any) -> auth.Registered:
    ctx = info.context
    return await auth.register(
        account_number=input.account_number,
        payment_amount=input.payment_amount,
        email=input.email,
        password=input.password,
        language=ctx.language,
        client=ctx.client,
        privacy_notice=input.accept_privacy_notice,
    )


async def verify_email(info: Info, input: Any) -> Cabinet:
    return await auth.verify_email(input.token, info.context.client)


async def resend_verification(info: Info) -> str:
    """The address the link went to."""
    ctx = info.context
    cabinet = await ctx.require_viewer()
    await auth.resend_verification(cabinet, ctx.client)
    return cabinet.email


async def login(info: Info, input: Any) -> auth.LoggedIn:
    """A login answers the rest of its request as the new session (and sets its cookie)."""
    ctx = info.context
    done = await auth.login(input.email, input.password, ctx.client, ctx.device())
    ctx.adopt_session(done.session, done.token)
    ctx.remember_device(done.device)
    return done


def expires_at(session: Session) -> dt.datetime:
    return session_rules.expires_at(session)


async def logout(info: Info) -> int:
    """How many sessions ended."""
    ctx = info.context
    session = await ctx.require_session()
    await auth.logout(session, ctx.client)
    ctx.end_session_cookie()
    return 1


async def logout_everywhere(info: Info) -> int:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    ended = await auth.logout_everywhere(cabinet, ctx.client)
    ctx.end_session_cookie()
    return ended


async def logout_other_devices(info: Info) -> int:
    ctx = info.context
    session = await ctx.require_session()
    return await auth.logout_other_devices(session, ctx.client)


async def revoke_session(info: Info, input: Any) -> int:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    session_id = decode_id("Session", input.id) or -1
    await auth.revoke_session(cabinet, session_id, ctx.client)
    return 1


async def request_password_reset(info: Info, input: Any) -> None:
    ctx = info.context
    await auth.request_password_reset(input.email, ctx.client, ctx.language)


async def set_password(info: Info, input: Any) -> Completed:
    """The cabinet set, or the recovery held (`Completed.hold_until`)."""
    ctx = info.context
    ctx.no_referrer()
    return await auth.set_password(input.token, input.password, ctx.client)


async def change_password(info: Info, input: Any) -> Cabinet:
    """The cabinet, whose other sessions have ended."""
    ctx = info.context
    session = await ctx.require_session()
    await auth.change_password(
        session.cabinet,
        session,
        input.current_password,
        input.new_password,
        ctx.client,
        ctx.device(),
    )
    return session.cabinet


async def change_email(info: Info, input: Any) -> str:
    """The new address, where the confirmation link went."""
    ctx = info.context
    cabinet = await ctx.require_viewer()
    return await auth.change_email(
        cabinet, input.password, input.new_email, ctx.client, ctx.device()
    )


async def unfreeze_cabinet(info: Info, input: Any) -> Cabinet:
    """A specialist lifts a freeze; `cabinetId` is the Customer id they see on questions."""
    ctx = info.context
    await ctx.require_viewer()
    return await freeze.unfreeze(decode_id("Customer", input.cabinet_id) or 0, ctx.client)


async def set_mail_language(info: Info, input: Any) -> Cabinet:
    cabinet = await info.context.require_viewer()
    return await auth.set_mail_language(cabinet, input.language)
