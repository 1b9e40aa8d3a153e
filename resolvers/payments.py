"""Resolvers of payBill, onlinePayment, paymentOptions and autopay: thin calls into
services.payments (rules, autopay, recurring)."""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

import strawberry

from models.payments import OnlinePayment
from payments.providers import ProviderError, provider_for
from resolvers import lists
from resolvers.context import Context
from services.accounts.read_model import account_of_cabinet
from services.core.ids import decode_id
from services.guest import limits as guest_accounts
from services.guest import payments as guest_payments
from services.payments import autopay, recurring
from services.payments import rules as payments

Info = strawberry.Info[Context]


def _provider(info: Info) -> Any:
    try:
        return provider_for(info.context.settings)
    except ProviderError:
        return None


async def pay_bill(info: Info, input: Any) -> OnlinePayment:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    provider = _provider(info)
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


async def enable_autopay(info: Info, input: Any) -> tuple[OnlinePayment, dict[str, Any] | None]:
    """(the first, method-saving payment; the account row)."""
    cabinet = await info.context.require_viewer()
    pk = decode_id("Account", input.account_id)
    payment = await recurring.enable_autopay(
        cabinet,
        pk,
        input.max_amount,
        input.idempotency_key,
        _provider(info),
        method=input.method.value if input.method else "",
    )
    return payment, await account_of_cabinet(cabinet.id, payment.account_id)  # type: ignore[attr-defined]


async def disable_autopay(info: Info, input: Any) -> dict[str, Any] | None:
    cabinet = await info.context.require_viewer()
    account = await autopay.disable(cabinet, decode_id("Account", input.account_id))
    return await account_of_cabinet(cabinet.id, account.id)


def autopay_state(
    info: Info, account_pk: int
) -> autopay.AutopayState | Awaitable[autopay.AutopayState]:
    return lists.when_ready(
        info.context.loaders.autopay_of_account.load(account_pk), autopay.AutopayState.of
    )


async def payable_account(info: Info, account_number: str) -> guest_accounts.PayableAccount | None:
    """No login: enough of an account to check the payee before paying as a guest."""
    return await guest_accounts.payable_account(account_number, info.context.client)


async def pay_as_guest(info: Info, input: Any) -> guest_payments.GuestPaid:
    """No login: a payment into any account by its number."""
    ctx = info.context
    return await guest_payments.pay_as_guest(
        input.account_number,
        input.amount,
        input.email,
        input.idempotency_key,
        _provider(info),
        ctx.client,
        method=input.method.value if input.method else "",
        language=ctx.language,
    )


async def guest_payment(info: Info, status_token: str) -> guest_payments.GuestPaymentState | None:
    return await guest_payments.guest_payment(status_token)


def guest_amounts() -> tuple[Decimal, Decimal]:
    """(GUEST_MIN_AMOUNT in effect, GUEST_MAX_AMOUNT)."""
    return guest_payments.amount_bounds()
