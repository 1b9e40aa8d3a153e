"""Recovery without e-mail: inputs and payloads of its two steps (the third is setPassword)."""

from __future__ import annotations

import datetime as dt

import strawberry

from resolvers import recovery as recovery_resolvers
from resolvers.context import Context
from schema.accounts import PROOF_CODES
from schema.errors import MutationInput, attempt, error_type, outcome
from schema.scalars import Money
from services.core import telemetry
from services.core.errors import CoreError
from services.recovery.errors import RecoveryError
from services.security.errors import SecurityError

Info = strawberry.Info[Context]


@strawberry.input(description="Prove ownership of an account whose cabinet's mailbox is lost.")
class StartRecoveryWithoutEmailInput:
    account_number: str = strawberry.field(description="Account number as on the bill.")
    payment_amount: str = strawberry.field(
        description='Amount of any payment to the account in the last year, e.g. "1 234,56".'
    )


StartRecoveryWithoutEmailError = error_type(
    "StartRecoveryWithoutEmail",
    [*PROOF_CODES, RecoveryError.NO_CABINET, SecurityError.CABINET_FROZEN],
    retryable=True,
)


@strawberry.type(description="The result of startRecoveryWithoutEmail.")
class StartRecoveryWithoutEmailPayload:
    recovery_token: str | None = strawberry.field(
        default=None, description="Pass to confirmNewEmail; valid 15 minutes."
    )
    expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the recovery token expires."
    )
    masked_email: str | None = strawberry.field(
        default=None, description="The cabinet's current address, masked: i***@mail.ru."
    )
    minimal_payment: Money | None = strawberry.field(
        default=None,
        description="With NO_RECENT_PAYMENTS: the payment to make before trying again.",
    )
    user_errors: list[StartRecoveryWithoutEmailError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Name the new e-mail address of the cabinet being recovered.")
class ConfirmNewEmailInput:
    recovery_token: str = strawberry.field(description="From startRecoveryWithoutEmail.")
    new_email: str = strawberry.field(description="The address to move the cabinet to.")


ConfirmNewEmailError = error_type(
    "ConfirmNewEmail",
    [
        CoreError.INVALID_TOKEN,
        CoreError.EXPIRED_TOKEN,
        CoreError.INVALID_EMAIL,
        CoreError.TOO_MANY_ATTEMPTS,
        CoreError.TOO_MANY_EMAILS,
    ],
    retryable=True,
)


@strawberry.type(
    description="The result of confirmNewEmail: a link to set the password went "
    "to the new address; the old one has been told. The answer is the same when the new "
    "address already has a cabinet: that address is told so by e-mail instead."
)
class ConfirmNewEmailPayload:
    sent_to: str | None = strawberry.field(default=None, description="The new address.")
    user_errors: list[ConfirmNewEmailError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


# ---------------------------------------------------------------- the fields


async def start_recovery_without_email(
    info: Info, input: MutationInput[StartRecoveryWithoutEmailInput]
) -> StartRecoveryWithoutEmailPayload:
    started, errors = await attempt(
        recovery_resolvers.start_recovery_without_email(info, input),
        StartRecoveryWithoutEmailError,
        info.context.language,
    )
    telemetry.RECOVERIES.labels("start", outcome(errors)).inc()
    if started is None:
        no_payments = any(e.code.name == "NO_RECENT_PAYMENTS" for e in errors)
        return StartRecoveryWithoutEmailPayload(
            minimal_payment=Money(recovery_resolvers.minimal_payment()) if no_payments else None,
            user_errors=errors,
        )
    return StartRecoveryWithoutEmailPayload(
        recovery_token=started.recovery_token,
        expires_at=started.expires_at,
        masked_email=started.masked_email,
    )


async def confirm_new_email(
    info: Info, input: MutationInput[ConfirmNewEmailInput]
) -> ConfirmNewEmailPayload:
    address, errors = await attempt(
        recovery_resolvers.confirm_new_email(info, input),
        ConfirmNewEmailError,
        info.context.language,
    )
    telemetry.RECOVERIES.labels("confirm_new_email", outcome(errors)).inc()
    return ConfirmNewEmailPayload(sent_to=address, user_errors=errors)
