"""Resolvers of the cabinet's own mutations: thin calls into services.auth.rules."""

from __future__ import annotations

import strawberry

from resolvers.errors import attempt, outcome
from schema import auth as s
from schema.context import Context
from schema.errors import MutationInput
from schema.relay import decode_id
from services.auth import rules as auth
from services.core import telemetry
from services.security import sessions

Info = strawberry.Info[Context]


async def me(info: Info) -> s.User | None:
    viewer = await info.context.viewer()
    return s.User.from_model(viewer) if viewer is not None else None


async def register(info: Info, input: MutationInput[s.RegisterInput]) -> s.RegisterPayload:
    ctx = info.context
    cabinet, errors = await attempt(
        auth.register(
            account_number=input.account_number,
            payment_amount=input.payment_amount,
            email=input.email,
            password=input.password,
            language=ctx.language,
            client=ctx.client,
        ),
        s.RegisterError,
        ctx.language,
    )
    return s.RegisterPayload(
        user=s.User.from_model(cabinet) if cabinet else None, user_errors=errors
    )


async def verify_email(
    info: Info, input: MutationInput[s.VerifyEmailInput]
) -> s.VerifyEmailPayload:
    ctx = info.context
    cabinet, errors = await attempt(
        auth.verify_email(input.token, ctx.client), s.VerifyEmailError, ctx.language
    )
    return s.VerifyEmailPayload(
        user=s.User.from_model(cabinet) if cabinet else None, user_errors=errors
    )


async def resend_verification(info: Info) -> s.ResendVerificationPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    _, errors = await attempt(
        auth.resend_verification(cabinet, ctx.client), s.ResendVerificationError, ctx.language
    )
    return s.ResendVerificationPayload(
        sent_to=None if errors else cabinet.email, user_errors=errors
    )


async def login(info: Info, input: MutationInput[s.LoginInput]) -> s.LoginPayload:
    ctx = info.context
    done, errors = await attempt(
        auth.login(input.email, input.password, ctx.client), s.LoginError, ctx.language
    )
    telemetry.LOGINS.labels(outcome(errors)).inc()
    if done is None:
        return s.LoginPayload(user_errors=errors)
    ctx.adopt_session(done.session, done.token)
    return s.LoginPayload(
        token=done.token,
        expires_at=sessions.expires_at(done.session),
        user=s.User.from_model(done.cabinet),
    )


async def logout(info: Info) -> s.LogoutPayload:
    ctx = info.context
    session = await ctx.require_session()
    await auth.logout(session, ctx.client)
    ctx.end_session_cookie()
    return s.LogoutPayload(ended_sessions=1)


async def logout_everywhere(info: Info) -> s.LogoutPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    ended = await auth.logout_everywhere(cabinet, ctx.client)
    ctx.end_session_cookie()
    return s.LogoutPayload(ended_sessions=ended)


async def logout_other_devices(info: Info) -> s.LogoutPayload:
    ctx = info.context
    session = await ctx.require_session()
    return s.LogoutPayload(ended_sessions=await auth.logout_other_devices(session, ctx.client))


async def revoke_session(info: Info, input: MutationInput[s.RevokeSessionInput]) -> s.LogoutPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    session_id = decode_id("Session", input.id) or -1
    _, errors = await attempt(
        auth.revoke_session(cabinet, session_id, ctx.client), s.LogoutError, ctx.language
    )
    return s.LogoutPayload(ended_sessions=0 if errors else 1, user_errors=errors)


async def request_password_reset(
    info: Info, input: MutationInput[s.RequestPasswordResetInput]
) -> s.RequestPasswordResetPayload:
    ctx = info.context
    _, errors = await attempt(
        auth.request_password_reset(input.email, ctx.client),
        s.RequestPasswordResetError,
        ctx.language,
    )
    return s.RequestPasswordResetPayload(accepted=not errors, user_errors=errors)


async def set_password(
    info: Info, input: MutationInput[s.SetPasswordInput]
) -> s.SetPasswordPayload:
    ctx = info.context
    ctx.no_referrer()
    cabinet, errors = await attempt(
        auth.set_password(input.token, input.password, ctx.client),
        s.SetPasswordError,
        ctx.language,
    )
    return s.SetPasswordPayload(
        user=s.User.from_model(cabinet) if cabinet else None, user_errors=errors
    )


async def change_password(
    info: Info, input: MutationInput[s.ChangePasswordInput]
) -> s.ChangePasswordPayload:
    ctx = info.context
    session = await ctx.require_session()
    _, errors = await attempt(
        auth.change_password(
            session.cabinet, session, input.current_password, input.new_password, ctx.client
        ),
        s.ChangePasswordError,
        ctx.language,
    )
    return s.ChangePasswordPayload(
        user=None if errors else s.User.from_model(session.cabinet), user_errors=errors
    )


async def change_email(
    info: Info, input: MutationInput[s.ChangeEmailInput]
) -> s.ChangeEmailPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    address, errors = await attempt(
        auth.change_email(cabinet, input.password, input.new_email, ctx.client),
        s.ChangeEmailError,
        ctx.language,
    )
    return s.ChangeEmailPayload(sent_to=address, user_errors=errors)
