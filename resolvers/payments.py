"""Resolvers of payBill, onlinePayment and paymentOptions: thin calls into
services.payments.rules."""

from __future__ import annotations

from typing import Any

import strawberry

from models.payments import OnlinePayment
from payments.providers import ProviderError, provider_for
from resolvers.context import Context
from services.core.ids import decode_id
from services.payments import rules as payments

Info = strawberry.Info[Context]


async def pay_bill(info: Info, input: Any) -> OnlinePayment:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    try:
        provider = provider_for(ctx.settings)
    except ProviderError:
        provider = None
    return await payments.pay_bill(
        cabinet,
        decode_id("Account", input.account_id),
        input.amount,
        input.idempotency_key,
        provider,
        method=input.method.value if input.method else "",
    )


async def online_payment(info: Info, id: str) -> OnlinePayment | None:
    """One of the viewer's payments; None for a missing id and another's alike."""
    cabinet = await info.context.require_viewer()
    return await payments.payment_of_cabinet(cabinet.id, decode_id("OnlinePayment", id))


def payment_options(info: Info) -> payments.PaymentOptions:
    """Whether payBill takes payments, and where else to pay (public: every bill prints it)."""
    return payments.payment_options(info.context.language)
