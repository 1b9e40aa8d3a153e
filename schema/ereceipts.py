"""Inputs and payloads of the electronic receipt's mutations."""

from __future__ import annotations

import strawberry

from resolvers import ereceipts as ereceipt_resolvers
from resolvers.context import Context
from schema.accounts import Account
from schema.errors import MutationInput, attempt, error_type
from services.core.errors import CoreError
from services.ereceipts.errors import EReceiptError

Info = strawberry.Info[Context]


@strawberry.input(description="Switch an account to the electronic receipt.")
class SubscribeEReceiptInput:
    account_id: strawberry.ID = strawberry.field(description="Id of the account.")
    email: str | None = strawberry.field(
        default=None,
        description="Where to send the bills. Empty: the cabinet's own address (which must "
        "be confirmed). Another address gets a confirmation link first, and the bills go "
        "there once it is followed.",
    )


SubscribeEReceiptError = error_type(
    "SubscribeEReceipt",
    [
        CoreError.NOT_FOUND,
        CoreError.INVALID_EMAIL,
        EReceiptError.EMAIL_NOT_VERIFIED,
        CoreError.TOO_MANY_ATTEMPTS,
        CoreError.TOO_MANY_EMAILS,
    ],
    retryable=True,
)


@strawberry.type(description="The result of subscribeEReceipt.")
class SubscribeEReceiptPayload:
    account: Account | None = strawberry.field(
        default=None, description="The account; `eReceipt` shows its state now."
    )
    confirmation_sent_to: str | None = strawberry.field(
        default=None,
        description="The address a confirmation link went to; null when the bills go to "
        "the cabinet's address at once.",
    )
    user_errors: list[SubscribeEReceiptError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Stop the electronic receipt of an account.")
class UnsubscribeEReceiptInput:
    account_id: strawberry.ID = strawberry.field(description="Id of the account.")


UnsubscribeEReceiptError = error_type("UnsubscribeEReceipt", [CoreError.NOT_FOUND])


@strawberry.type(description="The result of unsubscribeEReceipt.")
class UnsubscribeEReceiptPayload:
    account: Account | None = strawberry.field(
        default=None, description="The account; its `eReceipt` is off now."
    )
    user_errors: list[UnsubscribeEReceiptError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


# ---------------------------------------------------------------- the fields


async def subscribe_e_receipt(
    info: Info, input: MutationInput[SubscribeEReceiptInput]
) -> SubscribeEReceiptPayload:
    done, errors = await attempt(
        ereceipt_resolvers.subscribe_e_receipt(info, input),
        SubscribeEReceiptError,
        info.context.language,
    )
    if done is None:
        return SubscribeEReceiptPayload(user_errors=errors)
    sent_to, row = done
    account = Account.from_row(row) if row else None  # its eReceipt resolves afresh
    return SubscribeEReceiptPayload(account=account, confirmation_sent_to=sent_to)


async def unsubscribe_e_receipt(
    info: Info, input: MutationInput[UnsubscribeEReceiptInput]
) -> UnsubscribeEReceiptPayload:
    row, errors = await attempt(
        ereceipt_resolvers.unsubscribe_e_receipt(info, input),
        UnsubscribeEReceiptError,
        info.context.language,
    )
    if errors:
        return UnsubscribeEReceiptPayload(user_errors=errors)
    return UnsubscribeEReceiptPayload(account=Account.from_row(row) if row else None)
