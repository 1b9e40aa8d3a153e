"""Autopay at work: turning it on, queueing each new bill, and charging it once.

- `enable_autopay` starts the first payment, as payBill does, asking the acquirer to save
  the method (`Order.save_method`). The payment is the amount owed now (at least 1 ₽, which
  the account keeps as prepayment). Autopay is active once that payment succeeds and the
  acquirer reports a saved method (`services.payments.autopay.after_payment`).
- `queue_new_bills` runs inside a billing import's transaction: one `autopay_charge` per
  new bill of an account with active autopay, due on the next day at AUTOPAY_CHARGE_HOUR.
  The row is unique per (autopay, bill), so a bill is charged at most once.
- `Charger` runs in every server process (beside the sweeper). It claims due charges as
  the outbox claims mail (FOR UPDATE SKIP LOCKED on PostgreSQL, a lease), so one process
  owns each. For each: the amount is the bill's amount due, no more than the account
  still owes; nothing owed, autopay turned off, or the month's charges above the cap
  (`maxAmount`, mailed) skip it. Otherwise a PENDING payment is written (fenced by the
  claim) and only then the acquirer asked to charge the saved method, with that payment's
  own idempotence key: a process that dies in between leaves the payment for the next
  owner, which asks again with the same key and gets the same payment, never a second.
  The acquirer's answer - or later its notification, or the sweeper's question - moves
  the payment as any other (`rules.apply_notification`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from config import Settings, get_settings, online_payments
from models import sql
from models.accounts import Account
from models.billing import Receipt
from models.cabinets import Cabinet, CabinetAccount
from models.mail import MailLane
from models.payments import Autopay, ChargeState, OnlinePayment, PaymentStatus
from payments.providers import (
    Provider,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    provider_for,
    recurring,
)
from services.core.clock import now
from services.core.errors import CoreError, RuleError
from services.core.money import AmountError, format_rub, parse_amount
from services.notifications.notices import notify
from services.payments import rules
from services.payments.autopay import linked
from services.payments.errors import PaymentError

log = logging.getLogger("kabinet.payments")

QUEUE_CHUNK = 1000  # bill ids per INSERT when an import queues charges
BATCH = 20  # charges one process claims at a time
RETRY_BASE = dt.timedelta(minutes=1)  # an unreachable acquirer: asked again, doubling
MINIMUM_FIRST = Decimal("1.00")  # the first payment when nothing is owed (kept as prepayment)
OVER_CAP, NOTHING_DUE, OFF = "over_cap", "nothing_due", "autopay_off"


# ---------------------------------------------------------------- enableAutopay


def _read_cap(text: str) -> Decimal:
    try:
        amount = parse_amount(text)
    except AmountError:
        raise RuleError(CoreError.INVALID_AMOUNT, "maxAmount") from None
    if amount <= 0:
        raise RuleError(CoreError.INVALID_AMOUNT, "maxAmount", reason="not_positive")
    limit = get_settings().payment_max_amount  # no charge may be larger anyway
    if amount > limit:
        raise RuleError(PaymentError.AMOUNT_TOO_LARGE, "maxAmount", max=format_rub(limit))
    return amount


async def enable_autopay(
    cabinet: Cabinet,
    account_id: int | None,
    max_amount_text: str,
    key: str,
    provider: Provider | None,
    method: str = "",
) -> OnlinePayment:
    """The first payment (PENDING, with its confirmation page) that saves the method; the
    same key gives the same payment. The cap takes effect at once."""
    settings = get_settings()
    if not online_payments(settings):
        raise rules.payments_unavailable(settings)
    cap = rules.read_input(max_amount_text, key, read=_read_cap)
    account = await linked(cabinet, account_id)
    if provider is None:
        raise RuleError(PaymentError.PROVIDER_UNAVAILABLE, None)
    if recurring(provider) is None:
        raise RuleError(PaymentError.AUTOPAY_NOT_SUPPORTED, None)
    earlier = await OnlinePayment.get_or_none(cabinet_id=cabinet.id, idempotency_key=key)
    if earlier is not None:
        first = earlier.amount  # a retry: the amount of the first attempt, whatever is owed now
    else:
        owed = max(account.balance, MINIMUM_FIRST)
        first = min(owed, settings.payment_max_amount)
    payment = await rules.pay_bill(
        cabinet, account.id, str(first), key, provider, method, save_method=True
    )
    moment = now()
    async with in_transaction():
        row = await Autopay.filter(account_id=account.id).select_for_update().first()
        if row is None:
            await Autopay.create(
                account_id=account.id,
                cabinet_id=cabinet.id,
                max_amount=cap,
                provider=provider.name,
                setup_payment_id=payment.id,
                created_at=moment,
                updated_at=moment,
            )
        else:
            # An active autopay keeps charging with its method until the new one is saved.
            await Autopay.filter(id=row.id).update(
                cabinet_id=cabinet.id,
                max_amount=cap,
                provider=provider.name,
                setup_payment_id=payment.id,
                updated_at=moment,
            )
    return payment


# ---------------------------------------------------------------- the import


def due_moment(imported_at: dt.datetime, settings: Settings) -> dt.datetime:
    """AUTOPAY_CHARGE_HOUR on the day after `imported_at`, in TIMEZONE."""
    tz = ZoneInfo(settings.timezone)
    next_day = imported_at.astimezone(tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(next_day, dt.time(settings.autopay_charge_hour), tzinfo=tz)


async def queue_new_bills(receipt_ids: Sequence[int]) -> int:
    """Queue one charge per new bill of an account with active autopay; returns how many.
    On the current connection, inside the import's transaction: a rejected import queues
    nothing, and a bill queued before is not queued again (the unique pair)."""
    conn = sql.connection()
    if not receipt_ids or not await sql.fetch_one(
        conn, "SELECT 1 AS yes FROM autopay WHERE active_since IS NOT NULL LIMIT 1"
    ):
        return 0
    moment = now()
    due = due_moment(moment, get_settings()).astimezone(dt.UTC)
    queued = 0
    for start in range(0, len(receipt_ids), QUEUE_CHUNK):
        chunk = list(receipt_ids[start : start + QUEUE_CHUNK])
        marks = sql.marks(chunk)
        queued += await sql.execute(
            conn,
            "INSERT INTO autopay_charge "  # noqa: S608 (only ?)
            "(autopay_id, receipt_id, state, attempts, due_at, outcome, created_at) "
            "SELECT a.id, r.id, 'pending', 0, ?, '', ? FROM receipt r "
            "JOIN autopay a ON a.account_id = r.account_id "
            "JOIN cabinet_account ca ON ca.account_id = a.account_id "
            "AND ca.cabinet_id = a.cabinet_id "
            f"WHERE a.active_since IS NOT NULL AND r.id IN ({marks}) "
            "ON CONFLICT (autopay_id, receipt_id) DO NOTHING",
            [due, moment, *chunk],
        )
    return queued


# ---------------------------------------------------------------- the charger


@dataclass(frozen=True)
class Claimed:
    id: int
    autopay_id: int
    receipt_id: int
    payment_id: int | None
    method_id: str
    attempts: int  # this one included


class LostClaim(Exception):
    """Another process took the charge over after this one's lease ran out."""


