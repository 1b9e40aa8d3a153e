"""Paying into an account without logging in (`payAsGuest`), by the number on its bill.

A guest payment is an `online_payment` whose cabinet is null, with its `guest_payment`
row: the payer's e-mail, where the acquirer sends the 54-FZ receipt and we send the
receipt of payment; the idempotency key (unique there); the client's limits key. From
then on it is an online payment like any other: the acquirer's notification moves it
(`rules.apply_notification`), and a success writes the ledger row (channel «Личный
кабинет»), the balance and the receipt. The payer follows it by a signed status token
(`guestPayment(statusToken)`), which names only that payment.

Every call counts against the guest limits (services.accounts.guest) before the
account is looked up; the form of the input is checked first and costs nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from config import get_settings, online_payments
from mail.compose import link_builder
from models.accounts import Account
from models.payments import GuestPayment, OnlinePayment, PaymentStatus
from payments.providers import Provider
from services.accounts.proof import normalize_account_number
from services.core.clock import now
from services.core.emails import normalize_email
from services.core.errors import CoreError, RuleError, raise_all
from services.core.idempotency import check_key
from services.core.masking import mask_holder
from services.core.money import AmountError, format_rub, parse_amount
from services.core.tokens import ClockSigner
from services.guest.limits import count_attempt
from services.payments.errors import PaymentError
from services.payments.rules import checkout, payments_unavailable
from services.security.sessions import Client

# The return page, or a bookmark of it, works this long.
STATUS_TOKEN_AGE = int(dt.timedelta(days=30).total_seconds())


@dataclass(frozen=True)
class GuestPaid:
    payment: OnlinePayment
    status_token: str


@dataclass(frozen=True)
class GuestPaymentState:
    """What the return page shows: no more than the payer knew when paying."""

    payment: OnlinePayment
    account_number: str
    holder: str  # masked, as payableAccount showed it


def minimal_amount() -> Decimal:
    settings = get_settings()
    return settings.guest_min_amount or settings.recovery_minimal_payment


def amount_bounds() -> tuple[Decimal, Decimal]:
    """(the smallest, the largest) amount payAsGuest takes."""
    return minimal_amount(), get_settings().guest_max_amount


def _read_amount(text: str) -> Decimal:
    settings = get_settings()
    try:
        amount = parse_amount(text)
    except AmountError:
        raise RuleError(CoreError.INVALID_AMOUNT, "amount") from None
    if amount <= 0:
        raise RuleError(CoreError.INVALID_AMOUNT, "amount", reason="not_positive")
    if amount < minimal_amount():
        raise RuleError(PaymentError.AMOUNT_TOO_SMALL, "amount", min=format_rub(minimal_amount()))
    if amount > settings.guest_max_amount:
        raise RuleError(
            PaymentError.AMOUNT_TOO_LARGE,
            "amount",
            reason="guest",
            max=format_rub(settings.guest_max_amount),
        )
    return amount


@dataclass(frozen=True)
class _Input:
    number: str
    amount: Decimal
    email: str
    key: str


def _read_input(number: str, amount: str, email: str, key: str) -> _Input:
    """Every problem of form at once; none of them costs an attempt."""
    errors: list[RuleError] = []
    values: dict[str, object] = {}
    for name, read in (
        ("number", lambda: normalize_account_number(number)),
        ("amount", lambda: _read_amount(amount)),
        ("email", lambda: normalize_email(email)),
        ("key", lambda: check_key(key)),
    ):
        try:
            values[name] = read()
        except RuleError as error:
            errors.append(error)
    raise_all(errors)
    return _Input(**values)  # type: ignore[arg-type]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        get_settings().secret_key, salt="kabinet.guest_payment", signer=ClockSigner
    )


def status_token(payment: OnlinePayment) -> str:
    return _serializer().dumps({"p": payment.id})


def return_url(payment: OnlinePayment) -> str:
    """The guest payment page, which shows how the payment ended (`guestPayment`)."""
    return link_builder(get_settings().public_web_url)("/pay", status=status_token(payment))


async def pay_as_guest(
    account_number: str,
    amount_text: str,
    email: str,
    key: str,
    provider: Provider | None,
    client: Client,
    *,
    method: str = "",
    language: str = "ru",
) -> GuestPaid:
    """A PENDING guest payment with its confirmation page; the same key gives the same
    payment (and a different request under it IDEMPOTENCY_KEY_REUSED)."""
    settings = get_settings()
    if not online_payments(settings):
        raise payments_unavailable(settings)
    given = _read_input(account_number, amount_text, email, key)
    await count_attempt(given.number, client)
    account = await Account.filter(number=given.number).first()
    if account is None:
        raise RuleError(CoreError.NOT_FOUND, "accountNumber")
    guest = await GuestPayment.get_or_none(idempotency_key=given.key).select_related("payment")
    if guest is None and provider is None:
        raise RuleError(PaymentError.PROVIDER_UNAVAILABLE, None)
    if guest is None:
        assert provider is not None
        guest = await _create(account, given, provider.name, client, language)
    payment = guest.payment
    if (
        payment.account_id != account.id  # type: ignore[attr-defined]
        or payment.amount != given.amount
        or guest.email != given.email
    ):
        raise RuleError(CoreError.IDEMPOTENCY_KEY_REUSED, "idempotencyKey")
    if payment.status == PaymentStatus.PENDING and not payment.confirmation_url:
        if provider is None or provider.name != payment.provider:
            raise RuleError(PaymentError.PROVIDER_UNAVAILABLE, None)
        await checkout(payment, account, provider, guest.email, method, False, return_url(payment))
    return GuestPaid(payment, status_token(payment))


async def _create(
    account: Account, given: _Input, provider: str, client: Client, language: str
) -> GuestPayment:
    moment = now()
    try:
        async with in_transaction():
            payment = await OnlinePayment.create(
                cabinet_id=None,
                account_id=account.id,
                amount=given.amount,
                idempotency_key=given.key,
                provider=provider,
                created_at=moment,
                updated_at=moment,
            )
            guest = await GuestPayment.create(
                payment_id=payment.id,
                idempotency_key=given.key,
                email=given.email,
                language=language if language in ("ru", "en") else "ru",
                client_key=client.limit_key[:64],
                created_at=moment,
            )
    except IntegrityError:  # the same request, twice at once: the other one won
        return await GuestPayment.get(idempotency_key=given.key).select_related("payment")
    guest.payment = payment
    return guest


async def guest_payment(token: str) -> GuestPaymentState | None:
    """The payment a status token names; None for a damaged or expired token."""
    try:
        data = _serializer().loads(token, max_age=STATUS_TOKEN_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        return None
    payment = await OnlinePayment.get_or_none(id=data["p"], cabinet_id__isnull=True)
    if payment is None:
        return None
    account = await Account.get(id=payment.account_id)  # type: ignore[attr-defined]
    return GuestPaymentState(payment, account.number, mask_holder(account.holder_name))
