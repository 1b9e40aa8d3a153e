"""Paying a bill online: the order, what the acquirer's notification does, the timeout.

`pay_bill` creates (once per idempotency key) an `online_payment` in PENDING and asks
the acquirer for a confirmation page. The acquirer later notifies us (the webhook,
`routes.payments`), and `apply_notification` moves the payment out of PENDING exactly
once: a repeated or late notification finds it moved and changes nothing. A success
writes, in one transaction, the ledger `payment` row (what histories, balances and
proofs of ownership read), the account's new balance and the receipt of payment in the
mail outbox. `fail_stale` marks FAILED what stayed PENDING past the timeout.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from config import Settings, get_settings, online_payments
from mail.compose import link_builder
from models.accounts import Account
from models.billing import Payment
from models.cabinets import Cabinet, CabinetAccount
from models.mail import MailLane
from models.payments import GuestPayment, OnlinePayment, PaymentStatus
from models.push import NotificationChannel
from payments.providers import (
    BadNotification,
    Notification,
    Order,
    PollingProvider,
    Provider,
    ProviderRefused,
    ProviderUnavailable,
)
from services.core import live
from services.core.clock import now
from services.core.errors import CoreError, RuleError, raise_all
from services.core.idempotency import check_key
from services.core.ids import encode_id
from services.core.masking import mask_holder
from services.core.messages import message_for
from services.core.money import AmountError, format_rub, parse_amount
from services.notifications.events import NotificationEvent
from services.notifications.notices import notify, notify_address
from services.notifications.preferences import wants
from services.notifications.push import announce
from services.payments import autopay
from services.payments.errors import PaymentError

log = logging.getLogger("kabinet.payments")

CHANNEL = "Личный кабинет"  # how the payment history names money paid here
TIMEOUT_REASON = "timeout"


class UnknownPayment(Exception):
    """A notification about a payment we never created (with this acquirer)."""


class AmountMismatch(Exception):
    """A notification whose amount is not the payment's: nothing is recorded."""


class OrderMismatch(AmountMismatch):
    """A notification whose acquirer keeps another order id than ours: nothing is recorded."""


@dataclass(frozen=True)
class Applied:
    payment: OnlinePayment
    changed: bool  # False: the payment had moved already (a repeated or late event)


# ---------------------------------------------------------------- payBill


def payments_unavailable(settings: Settings) -> RuleError:
    """PAYMENTS_UNAVAILABLE, its sentence filled with where else to pay: the bank details
    and the office every bill prints (the COMPANY_* settings)."""
    return RuleError(
        PaymentError.PAYMENTS_UNAVAILABLE,
        None,
        company=settings.company_name,
        address=settings.company_address,
        inn=settings.company_inn,
        kpp=settings.company_kpp,
        account=settings.company_settlement_account,
        bank=settings.company_bank_name,
        bic=settings.company_bic,
        correspondent=settings.company_correspondent_account,
        phone=settings.company_phone,
    )


@dataclass(frozen=True)
class PaymentOptions:
    online: bool  # payBill takes payments
    other_ways: str  # where else to pay, in the reader's language


def payment_options(language: str) -> PaymentOptions:
    settings = get_settings()
    return PaymentOptions(
        online=online_payments(settings),
        other_ways=message_for(payments_unavailable(settings), language),
    )


def _read_amount(text: str) -> Decimal:
    try:
        amount = parse_amount(text)
    except AmountError:
        raise RuleError(CoreError.INVALID_AMOUNT, "amount") from None
    if amount <= 0:
        raise RuleError(CoreError.INVALID_AMOUNT, "amount", reason="not_positive")
    limit = get_settings().payment_max_amount
    if amount > limit:
        raise RuleError(PaymentError.AMOUNT_TOO_LARGE, "amount", max=format_rub(limit))
    return amount


def read_input(
    amount_text: str, key: str, read: Callable[[str], Decimal] = _read_amount
) -> Decimal:
    """The amount (read by `read`) and the idempotency key of a payment a cabinet starts;
    both refusals at once when both are wrong (payBill, and enableAutopay with its cap)."""
    errors: list[RuleError] = []
    amount = Decimal(0)
    try:
        amount = read(amount_text)
    except RuleError as error:
        errors.append(error)
    try:
        check_key(key)
    except RuleError as error:
        errors.append(error)
    raise_all(errors)
    return amount