class Charger:
    """Charges the due bills of autopay. `run_once()` claims one batch and works it
    (returns how many it claimed); the server's lifespan calls it every
    AUTOPAY_POLL_SECONDS, tests call it directly after moving the clock."""

    def __init__(self, settings: Settings | None = None, *, name: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._claims = 0

    async def run_once(self) -> int:
        try:
            provider = provider_for(self.settings)
        except ProviderError:
            return 0  # PAYMENT_PROVIDER=none (or none usable): nothing is charged
        token, batch = await self.claim()
        for claimed in batch:
            try:
                await self._charge(token, claimed, provider)
            except LostClaim:
                log.warning("autopay charge %d was taken over by another process", claimed.id)
        return len(batch)

    async def claim(self) -> tuple[str, list[Claimed]]:
        self._claims += 1
        token = f"{self.name}#{self._claims}"[-64:]
        moment = now()
        rows = await sql.claim_due(
            sql.connection(),
            "autopay_charge",
            "id, autopay_id, receipt_id, payment_id, method_id, attempts",
            now=moment,
            limit=BATCH,
            token=token,
            lease_until=moment + dt.timedelta(seconds=self.settings.mail_lease_seconds),
        )
        batch = [
            Claimed(
                r["id"],
                r["autopay_id"],
                r["receipt_id"],
                r["payment_id"],
                r["method_id"] or "",
                r["attempts"],
            )
            for r in rows
        ]
        return token, sorted(batch, key=lambda c: c.id)

    async def _charge(self, token: str, claimed: Claimed, provider: Provider) -> None:
        payment_id, method_id = claimed.payment_id, claimed.method_id
        if payment_id is None:
            started = await self._start(token, claimed, provider)
            if started is None:
                return
            payment_id, method_id = started
        payment = await OnlinePayment.get(id=payment_id)
        if not payment.external_id and rules.may_still_be_asked(payment):
            charger = recurring(provider)
            if charger is None or provider.name != payment.provider or not method_id:
                # The operator changed acquirers since the payment was written: the one
                # that may know it cannot be asked, so it is closed here, unsent.
                log.error("autopay charge %d: %s cannot be asked", claimed.id, payment.provider)
                await rules.cancel_unsent(payment.id)
                await self._finish(token, claimed, ChargeState.SKIPPED, "provider_changed")
                return
            account = await Account.get(id=payment.account_id)  # type: ignore[attr-defined]
            cabinet = await Cabinet.get(id=payment.cabinet_id)  # type: ignore[attr-defined]
            order = rules.order_of(payment, account, cabinet.email)
            try:
                charged = await charger.charge_saved(order, method_id)
            except ProviderRefused as exc:
                log.warning("autopay charge %d: %s refused it: %s", claimed.id, provider.name, exc)
                await rules.refuse_unsent(payment.id, exc.code or "refused")
                await self._finish(token, claimed, ChargeState.DONE)
                return
            except ProviderUnavailable as exc:
                log.warning("autopay charge %d: %s unavailable: %s", claimed.id, provider.name, exc)
                await self._retry(token, claimed)
                return
            await OnlinePayment.filter(id=payment.id, external_id__isnull=True).update(
                external_id=charged.external_id, updated_at=now()
            )
            if charged.outcome is not None:
                try:
                    await rules.apply_notification(provider.name, charged.outcome)
                except (rules.UnknownPayment, rules.AmountMismatch) as exc:
                    log.error("autopay charge %d: the answer is not ours: %s", claimed.id, exc)
        await self._finish(token, claimed, ChargeState.DONE)

    async def _start(
        self, token: str, claimed: Claimed, provider: Provider
    ) -> tuple[int, str] | None:
        """Decide whether the bill is charged and write its PENDING payment with the method
        it is charged with, fenced by the claim; None when it is skipped (why is in
        `outcome`, and mailed when over the cap)."""
        autopay = await Autopay.get(id=claimed.autopay_id)
        receipt = await Receipt.get(id=claimed.receipt_id)
        account = await Account.get(id=receipt.account_id)  # type: ignore[attr-defined]
        holds = await CabinetAccount.filter(
            cabinet_id=autopay.cabinet_id,  # type: ignore[attr-defined]
            account_id=account.id,
        ).exists()
        off = autopay.active_since is None or not autopay.method_id
        if off or not holds or autopay.provider != provider.name:
            await self._finish(token, claimed, ChargeState.SKIPPED, OFF)
            return None
        amount = min(receipt.amount_due, account.balance)
        if amount <= 0:
            await self._finish(token, claimed, ChargeState.SKIPPED, NOTHING_DUE)
            return None
        cabinet = await Cabinet.get(id=autopay.cabinet_id)  # type: ignore[attr-defined]
        spent = await self._charged_this_month(autopay)
        if spent + amount > autopay.max_amount or amount > self.settings.payment_max_amount:
            async with in_transaction():
                await self._finish(token, claimed, ChargeState.SKIPPED, OVER_CAP)
                await notify(
                    cabinet,
                    "autopay_over_cap",
                    lane=MailLane.ROUTINE,
                    amount=format_rub(amount),
                    account_number=account.number,
                    max_amount=format_rub(autopay.max_amount),
                    spent=format_rub(spent),
                )
            log.info("autopay charge %d: %s is over the cap", claimed.id, amount)
            return None
        moment = now()
        async with in_transaction():
            payment = await OnlinePayment.create(
                cabinet_id=cabinet.id,
                account_id=account.id,
                amount=amount,
                idempotency_key=f"autopay-{claimed.id}",
                provider=provider.name,
                created_at=moment,
                updated_at=moment,
            )
            fenced = await sql.execute(
                sql.connection(),
                "UPDATE autopay_charge SET payment_id = ?, method_id = ? "
                "WHERE id = ? AND claimed_by = ? AND state = 'sending' AND payment_id IS NULL",
                [payment.id, autopay.method_id, claimed.id, token],
            )
            if fenced != 1:
                raise LostClaim()  # inside the transaction: the payment is rolled back
        return payment.id, autopay.method_id or ""

    async def _charged_this_month(self, autopay: Autopay) -> Decimal:
        """What this autopay has charged (or is charging) since the month began."""
        tz = ZoneInfo(self.settings.timezone)
        local = now().astimezone(tz)
        month = dt.datetime(local.year, local.month, 1, tzinfo=tz).astimezone(dt.UTC)
        amounts = await OnlinePayment.filter(
            autopay_charge__autopay_id=autopay.id,
            created_at__gte=month,
            status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED],
        ).values_list("amount", flat=True)
        return sum((Decimal(a) for a in amounts), Decimal(0))

    async def _finish(
        self, token: str, claimed: Claimed, state: ChargeState, outcome: str = ""
    ) -> None:
        changed = await sql.execute(
            sql.connection(),
            "UPDATE autopay_charge SET state = ?, outcome = CASE WHEN ? = '' THEN outcome "
            "ELSE ? END, done_at = ? WHERE id = ? AND claimed_by = ? AND state = 'sending'",
            [state.value, outcome, outcome, now(), claimed.id, token],
        )
        if changed != 1:
            raise LostClaim()

    async def _retry(self, token: str, claimed: Claimed) -> None:
        """The acquirer could not be reached: the same charge (the same payment, the same
        key) is asked again later."""
        due = now() + RETRY_BASE * 2 ** min(claimed.attempts - 1, 10)
        await sql.execute(
            sql.connection(),
            "UPDATE autopay_charge SET state = 'pending', due_at = ? "
            "WHERE id = ? AND claimed_by = ? AND state = 'sending'",
            [due, claimed.id, token],
        )
