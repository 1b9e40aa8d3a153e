"""Resolvers of payBill and onlinePayment: thin calls into services.payments.rules."""

from __future__ import annotations

from typing import Annotated

import strawberry

from payments.providers import ProviderError, provider_for
from resolvers.errors import attempt
from schema import payments as s
from schema.context import Context
from schema.errors import MutationInput
from schema.relay import decode_id
from services.payments import rules as payments

Info = strawberry.Info[Context]


async def pay_bill(info: Info, input: MutationInput[s.PayBillInput]) -> s.PayBillPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    try:
        provider = provider_for(ctx.settings)
    except ProviderError:
        provider = None
    payment, errors = await attempt(
        payments.pay_bill(
            cabinet,
            decode_id("Account", input.account_id),
            input.amount,
            input.idempotency_key,
            provider,
        ),
        s.PayBillError,
        ctx.language,
    )
    return s.PayBillPayload(
        payment=s.OnlinePayment.from_model(payment) if payment else None, user_errors=errors
    )


async def online_payment(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="Id of the payment (payBill).")],
) -> s.OnlinePayment | None:
    """One of the viewer's payments; null for a missing id and another's alike."""
    cabinet = await info.context.require_viewer()
    payment = await payments.payment_of_cabinet(cabinet.id, decode_id("OnlinePayment", id))
    return s.OnlinePayment.from_model(payment) if payment else None
