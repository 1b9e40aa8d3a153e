"""The electronic receipt: an account's bills by e-mail, as PDFs, from the next import on.

- `subscribe` switches an account of the cabinet to the electronic receipt. The bills go
  to the cabinet's own (confirmed) address, and follow it when it changes; another
  address gets a confirmation link first (a single-use token, `services.core.tokens`) and
  receives bills only once the link is followed (`confirm_email`).
- `unsubscribe` (logged in) and `unsubscribe_by_link` (the one-click link of every
  receipt mail, RFC 8058: no login, no cookie) switch it off.
- `queue_new_receipts` runs inside a billing import's transaction and queues one
  delivery per new receipt of a subscribed account; `services.ereceipts.dispatch`
  renders and mails them afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from tortoise.transactions import in_transaction

from config import get_settings
from models import sql
from models.accounts import Account
from models.auth import TokenPurpose
from models.cabinets import Cabinet, CabinetAccount
from models.ereceipts import EReceiptSubscription
from services.core import throttle, tokens
from services.core.clock import now
from services.core.emails import normalize_email
from services.core.errors import CoreError, RuleError
from services.ereceipts.errors import EReceiptError
from services.notifications.notices import charge_mail_budget, mail_link

UNSUBSCRIBE_SALT = "kabinet.ereceipt_unsubscribe"
CONFIRMATIONS_PER_HOUR = 5  # links to other addresses a cabinet may have mailed
QUEUE_CHUNK = 1000  # receipt ids per INSERT when an import queues deliveries


@dataclass(frozen=True)
class EReceiptState:
    """What `Account.eReceipt` shows."""

    enabled: bool
    email: str | None  # where the bills go while enabled
    since: dt.datetime | None
    pending_email: str | None  # an address waiting for its confirmation link

    @classmethod
    def of_row(cls, row: dict[str, Any] | None) -> EReceiptState:
        """From a row with the subscription's `email`, `since`, `pending_email` and the
        cabinet's address as `cabinet_email`; None: no subscription."""
        if row is None:
            return cls(False, None, None, None)
        since = sql.as_datetime(row["since"])
        email = (row["email"] or row["cabinet_email"]) if since is not None else None
        return cls(since is not None, email, since, row["pending_email"])


# ---------------------------------------------------------------- subscribing


async def subscribe(cabinet: Cabinet, account_id: int, email: str | None = None) -> str | None:
    """Switch the account to the electronic receipt. Returns the address a confirmation
    link went to, or None when the bills go to the cabinet's address from now on."""
    if not await CabinetAccount.filter(cabinet_id=cabinet.id, account_id=account_id).exists():
        raise RuleError(CoreError.NOT_FOUND, "accountId")
    address = normalize_email(email) if email and email.strip() else cabinet.email
    own = address == cabinet.email
    if own and cabinet.email_verified_at is None:
        raise RuleError(EReceiptError.EMAIL_NOT_VERIFIED, "email")
    if not own:
        window = throttle.Window(CONFIRMATIONS_PER_HOUR, dt.timedelta(hours=1))
        try:
            await throttle.attempt((f"ereceipt:confirm:{cabinet.id}", window))
        except throttle.Throttled as throttled:
            raise RuleError(
                CoreError.TOO_MANY_ATTEMPTS, retry_after=throttled.retry_after
            ) from None
        await charge_mail_budget(cabinet.id)
    async with in_transaction():
        # Locking the link serializes subscribing with unlinking and with itself.
        link = await (
            CabinetAccount.filter(cabinet_id=cabinet.id, account_id=account_id)
            .select_for_update()
            .prefetch_related("account")
            .first()
        )
        if link is None:  # unlinked meanwhile
            raise RuleError(CoreError.NOT_FOUND, "accountId")
        subscription = await _subscription_of(cabinet.id, account_id)
        if own or (subscription.since is not None and subscription.email == address):
            subscription.email = None if own else address
            subscription.since = subscription.since or now()
            subscription.pending_email, subscription.pending_token_id = None, None  # type: ignore[attr-defined]
            await subscription.save()
            return None
        issued = await mail_link(
            cabinet,
            TokenPurpose.ERECEIPT_EMAIL,
            "ereceipt_confirm",
            to=address,
            context={"account_number": link.account.number},
        )
        subscription.pending_email = address
        subscription.pending_token_id = issued.row.id  # type: ignore[attr-defined]
        await subscription.save()
    return address


async def _subscription_of(cabinet_id: int, account_id: int) -> EReceiptSubscription:
    """The account's subscription row (locked), a new unsaved one if it has none. A row
    left by a cabinet that no longer holds the account does not carry over."""
    found = await EReceiptSubscription.filter(account_id=account_id).select_for_update().first()
    if found is not None and found.cabinet_id == cabinet_id:  # type: ignore[attr-defined]
        return found
    if found is not None:
        await found.delete()
    return EReceiptSubscription(account_id=account_id, cabinet_id=cabinet_id)


async def unsubscribe(cabinet: Cabinet, account_id: int) -> None:
    """Switch the electronic receipt off (and drop an address waiting for confirmation).
    Nothing to do when it is off already."""
    if not await CabinetAccount.filter(cabinet_id=cabinet.id, account_id=account_id).exists():
        raise RuleError(CoreError.NOT_FOUND, "accountId")
    await end_for_account(account_id)


async def end_for_account(account_id: int) -> None:
    """The account leaves its cabinet (or the customer says stop): no more e-mails."""
    await EReceiptSubscription.filter(account_id=account_id).delete()