async def pay_bill(
    cabinet: Cabinet,
    account_id: int | None,
    amount_text: str,
    key: str,
    provider: Provider | None,
    method: str = "",
    *,
    save_method: bool = False,
) -> OnlinePayment:
    """A PENDING payment with its confirmation page; the same key gives the same payment.
    `provider` is None when none is configured (settings made by hand). With
    PAYMENT_PROVIDER=none every call is PAYMENTS_UNAVAILABLE and nothing is stored."""
    settings = get_settings()
    if not online_payments(settings):
        raise payments_unavailable(settings)
    amount = read_input(amount_text, key)
    link = None
    if account_id is not None:
        link = (
            await CabinetAccount.filter(cabinet_id=cabinet.id, account_id=account_id)
            .select_related("account")
            .first()
        )
    if link is None:
        raise RuleError(CoreError.NOT_FOUND, "accountId")
    payment = await OnlinePayment.get_or_none(cabinet_id=cabinet.id, idempotency_key=key)
    if payment is None and provider is None:
        raise RuleError(PaymentError.PROVIDER_UNAVAILABLE, None)
    if payment is None:
        moment = now()
        try:
            payment = await OnlinePayment.create(
                cabinet_id=cabinet.id,
                account_id=link.account.id,
                amount=amount,
                idempotency_key=key,
                provider=provider.name,
                created_at=moment,
                updated_at=moment,
            )
        except IntegrityError:  # the same request, twice at once: the other one won
            payment = await OnlinePayment.get(cabinet_id=cabinet.id, idempotency_key=key)
    if payment.account_id != link.account.id or payment.amount != amount:  # type: ignore[attr-defined]
        raise RuleError(CoreError.IDEMPOTENCY_KEY_REUSED, "idempotencyKey")
    if payment.status == PaymentStatus.PENDING and not payment.confirmation_url:
        if provider is None or provider.name != payment.provider:
            raise RuleError(PaymentError.PROVIDER_UNAVAILABLE, None)
        await checkout(payment, link.account, provider, cabinet.email, method, save_method)
    return payment


def order_of(
    payment: OnlinePayment,
    account: Account,
    email: str,
    return_url: str | None = None,
    **options: object,
) -> Order:
    """What the acquirer is asked to collect for `payment` (our id is its idempotence key);
    the customer comes back to `return_url`, by default the cabinet's payments page."""
    settings = get_settings()
    return Order(
        id=payment.id,
        amount=payment.amount,
        account_number=account.number,
        description=f"Оплата электроэнергии, лицевой счёт {account.number}",
        # Back to the cabinet's payments page, which shows this payment's status.
        return_url=return_url
        or link_builder(settings.public_web_url)(
            "/payments", payment=encode_id("OnlinePayment", payment.id)
        ),
        expires_at=payment.created_at
        + dt.timedelta(minutes=settings.payment_pending_timeout_minutes),
        email=email,
        **options,  # type: ignore[arg-type]
    )


async def checkout(
    payment: OnlinePayment,
    account: Account,
    provider: Provider,
    email: str,
    method: str,
    save_method: bool = False,
    return_url: str | None = None,
) -> None:
    """Ask the acquirer for the payment (our id is its idempotence key, so asking again
    after a crash or a lost answer finds the same payment) and keep its answer."""
    order = order_of(payment, account, email, return_url, method=method, save_method=save_method)
    try:
        checkout = await provider.create_payment(order)
    except ProviderRefused as exc:
        # Logged by the acquirer with its code; the payment stays PENDING without a page
        # (the sweeper fails it), so it is never in two states.
        log.warning("payment %s: %s refused it: %s", payment.id, provider.name, exc)
        raise RuleError(PaymentError.PROVIDER_REFUSED, None) from None
    except ProviderUnavailable as exc:
        log.warning("payment %s: %s unavailable: %s", payment.id, provider.name, exc)
        raise RuleError(PaymentError.PROVIDER_UNAVAILABLE, None) from None
    await OnlinePayment.filter(id=payment.id, confirmation_url="").update(
        external_id=checkout.external_id,
        confirmation_url=checkout.confirmation_url,
        updated_at=now(),
    )
    await payment.refresh_from_db(fields=["external_id", "confirmation_url", "updated_at"])


async def payment_of_cabinet(cabinet_id: int, payment_id: int | None) -> OnlinePayment | None:
    if payment_id is None:
        return None
    return await OnlinePayment.get_or_none(id=payment_id, cabinet_id=cabinet_id)


# ---------------------------------------------------------------- notifications


def _may_move(payment: OnlinePayment, to: PaymentStatus) -> bool:
    if payment.status == PaymentStatus.PENDING:
        return to != PaymentStatus.PENDING
    # We gave up waiting, but the acquirer did take the money: the money wins.
    return (
        payment.status == PaymentStatus.FAILED
        and payment.failure_reason == TIMEOUT_REASON
        and to == PaymentStatus.SUCCEEDED
    )


