"""Proof of ownership of an account: its number plus the amount of a recent payment.

One rule for registration, linking and recovery (SECURITY.md 1-5):
- input is checked for form first (costs no attempt);
- the attempt is counted per client IP and per account number, committed, *before*
  the amount is compared; over either limit the answer is TOO_MANY_ATTEMPTS with a
  retry time, even for the right amount;
- an unknown account and a wrong amount take the same queries and give the same
  answer (INVALID_PROOF); an account with no payment in the window answers
  NO_RECENT_PAYMENTS with the minimal payment to make;
- amounts compare exactly to the kopeck; a success gives its attempt back.
Every attempt is written to `proof_attempt` for support staff.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from config import get_settings
from mail.compose import link_builder
from models import sql
from models.accounts import Account
from models.auth import ProofAttempt, ProofOutcome, ProofPurpose
from models.billing import Payment
from models.payments import OnlinePayment
from services.accounts.errors import AccountError
from services.core import throttle
from services.core.clock import now
from services.core.errors import CoreError, RuleError, raise_all
from services.core.money import AmountError, format_amount, parse_amount
from services.security.sessions import Client

_SEPARATORS = re.compile(r"[\s\-–—./]")
MAX_ACCOUNT_DIGITS = 20


@dataclass(frozen=True)
class Proven:
    account: Account
    attempt: ProofAttempt
    payment_id: int  # the ledger payment whose amount matched (the oldest such)


def normalize_account_number(raw: str, field: str = "accountNumber") -> str:
    """Digits as printed on the bill; spaces and dashes people type are dropped."""
    value = _SEPARATORS.sub("", raw or "")
    if not value.isdigit() or not value.isascii() or len(value) > MAX_ACCOUNT_DIGITS:
        raise RuleError(AccountError.INVALID_ACCOUNT_NUMBER, field)
    return value


def read_proof(account_number: str, payment_amount: str) -> tuple[str, Decimal]:
    """Check the form of both inputs, reporting both problems at once."""
    errors: list[RuleError] = []
    number = amount = None
    try:
        number = normalize_account_number(account_number)
    except RuleError as error:
        errors.append(error)
    try:
        amount = parse_amount(payment_amount)
        if amount <= 0:
            raise AmountError("not positive")
    except AmountError:
        errors.append(RuleError(CoreError.INVALID_AMOUNT, "paymentAmount"))
    raise_all(errors)
    assert number is not None and amount is not None
    return number, amount


def _policies() -> tuple[throttle.Window, throttle.Window]:
    settings = get_settings()
    per_ip = throttle.Window(settings.proof_attempts_per_ip, dt.timedelta(hours=1))
    per_account = throttle.Window(settings.proof_attempts_per_account, dt.timedelta(hours=24))
    return per_ip, per_account


async def _record(
    purpose: ProofPurpose,
    number: str,
    outcome: ProofOutcome,
    client: Client,
    cabinet_id: int | None,
    payment_id: int | None = None,
) -> ProofAttempt:
    return await ProofAttempt.create(
        purpose=purpose,
        account_number=number,
        outcome=outcome,
        cabinet_id=cabinet_id,
        payment_id=payment_id,
        ip=client.ip[:64],
        user_agent=client.user_agent[:300],
        created_at=now(),
    )


async def prove(
    number: str,
    amount: Decimal,
    *,
    purpose: ProofPurpose,
    client: Client,
    cabinet_id: int | None = None,
) -> Proven:
    """Check a proof whose form `read_proof` has accepted."""
    per_ip, per_account = _policies()
    limits = ((f"proof:ip:{client.limit_key}", per_ip), (f"proof:account:{number}", per_account))
    try:
        await throttle.attempt(*limits)
    except throttle.Throttled as throttled:
        await _record(purpose, number, ProofOutcome.TOO_MANY_ATTEMPTS, client, cabinet_id)
        raise RuleError(
            CoreError.TOO_MANY_ATTEMPTS, None, retry_after=throttled.retry_after
        ) from None

    account = await Account.filter(number=number).first()
    since = now() - dt.timedelta(days=get_settings().proof_payment_window_days)
    # The same query whether or not the account exists: equal answers, equal timing.
    rows = await sql.fetch(
        sql.connection(),
        "SELECT id, amount FROM payment WHERE account_id = ? AND paid_at >= ? ORDER BY paid_at, id",
        [account.id if account else -1, since],
    )
    paid: dict[Decimal, int] = {}
    for row in rows:  # the oldest payment of each amount: the least suspicious match
        paid.setdefault(Decimal(str(row["amount"])).quantize(Decimal("0.01")), row["id"])

    if account is not None and not paid:
        await throttle.give_back(*limits)
        await _record(purpose, number, ProofOutcome.NO_RECENT_PAYMENTS, client, cabinet_id)
        raise no_recent_payments(number)
    if account is None or amount not in paid:
        await _record(purpose, number, ProofOutcome.INVALID_PROOF, client, cabinet_id)
        raise RuleError(AccountError.INVALID_PROOF, None)

    await throttle.give_back(*limits)
    attempt = await _record(purpose, number, ProofOutcome.SUCCESS, client, cabinet_id, paid[amount])
    return Proven(account, attempt, paid[amount])


class Suspicion(StrEnum):
    """Why the payment a proof matched proves nothing at once (SECURITY.md 20)."""

    FRESH = "fresh"  # younger than PROOF_FRESH_PAYMENT_DAYS when the proof was made
    GUEST = "guest"  # paid online without a cabinet
    OTHER_CABINET = "other_cabinet"  # paid online from a cabinet that does not hold it


async def suspicious_payment(
    payment_id: int | None, *, holder_cabinet_id: int | None, at: dt.datetime
) -> Suspicion | None:
    """Whether the ledger payment a proof matched could have been planted by whoever
    makes the proof: anyone may pay into any account by its number. `holder_cabinet_id`
    is the cabinet that holds the account (None when none does: a registration or link of
    a free account, where any cabinet's online payment is another's); `at` is when the
    proof was made. The one place that decides: the recovery, linking and registration
    rules all ask it, and put the change on hold when it answers."""
    if payment_id is None:
        return Suspicion.FRESH  # nothing known of the payment: trust it least
    payment = await Payment.get_or_none(id=payment_id)
    if payment is None:
        return Suspicion.FRESH
    if at - payment.paid_at < dt.timedelta(days=get_settings().proof_fresh_payment_days):
        return Suspicion.FRESH
    online = await OnlinePayment.filter(ledger_payment_id=payment_id).first()
    if online is None:
        return None  # paid at a bank or a post office, as the billing import reports it
    payer = online.cabinet_id  # type: ignore[attr-defined]
    if payer is None:
        return Suspicion.GUEST
    if payer != holder_cabinet_id:
        return Suspicion.OTHER_CABINET
    return None


def no_recent_payments(number: str) -> RuleError:
    """NO_RECENT_PAYMENTS with the minimal payment to make and where to make it without
    logging in: the guest payment page, filled in with the number and the amount."""
    settings = get_settings()
    # What a guest may pay at least (GUEST_MIN_AMOUNT) may be set above it.
    minimal = max(settings.recovery_minimal_payment, settings.guest_min_amount)
    return RuleError(
        AccountError.NO_RECENT_PAYMENTS,
        "accountNumber",
        minimal_payment=minimal,
        days=settings.proof_payment_window_days,
        pay_url=link_builder(settings.public_web_url)(
            "/pay", account=number, amount=format_amount(minimal)
        ),
    )


async def set_outcome(attempt: ProofAttempt, outcome: ProofOutcome) -> None:
    """A proof that succeeded can still end otherwise for its flow (e.g. NO_CABINET)."""
    await ProofAttempt.filter(id=attempt.id).update(outcome=outcome)