# ---------------------------------------------------------------- confirming another address


@dataclass(frozen=True)
class Confirmation:
    account_number: str
    email: str


async def _pending(row: Any) -> EReceiptSubscription:
    """The subscription a confirmation token was issued for, still waiting for it."""
    subscription = (
        await EReceiptSubscription.filter(pending_token_id=row.id).select_related("account").first()
    )
    if (
        subscription is None
        or subscription.cabinet_id != row.cabinet_id  # type: ignore[attr-defined]
        or subscription.pending_email != row.email
        or not await CabinetAccount.filter(
            cabinet_id=row.cabinet_id,
            account_id=subscription.account_id,  # type: ignore[attr-defined]
        ).exists()
    ):
        raise RuleError(CoreError.INVALID_TOKEN, "token")
    return subscription


async def describe_confirmation(token: str) -> Confirmation:
    """What following the link will do, without doing it (the page before the button)."""
    row = await tokens.peek(token, (TokenPurpose.ERECEIPT_EMAIL,))
    subscription = await _pending(row)
    return Confirmation(subscription.account.number, row.email)


async def confirm_email(token: str) -> Confirmation:
    """Follow the confirmation link: the bills of the account go to that address now."""
    row = await tokens.peek(token, (TokenPurpose.ERECEIPT_EMAIL,))
    async with in_transaction():
        await tokens.consume(token, (TokenPurpose.ERECEIPT_EMAIL,))
        subscription = await _pending(row)
        subscription.email = row.email
        subscription.since = subscription.since or now()
        subscription.pending_email, subscription.pending_token_id = None, None  # type: ignore[attr-defined]
        await subscription.save()
    return Confirmation(subscription.account.number, row.email)


# ---------------------------------------------------------------- the one-click unsubscribe link


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(subscription_id: int, account_id: int, email: str, since: dt.datetime) -> str:
    """The token of the unsubscribe link in a receipt mail. It names one subscription as
    it was when the mail went out (its start and its address), so it can stop that and
    nothing else: not a later subscription, not the bills another address now receives.
    It does not expire: a bill read months later must still be able to stop the next."""
    payload = {"s": subscription_id, "a": account_id, "e": email, "v": int(since.timestamp())}
    return _unsubscribe_serializer().dumps(payload)


@dataclass(frozen=True)
class Unsubscribed:
    account_number: str
    email: str
    was_active: bool  # False: it had stopped already (or the address had been changed)


async def unsubscribe_by_link(token: str, *, act: bool) -> Unsubscribed:
    """What the unsubscribe link names and, with `act`, stop it. INVALID_TOKEN for a
    token we did not sign; a subscription that ended already answers `was_active=False`."""
    try:
        data = _unsubscribe_serializer().loads(token or "")
    except BadSignature:
        raise RuleError(CoreError.INVALID_TOKEN, "token") from None
    if not isinstance(data, dict) or not {"s", "a", "e", "v"} <= data.keys():
        raise RuleError(CoreError.INVALID_TOKEN, "token")
    account = await Account.filter(id=data["a"]).first()
    if account is None:
        raise RuleError(CoreError.INVALID_TOKEN, "token")
    async with in_transaction():
        subscription = await (
            EReceiptSubscription.filter(id=data["s"], account_id=account.id)
            .select_for_update()
            .first()
        )
        matches = subscription is not None and await _is_as_signed(subscription, data)
        if matches and act:
            await subscription.delete()  # type: ignore[union-attr]
    return Unsubscribed(account.number, data["e"], was_active=bool(matches))


async def _is_as_signed(subscription: EReceiptSubscription, data: dict[str, Any]) -> bool:
    """Whether the subscription is still the one the link was made for: live, started
    at the same moment, and sending to the same address."""
    if subscription.since is None or int(subscription.since.timestamp()) != data["v"]:
        return False
    if subscription.email is not None:
        return subscription.email == data["e"]
    holder = await Cabinet.get(id=subscription.cabinet_id)  # type: ignore[attr-defined]
    return holder.email == data["e"]


# ---------------------------------------------------------------- the import's side


async def queue_new_receipts(receipt_ids: Sequence[int]) -> int:
    """Queue one delivery per new receipt of a subscribed account; returns how many.

    Runs on the current connection, inside the import's transaction: a rejected import
    queues nothing. Only ids go in (no rendering), so a large import stays fast; the
    unique receipt id makes a second queueing of the same receipt a no-op.
    """
    conn = sql.connection()
    if not receipt_ids or not await sql.fetch_one(
        conn, "SELECT 1 AS yes FROM ereceipt_subscription WHERE since IS NOT NULL LIMIT 1"
    ):
        return 0
    moment = now()
    queued = 0
    for start in range(0, len(receipt_ids), QUEUE_CHUNK):
        chunk = list(receipt_ids[start : start + QUEUE_CHUNK])
        marks = sql.marks(chunk)
        queued += await sql.execute(
            conn,
            "INSERT INTO ereceipt_delivery (receipt_id, state, attempts, due_at, created_at) "  # noqa: S608 (only ?)
            "SELECT r.id, 'pending', 0, ?, ? FROM receipt r "
            "JOIN ereceipt_subscription s ON s.account_id = r.account_id "
            "JOIN cabinet_account ca ON ca.account_id = s.account_id "
            "AND ca.cabinet_id = s.cabinet_id "
            f"WHERE s.since IS NOT NULL AND r.id IN ({marks}) "
            "ON CONFLICT (receipt_id) DO NOTHING",
            [moment, moment, *chunk],
        )
    return queued