async def apply_notification(provider: str, event: Notification) -> Applied:
    """Record what the acquirer says; raises UnknownPayment or AmountMismatch."""
    async with in_transaction():
        payment = (
            await OnlinePayment.filter(provider=provider, external_id=event.external_id)
            .select_for_update()
            .first()
        )
        if payment is None:
            raise UnknownPayment(event.external_id)
        if event.amount != payment.amount:
            raise AmountMismatch(f"{event.amount} notified, {payment.amount} ordered")
        if event.order_id is not None and event.order_id != payment.id:
            raise OrderMismatch(f"order {event.order_id} notified, {payment.id} is ours")
        if not _may_move(payment, event.status):
            return Applied(payment, changed=False)
        moment = now()
        moved = await OnlinePayment.filter(id=payment.id, status=payment.status).update(
            status=event.status,
            failure_reason=""
            if event.status == PaymentStatus.SUCCEEDED
            else (event.reason or event.status.value),
            completed_at=moment,
            updated_at=moment,
        )
        if not moved:
            return Applied(payment, changed=False)
        if event.status == PaymentStatus.SUCCEEDED:
            await _record_success(payment, event, moment)
        await payment.refresh_from_db()
        await autopay.after_payment(payment, event)
        await _push_outcome(payment)
        await live.publish("payment", payment.id)
    log.info("payment %s: %s (event %s)", payment.id, event.status.value, event.event_id)
    return Applied(payment, changed=True)


async def _push_outcome(payment: OnlinePayment) -> None:
    """Tell the cabinet's apps, in the transaction that recorded the outcome (a guest
    payment has no cabinet and no apps; an autopay charge's own push is autopay's:
    AUTOPAY_CHARGED or AUTOPAY_REFUSED)."""
    if payment.cabinet_id is None:  # type: ignore[attr-defined]
        return
    if await autopay.charged_method(payment.id) is not None:
        return
    event = (
        NotificationEvent.PAYMENT_SUCCEEDED
        if payment.status == PaymentStatus.SUCCEEDED
        else NotificationEvent.PAYMENT_FAILED
    )
    number = await Account.filter(id=payment.account_id).values_list("number", flat=True)  # type: ignore[attr-defined]
    await announce(
        payment.cabinet_id,  # type: ignore[attr-defined]
        event,
        node_id=encode_id("OnlinePayment", payment.id),
        amount=format_rub(payment.amount),
        account_number=number[0] if number else "",
    )


async def _record_success(payment: OnlinePayment, event: Notification, moment: dt.datetime):
    """The ledger row, the balance and the receipt of payment, in the caller's transaction."""
    paid_at = event.paid_at or moment
    ledger = await Payment.get_or_none(external_id=event.external_id)
    account = await Account.filter(id=payment.account_id).select_for_update().get()  # type: ignore[attr-defined]
    if ledger is None:
        ledger = await Payment.create(
            account_id=account.id,
            amount=payment.amount,
            paid_at=paid_at,
            channel=CHANNEL,
            external_id=event.external_id,
            created_at=moment,
        )
        tz = ZoneInfo(get_settings().timezone)
        account.balance = account.balance - payment.amount
        account.balance_on = moment.astimezone(tz).date()
        await account.save(update_fields=["balance", "balance_on", "updated_at"])
    # else: the billing export brought it in first, and its balance counts it already.
    await OnlinePayment.filter(id=payment.id).update(ledger_payment_id=ledger.id)
    await live.publish("account", account.id)
    await _mail_receipt(payment, account, ledger)


async def _mail_receipt(payment: OnlinePayment, account: Account, ledger: Payment) -> None:
    if payment.cabinet_id is None:  # type: ignore[attr-defined]
        await _mail_guest_receipt(payment, account, ledger)
        return
    cabinet = await Cabinet.get(id=payment.cabinet_id)  # type: ignore[attr-defined]
    method = await autopay.charged_method(payment.id)
    event = NotificationEvent.PAYMENT_SUCCEEDED
    if method is not None:  # autopay's charge: its mail has a preference of its own
        event = NotificationEvent.AUTOPAY_CHARGED
    if not await wants(cabinet.id, event, NotificationChannel.EMAIL):
        return
    tz = ZoneInfo(get_settings().timezone)
    await notify(
        cabinet,
        "payment_received" if method is None else "autopay_charged",
        lane=MailLane.ROUTINE,
        method=method or "",
        amount=format_rub(payment.amount),
        account_number=account.number,
        holder_name=account.holder_name,
        paid_at=ledger.paid_at.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
        payment_number=str(payment.id),
        external_id=ledger.external_id,
        channel=CHANNEL,
        balance=format_rub(abs(account.balance)),
        balance_state="debt" if account.balance > 0 else "credit" if account.balance else "zero",
    )


