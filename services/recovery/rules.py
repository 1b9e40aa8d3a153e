"""Recovery without e-mail: the customer who lost the cabinet's mailbox proves ownership
of an account, names a new address, and sets a password from the link sent there.

1. `start`: proof of ownership (the shared rule and its attempt limits) -> a recovery
   token (15 minutes) bound to the cabinet and to this proof attempt, and the current
   address masked so the customer recognises it.
2. `confirm_new_email`: a link (1 hour) bound to the cabinet, the new address and the
   attempt goes to the new address; the old address is told at once. Calling it again
   voids the earlier link.
3. `complete` (setPassword with that link): in one transaction the proof is checked
   again (the proven account must still be in the cabinet: PROOF_NO_LONGER_HOLDS), the
   new address (verified: the link reached it) and password are bound to the cabinet,
   every other account of the cabinet is unlinked (the recoverer proved one account, not
   the others: docs/api.md "What a recovery moves"), every session and token ends, and
   both addresses are told (SECURITY.md 14-15).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from config import get_settings
from models.accounts import Account
from models.auth import (
    ActionToken,
    ProofAttempt,
    ProofOutcome,
    ProofPurpose,
    SecurityEventKind,
    TokenPurpose,
)
from models.cabinets import Cabinet, CabinetAccount
from services.accounts import linking, proof
from services.core import telemetry, throttle, tokens
from services.core.clock import now
from services.core.emails import mask_email, normalize_email
from services.core.errors import CoreError, RuleError
from services.notifications.notices import charge_mail_budget, mail_link, notify, notify_address
from services.recovery.errors import RecoveryError
from services.security import audit, sessions
from services.security.passwords import cabinet_context_words, check_policy, hash_password
from services.security.sessions import Client


@dataclass(frozen=True)
class Started:
    recovery_token: str
    expires_at: dt.datetime
    masked_email: str


def minimal_payment() -> Decimal:
    return get_settings().recovery_minimal_payment


async def start(account_number: str, payment_amount: str, client: Client) -> Started:
    number, amount = proof.read_proof(account_number, payment_amount)
    proven = await proof.prove(number, amount, purpose=ProofPurpose.RECOVERY, client=client)
    link = await CabinetAccount.filter(account_id=proven.account.id).first()
    if link is None:
        await proof.set_outcome(proven.attempt, ProofOutcome.NO_CABINET)
        raise RuleError(RecoveryError.NO_CABINET, "accountNumber")
    cabinet = await Cabinet.get(id=link.cabinet_id)  # type: ignore[attr-defined]
    await ProofAttempt.filter(id=proven.attempt.id).update(cabinet_id=cabinet.id)
    async with in_transaction():
        issued = await tokens.issue(
            cabinet.id,
            TokenPurpose.RECOVERY,
            dt.timedelta(minutes=get_settings().recovery_step_minutes),
            recovery_id=proven.attempt.id,
        )
        await audit.record(cabinet.id, SecurityEventKind.RECOVERY_STARTED, client, number)
    return Started(issued.token, issued.expires_at, mask_email(cabinet.email))


async def confirm_new_email(recovery_token: str, new_email: str, client: Client) -> str:
    """Mail the link that completes the recovery to the new address and tell the old one.
    An address that has a cabinet already gets word of that instead, and the caller the
    same answer: the throttles come before any lookup, and nothing tells the two apart."""
    row = await tokens.peek(recovery_token, (TokenPurpose.RECOVERY,), field="recoveryToken")
    address = normalize_email(new_email, field="newEmail")
    try:
        # Each call mails two addresses: a recovery token may send a handful, no more.
        await throttle.attempt(
            (f"recovery:confirm:{row.id}", throttle.Window(5, dt.timedelta(hours=1)))
        )
    except throttle.Throttled as throttled:
        raise RuleError(CoreError.TOO_MANY_ATTEMPTS, retry_after=throttled.retry_after) from None
    await charge_mail_budget(row.cabinet_id)  # type: ignore[attr-defined]
    cabinet = await Cabinet.get(id=row.cabinet_id)  # type: ignore[attr-defined]
    taken = await Cabinet.filter(email=address).exclude(id=cabinet.id).exists()
    async with in_transaction():
        await ActionToken.filter(
            cabinet_id=cabinet.id,
            purpose=TokenPurpose.RECOVERY_LINK,
            recovery_id=row.recovery_id,  # type: ignore[attr-defined]
            used_at__isnull=True,
            voided_at__isnull=True,
        ).update(voided_at=now())
        if taken:
            await notify_address(address, cabinet.language, "email_taken")
        else:
            await mail_link(
                cabinet,
                TokenPurpose.RECOVERY_LINK,
                "recovery_confirm",
                to=address,
                recovery_id=row.recovery_id,  # type: ignore[attr-defined]
            )
        await notify(cabinet, "recovery_requested", new_email=mask_email(address))
        await audit.record(
            cabinet.id, SecurityEventKind.RECOVERY_EMAIL_REQUESTED, client, mask_email(address)
        )
    return address


async def complete(row: ActionToken, token: str, password: str, client: Client) -> Cabinet:
    """setPassword with a recovery link: bind the new address and password at once."""
    cabinet = await Cabinet.get(id=row.cabinet_id)  # type: ignore[attr-defined]
    check_policy(
        password,
        field="password",
        context_words=await cabinet_context_words(cabinet.id, row.email),
    )
    password_hash = await hash_password(password)
    async with in_transaction():
        await tokens.consume(token, (TokenPurpose.RECOVERY_LINK,))
        # The lock also waits for an unlink of the same cabinet (linking.unlink_account).
        cabinet = await Cabinet.filter(id=cabinet.id).select_for_update().get()
        proven = await _proven_account(row, cabinet.id)
        if await Cabinet.filter(email=row.email).exclude(id=cabinet.id).exists():
            raise RuleError(CoreError.EMAIL_TAKEN, "token")
        old = cabinet.email
        cabinet.email, cabinet.email_verified_at = row.email, now()
        cabinet.password_hash = password_hash
        try:
            await cabinet.save(
                update_fields=["email", "email_verified_at", "password_hash", "updated_at"]
            )
        except IntegrityError:
            raise RuleError(CoreError.EMAIL_TAKEN, "token") from None
        await linking.unlink_all_but(cabinet.id, proven, client)
        await sessions.revoke_all(cabinet.id)
        await tokens.void_outstanding(cabinet.id)
        await audit.record(
            cabinet.id, SecurityEventKind.RECOVERY_COMPLETED, client, mask_email(row.email)
        )
        if old != row.email:
            await notify(cabinet, "recovery_completed_old", to=old, new_email=mask_email(row.email))
        await notify(cabinet, "recovery_completed_new")
    telemetry.RECOVERIES.labels("set_password", "ok").inc()
    return cabinet


async def _proven_account(row: ActionToken, cabinet_id: int) -> int:
    """The id of the account the recovery's proof was made with, while that proof still
    stands for this cabinet: it succeeded, and the account is still linked to it."""
    attempt = await ProofAttempt.get_or_none(id=row.recovery_id)  # type: ignore[attr-defined]
    account = None
    if attempt is not None and attempt.outcome == ProofOutcome.SUCCESS:
        account = await Account.filter(number=attempt.account_number).first()
    if account is None or not await CabinetAccount.exists(
        cabinet_id=cabinet_id, account_id=account.id
    ):
        raise RuleError(RecoveryError.PROOF_NO_LONGER_HOLDS, "token")
    return account.id


@dataclass(frozen=True)
class LogEntry:
    at: dt.datetime
    what: str
    outcome: str
    ip: str
    user_agent: str


async def audit_log(account_number: str) -> list[LogEntry]:
    """Every proof attempt on the account (recovery, registration, linking) and what each
    successful recovery went on to do, oldest first: for support staff."""
    number = proof.normalize_account_number(account_number)
    entries: list[LogEntry] = []
    attempts = await ProofAttempt.filter(account_number=number).order_by("created_at", "id")
    for attempt in attempts:
        entries.append(
            LogEntry(
                attempt.created_at,
                f"proof for {attempt.purpose}",
                attempt.outcome,
                attempt.ip,
                attempt.user_agent,
            )
        )
    links = await ActionToken.filter(
        recovery_id__in=[a.id for a in attempts], purpose=TokenPurpose.RECOVERY_LINK
    ).order_by("created_at", "id")
    zone = ZoneInfo(get_settings().timezone)

    def local(moment: dt.datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    for link in links:
        if link.used_at is not None:
            state = f"used {local(link.used_at)}: cabinet moved"
        elif link.voided_at is not None:
            state = f"voided {local(link.voided_at)}"
        elif link.expires_at <= now():
            state = "expired unused"
        else:
            state = "waiting"
        entries.append(LogEntry(link.created_at, f"link sent to {link.email}", state, "", ""))
    return sorted(entries, key=lambda e: e.at)
