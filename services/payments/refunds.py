"""Refunds by operators (`kabinet payments refund PAYMENT_ID [AMOUNT]`).

A refund gives back part or all of a SUCCEEDED online payment through the acquirer that
took it. It is stored first (PENDING) and only then asked of the acquirer, with our
refund's id as the idempotence key: a command retried after a timeout or a crash resumes
the refund left PENDING and asks again with the same key, so the acquirer answers the
refund it made the first time instead of making a second one.

When the acquirer says SUCCEEDED, one transaction counts it in the payment's
`refunded_amount` (status REFUNDED once it is all given back), raises the account's
balance by the amount (the money is no longer paid) and queues the customer's mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from config import get_settings
from models.accounts import Account
from models.cabinets import Cabinet
from models.mail import MailLane
from models.payments import GuestPayment, OnlinePayment, PaymentStatus, Refund, RefundStatus
from payments.providers import (
    ProviderRefused,
    ProviderUnavailable,
    RefundingProvider,
    RefundNotification,
    RefundOrder,
    RefundResult,
)
from services.core import live
from services.core.clock import now
from services.core.ids import decode_id
from services.core.money import AmountError, format_rub, parse_amount
from services.notifications.notices import notify

log = logging.getLogger("kabinet.payments")


class RefundRefused(Exception):
    """The refund cannot be made as asked (the message says why); nothing was stored."""


class RefundFailed(Exception):
    """The acquirer could not be asked, or refused: `refund` is kept as it stands."""

    def __init__(self, message: str, refund: Refund) -> None:
        super().__init__(message)
        self.refund = refund


@dataclass(frozen=True)
class Refunded:
    refund: Refund
    payment: OnlinePayment
    resumed: bool  # an unfinished refund of an earlier command, asked again


def payment_pk(text: str) -> int | None:
    """Our online payment's id as the API shows it (OnlinePayment's opaque id) or its
    number (the one in the receipt mail)."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    return decode_id("OnlinePayment", text)


def _rub(amount: Decimal) -> str:
    return f"{amount:.2f}"


def refunded(payment: OnlinePayment) -> Decimal:
    return payment.refunded_amount or Decimal(0)


def remainder(payment: OnlinePayment) -> Decimal:
    return payment.amount - refunded(payment)


async def _start(payment_text: str, amount_text: str | None, provider_name: str) -> Refunded:
    """The refund to ask the acquirer for: an unfinished one of this payment, or a new one
    stored PENDING. Raises RefundRefused."""
    pk = payment_pk(payment_text)
    if pk is None:
        raise RefundRefused(f"{payment_text!r} is not a payment id or number")
    async with in_transaction():
        payment = await OnlinePayment.filter(id=pk).select_for_update().first()
        if payment is None:
            raise RefundRefused(f"no online payment {payment_text}")
        if payment.provider != provider_name:
            raise RefundRefused(
                f"payment {payment.id} was made through {payment.provider!r}, "
                f"PAYMENT_PROVIDER is {provider_name!r}"
            )
        amount = None
        if amount_text is not None:
            try:
                amount = parse_amount(amount_text)
            except AmountError:
                raise RefundRefused(f"{amount_text!r} is not an amount") from None
            if amount <= 0:
                raise RefundRefused("the amount must be above zero")
        unfinished = await Refund.filter(payment_id=payment.id, status=RefundStatus.PENDING).first()
        if unfinished is not None:
            if amount is not None and amount != unfinished.amount:
                raise RefundRefused(
                    f"refund {unfinished.id} of {_rub(unfinished.amount)} RUB from "
                    f"payment {payment.id} is unfinished; run the command again without an "
                    "amount (or with that amount) to finish it first"
                )
            return Refunded(unfinished, payment, resumed=True)
        if payment.status == PaymentStatus.REFUNDED:
            raise RefundRefused(f"payment {payment.id} is refunded in full already")
        if payment.status != PaymentStatus.SUCCEEDED or payment.external_id is None:
            raise RefundRefused(
                f"payment {payment.id} is {payment.status.value}: only a succeeded payment "
                "can be refunded"
            )
        left = remainder(payment)
        amount = left if amount is None else amount
        if amount > left:
            raise RefundRefused(
                f"cannot refund {_rub(amount)} RUB: only {_rub(left)} RUB of "
                f"payment {payment.id} ({_rub(payment.amount)} RUB) is left to refund"
            )
        refund = await Refund.create(payment_id=payment.id, amount=amount, created_at=now())
    return Refunded(refund, payment, resumed=False)


async def payer_email(payment: OnlinePayment) -> str:
    """Where the payer's receipts go: the cabinet's address, or the one a guest gave."""
    if payment.cabinet_id is None:  # type: ignore[attr-defined]
        return (await GuestPayment.get(payment_id=payment.id)).email
    return (await Cabinet.get(id=payment.cabinet_id)).email  # type: ignore[attr-defined]