async def _mail_guest_receipt(payment: OnlinePayment, account: Account, ledger: Payment) -> None:
    """The receipt of a guest payment, to the address the payer gave: the payee as the
    payer saw it (masked holder), and nothing of the account's balance."""
    guest = await GuestPayment.get(payment_id=payment.id)
    tz = ZoneInfo(get_settings().timezone)
    await notify_address(
        guest.email,
        guest.language,
        "guest_payment_received",
        lane=MailLane.ROUTINE,
        amount=format_rub(payment.amount),
        account_number=account.number,
        holder=mask_holder(account.holder_name),
        paid_at=ledger.paid_at.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
        payment_number=str(payment.id),
        external_id=ledger.external_id,
    )


def may_still_be_asked(payment: OnlinePayment) -> bool:
    """PENDING, or given up by the timeout: asking the acquirer again with the payment's
    own key finds what it made (if it made anything), and the money wins."""
    return payment.status == PaymentStatus.PENDING or (
        payment.status == PaymentStatus.FAILED and payment.failure_reason == TIMEOUT_REASON
    )


async def refuse_unsent(payment_id: int, reason: str) -> bool:
    """The acquirer refused to create a PENDING payment at all (its 4xx, e.g. a saved
    method it no longer knows): the payment FAILED with the reason, as a notification
    would have said; False when it had moved already."""
    return await _close_unsent(payment_id, PaymentStatus.FAILED, reason)


async def cancel_unsent(payment_id: int) -> bool:
    """We give up a payment the acquirer cannot be asked about (another acquirer is
    configured now): CANCELED by us, nothing told to anyone."""
    return await _close_unsent(payment_id, PaymentStatus.CANCELED, "canceled_by_merchant")


async def _close_unsent(payment_id: int, status: PaymentStatus, reason: str) -> bool:
    async with in_transaction():
        payment = await OnlinePayment.filter(id=payment_id).select_for_update().first()
        if payment is None or not may_still_be_asked(payment):
            return False
        moment = now()
        await OnlinePayment.filter(id=payment.id).update(
            status=status, failure_reason=reason[:64], completed_at=moment, updated_at=moment
        )
        await payment.refresh_from_db()
        await live.publish("payment", payment.id)
        if status == PaymentStatus.FAILED:  # the acquirer's word: autopay counts it
            event = Notification(
                event_id=f"refused:{payment.id}",
                external_id=payment.external_id or "",
                status=status,
                amount=payment.amount,
                reason=reason,
            )
            await autopay.after_payment(payment, event)
    log.info("payment %s: %s unsent (%s)", payment.id, status.value, reason)
    return True


# ---------------------------------------------------------------- the timeout


async def check_pending(provider: PollingProvider, name: str, limit: int = 50) -> int:
    """Ask the acquirer about payments still PENDING (oldest first) and record what it
    says; returns how many moved. An acquirer that cannot be reached is asked next round."""
    pending = (
        await OnlinePayment.filter(
            provider=name, status=PaymentStatus.PENDING, external_id__not_isnull=True
        )
        .order_by("created_at")
        .limit(limit)
    )
    moved = 0
    for payment in pending:
        try:
            event = await provider.payment_status(payment.external_id or "")
        except (ProviderUnavailable, BadNotification) as exc:
            log.warning("payment %s: asking %s failed: %s", payment.id, name, exc)
            continue
        if event is None:
            continue
        try:
            moved += (await apply_notification(name, event)).changed
        except (UnknownPayment, AmountMismatch) as exc:
            log.error("payment %s: %s answered what we did not order: %s", payment.id, name, exc)
    return moved


async def fail_stale() -> int:
    """Mark FAILED every payment PENDING for longer than PAYMENT_PENDING_TIMEOUT_MINUTES;
    nothing with PAYMENT_PROVIDER=none (no acquirer to wait for: a payment left from an
    acquirer configured before keeps its state until that acquirer is back)."""
    if not online_payments(get_settings()):
        return 0
    moment = now()
    cutoff = moment - dt.timedelta(minutes=get_settings().payment_pending_timeout_minutes)
    async with in_transaction():
        stale = OnlinePayment.filter(status=PaymentStatus.PENDING, created_at__lt=cutoff)
        ids = await stale.select_for_update().values_list("id", flat=True)
        failed = await OnlinePayment.filter(id__in=list(ids), status=PaymentStatus.PENDING).update(
            status=PaymentStatus.FAILED,
            failure_reason=TIMEOUT_REASON,
            completed_at=moment,
            updated_at=moment,
        )
        for pk in ids:
            await live.publish("payment", pk)
    if failed:
        log.info("payments: %d pending payment(s) timed out", failed)
    return failed
