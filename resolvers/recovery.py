"""Resolvers of recovery without e-mail: thin calls into services.recovery.rules."""

from __future__ import annotations

import strawberry

from resolvers.errors import attempt, outcome
from schema import recovery as s
from schema.context import Context
from schema.errors import MutationInput
from schema.scalars import Money
from services.core import telemetry
from services.recovery import rules as recovery

Info = strawberry.Info[Context]


async def start_recovery_without_email(
    info: Info, input: MutationInput[s.StartRecoveryWithoutEmailInput]
) -> s.StartRecoveryWithoutEmailPayload:
    ctx = info.context
    started, errors = await attempt(
        recovery.start(input.account_number, input.payment_amount, ctx.client),
        s.StartRecoveryWithoutEmailError,
        ctx.language,
    )
    telemetry.RECOVERIES.labels("start", outcome(errors)).inc()
    if started is None:
        no_payments = any(e.code.name == "NO_RECENT_PAYMENTS" for e in errors)
        return s.StartRecoveryWithoutEmailPayload(
            minimal_payment=Money(recovery.minimal_payment()) if no_payments else None,
            user_errors=errors,
        )
    ctx.no_referrer()
    return s.StartRecoveryWithoutEmailPayload(
        recovery_token=started.recovery_token,
        expires_at=started.expires_at,
        masked_email=started.masked_email,
    )


async def confirm_new_email(
    info: Info, input: MutationInput[s.ConfirmNewEmailInput]
) -> s.ConfirmNewEmailPayload:
    ctx = info.context
    ctx.no_referrer()
    address, errors = await attempt(
        recovery.confirm_new_email(input.recovery_token, input.new_email, ctx.client),
        s.ConfirmNewEmailError,
        ctx.language,
    )
    telemetry.RECOVERIES.labels("confirm_new_email", outcome(errors)).inc()
    return s.ConfirmNewEmailPayload(sent_to=address, user_errors=errors)