async def refund_payment(
    payment_text: str, amount_text: str | None, provider: RefundingProvider, provider_name: str
) -> Refunded:
    """Refund `amount_text` (default: all that is left) of the payment; raises
    RefundRefused (nothing stored) or RefundFailed (the refund kept, to be asked again)."""
    started = await _start(payment_text, amount_text, provider_name)
    refund, payment = started.refund, started.payment
    account = await Account.get(id=payment.account_id)  # type: ignore[attr-defined]
    order = RefundOrder(
        id=refund.id,
        payment_external_id=payment.external_id or "",
        amount=refund.amount,
        description=f"Оплата электроэнергии, лицевой счёт {account.number}",
        email=await payer_email(payment),
    )
    try:
        result = await provider.refund(order)
    except ProviderRefused as exc:
        await Refund.filter(id=refund.id, status=RefundStatus.PENDING).update(
            status=RefundStatus.CANCELED, completed_at=now()
        )
        await refund.refresh_from_db()
        raise RefundFailed(f"the acquirer refused the refund: {exc}", refund) from None
    except ProviderUnavailable as exc:
        raise RefundFailed(
            f"the acquirer could not be asked ({exc}); refund {refund.id} is kept: run the "
            "same command again, it will not refund twice",
            refund,
        ) from None
    refund = await apply_refund(refund.id, result)
    await payment.refresh_from_db()
    return Refunded(refund, payment, started.resumed)


async def apply_refund(refund_id: int, result: RefundResult) -> Refund:
    """Record the acquirer's word on a refund, once: a SUCCEEDED refund counts in the
    payment and the balance in one transaction; a repeated word changes nothing."""
    async with in_transaction():
        refund = await Refund.filter(id=refund_id).select_for_update().get()
        if refund.status != RefundStatus.PENDING:
            return refund
        moment = now()
        if result.status == RefundStatus.PENDING:
            await Refund.filter(id=refund.id).update(external_id=result.external_id)
        elif result.status == RefundStatus.CANCELED:
            await Refund.filter(id=refund.id).update(
                external_id=result.external_id, status=RefundStatus.CANCELED, completed_at=moment
            )
        else:
            await Refund.filter(id=refund.id).update(
                external_id=result.external_id, status=RefundStatus.SUCCEEDED, completed_at=moment
            )
            await _count(refund, moment)
        await refund.refresh_from_db()
    log.info("refund %s: %s (%s)", refund.id, refund.status.value, refund.external_id)
    return refund


async def _count(refund: Refund, moment) -> None:  # type: ignore[no-untyped-def]
    payment = await OnlinePayment.filter(id=refund.payment_id).select_for_update().get()  # type: ignore[attr-defined]
    total = refunded(payment) + refund.amount
    status = PaymentStatus.REFUNDED if total >= payment.amount else payment.status
    await OnlinePayment.filter(id=payment.id).update(
        refunded_amount=total, status=status, updated_at=moment
    )
    await live.publish("payment", payment.id)
    account = await Account.filter(id=payment.account_id).select_for_update().get()  # type: ignore[attr-defined]
    tz = ZoneInfo(get_settings().timezone)
    account.balance = account.balance + refund.amount
    account.balance_on = moment.astimezone(tz).date()
    await account.save(update_fields=["balance", "balance_on", "updated_at"])
    if payment.cabinet_id is None:  # type: ignore[attr-defined]
        # A guest payment: the acquirer's refund receipt (54-FZ) goes to the payer's
        # address; our notice would tell a stranger the account's balance, so none.
        return
    cabinet = await Cabinet.get(id=payment.cabinet_id)  # type: ignore[attr-defined]
    await notify(
        cabinet,
        "payment_refunded",
        lane=MailLane.ROUTINE,
        amount=format_rub(refund.amount),
        payment_amount=format_rub(payment.amount),
        payment_number=str(payment.id),
        account_number=account.number,
        refunded=format_rub(total),
        balance=format_rub(abs(account.balance)),
        balance_state="debt" if account.balance > 0 else "credit" if account.balance else "zero",
    )


async def apply_refund_notification(
    provider_name: str, notice: RefundNotification
) -> Refund | None:
    """Record what the acquirer's API says of a refund a notification named: ours by its
    id, or the one PENDING of that amount whose answer the command never got. None for a
    refund not made here (e.g. in the acquirer's own cabinet): the caller logs it."""
    payment = await OnlinePayment.get_or_none(
        provider=provider_name, external_id=notice.payment_external_id
    )
    if payment is None:
        return None
    refunds = await Refund.filter(payment_id=payment.id).order_by("id")
    mine = [r for r in refunds if r.external_id == notice.refund.external_id] or [
        r
        for r in refunds
        if r.status == RefundStatus.PENDING and r.external_id is None and r.amount == notice.amount
    ]
    if not mine or mine[0].amount != notice.amount:
        return None
    return await apply_refund(mine[0].id, notice.refund)
