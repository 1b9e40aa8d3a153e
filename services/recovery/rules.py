"""Recovery without e-mail: the customer who lost the cabinet's mailbox proves ownership
of an account, names a new address, and sets a password from the link sent there.

1. `start`: proof of ownership (the shared rule and its attempt limits) -> a recovery
   token (15 minutes) bound to the cabinet and to this proof attempt, and the current
   address masked so the customer recognises it.
2. `confirm_new_email`: a link (1 hour) bound to the cabinet, the new address and the
   attempt goes to the new address; the old address is told at once. Calling it again
   voids the earlier link.
3. `complete` (setPassword with that link): if the payment the proof matched could have
   been planted (proof.suspicious_payment), nothing changes yet: the change is held
   PROOF_HOLD_HOURS, the cabinet's address is warned with a cancel link, and
   `complete_due_holds` (every process's job) does what follows when the hold ends,
   unless it was canceled, the cabinet frozen, or its password or address changed since.
   Otherwise, at once: in one transaction the proof is checked
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
    HoldState,
    ProofAttempt,
    ProofHold,
    ProofOutcome,
    ProofPurpose,
    SecurityEvent,
    SecurityEventKind,
    TokenPurpose,
)
from models.cabinets import Cabinet, CabinetAccount
from services.accounts import linking, proof
from services.core import telemetry, throttle, tokens
from services.core.clock import now
from services.core.emails import mask_email, normalize_email
from services.core.errors import CoreError, RuleError
from services.notifications.notices import (
    charge_mail_budget,
    mail_link,
    notify,
    notify_address,
    notify_old_address,
)
from services.recovery.errors import RecoveryError
from services.security import audit, sessions
from services.security.errors import SecurityError
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
    if cabinet.frozen_at is not None:
        raise RuleError(SecurityError.CABINET_FROZEN, "accountNumber")
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


@dataclass(frozen=True)
class Completed:
    """What setPassword did: the cabinet it changed, or, for a recovery proven with a
    suspicious payment, nothing yet: the change waits until `hold_until`."""

    cabinet: Cabinet | None
    hold_until: dt.datetime | None = None


async def complete(row: ActionToken, token: str, password: str, client: Client) -> Completed:
    """setPassword with a recovery link: bind the new address and password at once, or,
    when the proof's payment could have been planted (proof.suspicious_payment), hold
    the change PROOF_HOLD_HOURS and warn the cabinet's address with a cancel link."""
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
        if cabinet.frozen_at is not None:
            raise RuleError(SecurityError.CABINET_FROZEN, "token")
        proven = await _proven_account(row, cabinet.id)
        if await Cabinet.filter(email=row.email).exclude(id=cabinet.id).exists():
            raise RuleError(CoreError.EMAIL_TAKEN, "token")
        attempt = await ProofAttempt.get(id=row.recovery_id)  # type: ignore[attr-defined]
        suspicion = await proof.suspicious_payment(
            attempt.payment_id,  # type: ignore[attr-defined]
            holder_cabinet_id=cabinet.id,
            at=attempt.created_at,
        )
        if suspicion is not None:
            hold = await _hold(cabinet, attempt, proven, row.email, password_hash, client)
            telemetry.RECOVERIES.labels("set_password", "held").inc()
            return Completed(None, hold.until)
        await _bind(cabinet, proven, row.email, password_hash, client)
    telemetry.RECOVERIES.labels("set_password", "ok").inc()
    return Completed(cabinet)


async def _bind(
    cabinet: Cabinet, proven: int, email: str, password_hash: str, client: Client
) -> None:
    """Move a locked cabinet to the recoverer, in the caller's transaction: the new
    address (verified: the link reached it) and password, the proven account alone,
    no session or token left, both addresses told."""
    old = cabinet.email
    cabinet.email, cabinet.email_verified_at = email, now()
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
    await audit.record(cabinet.id, SecurityEventKind.RECOVERY_COMPLETED, client, mask_email(email))
    if old != email:
        await notify_old_address(
            cabinet, "recovery_completed_old", to=old, new_email=mask_email(email)
        )
    await notify(cabinet, "recovery_completed_new")


async def _hold(
    cabinet: Cabinet,
    attempt: ProofAttempt,
    proven: int,
    email: str,
    password_hash: str,
    client: Client,
) -> ProofHold:
    """Write the held recovery and warn the cabinet's address at once, with a link that
    cancels it (valid as long as the hold): in the caller's transaction."""
    moment = now()
    lifetime = dt.timedelta(hours=get_settings().proof_hold_hours)
    # A new hold for the same proof replaces nothing: each setPassword link is single-use.
    hold = await ProofHold.create(
        purpose=ProofPurpose.RECOVERY,
        cabinet_id=cabinet.id,
        account_id=proven,
        attempt_id=attempt.id,
        new_email=email,
        password_hash=password_hash,
        ip=client.ip[:64],
        user_agent=client.user_agent[:300],
        until=moment + lifetime,
        created_at=moment,
    )
    issued = await tokens.issue(
        cabinet.id, TokenPurpose.HOLD_CANCEL, lifetime, email=cabinet.email, recovery_id=attempt.id
    )
    zone = ZoneInfo(get_settings().timezone)
    await notify(
        cabinet,
        "recovery_held",
        account=attempt.account_number,
        new_email=mask_email(email),
        until=hold.until.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
        cancel_token=issued.token,
    )
    await audit.record(cabinet.id, SecurityEventKind.PROOF_HELD, client, mask_email(email))
    return hold


@dataclass(frozen=True)
class HeldRecovery:
    masked_email: str  # the address the recovery would move the cabinet to
    until: dt.datetime
    state: HoldState


async def _held_by_token(token: str) -> tuple[ActionToken, ProofHold]:
    row = await tokens.peek(token, (TokenPurpose.HOLD_CANCEL,))
    hold = (
        await ProofHold.filter(
            cabinet_id=row.cabinet_id,  # type: ignore[attr-defined]
            attempt_id=row.recovery_id,  # type: ignore[attr-defined]
        )
        .order_by("-id")
        .first()
    )
    if hold is None:
        raise RuleError(CoreError.INVALID_TOKEN, "token")
    return row, hold


async def describe_hold(token: str) -> HeldRecovery:
    """What the cancel link would cancel, for its confirmation page (a GET never acts)."""
    _, hold = await _held_by_token(token)
    return HeldRecovery(mask_email(hold.new_email), hold.until, hold.state)


async def cancel_hold(token: str, client: Client) -> HeldRecovery:
    """ "Cancel, this wasn't me": the held recovery never happens. The same conditional
    UPDATE as the hold job's claim, so of a cancel and a completion only one wins."""
    _, hold = await _held_by_token(token)
    async with in_transaction():
        await tokens.consume(token, (TokenPurpose.HOLD_CANCEL,))
        canceled = await ProofHold.filter(id=hold.id, state=HoldState.HELD).update(
            state=HoldState.CANCELED, outcome="canceled", password_hash="", done_at=now()
        )
        if canceled == 1:
            await audit.record(
                hold.cabinet_id,  # type: ignore[attr-defined]
                SecurityEventKind.PROOF_HOLD_CANCELED,
                client,
                mask_email(hold.new_email),
            )
    state = HoldState.CANCELED if canceled == 1 else hold.state
    return HeldRecovery(mask_email(hold.new_email), hold.until, state)


async def complete_due_holds(limit: int = 20) -> int:
    """Complete the held recoveries whose hold has ended; returns how many completed.

    Every process runs this; each hold is claimed with a conditional UPDATE (HELD ->
    DONE) inside its transaction, so only one process completes it, a cancel racing it
    either wins first or finds it done, and a failure rolls the claim back. A hold whose
    change no longer applies (the account was unlinked, the address was taken, the
    cabinet was frozen) ends FAILED, with nothing changed."""
    moment = now()
    due = (
        await ProofHold.filter(
            state=HoldState.HELD, purpose=ProofPurpose.RECOVERY, until__lte=moment
        )
        .order_by("until")
        .limit(limit)
        .values_list("id", flat=True)
    )
    completed = 0
    for hold_id in due:
        async with in_transaction():
            claimed = await ProofHold.filter(id=hold_id, state=HoldState.HELD).update(
                state=HoldState.DONE, done_at=moment
            )
            if claimed != 1:
                continue
            hold = await ProofHold.get(id=hold_id)
            cabinet = await Cabinet.filter(id=hold.cabinet_id).select_for_update().get()  # type: ignore[attr-defined]
            why = await _no_longer_applies(hold, cabinet)
            if why:
                await ProofHold.filter(id=hold_id).update(
                    state=HoldState.FAILED, outcome=why, password_hash=""
                )
                continue
            client = Client(ip=hold.ip, user_agent=hold.user_agent)
            await _bind(cabinet, hold.account_id, hold.new_email, hold.password_hash, client)  # type: ignore[attr-defined]
            await ProofHold.filter(id=hold_id).update(outcome="completed", password_hash="")
            completed += 1
    if completed:
        telemetry.RECOVERIES.labels("hold_end", "ok").inc(completed)
    return completed


async def _no_longer_applies(hold: ProofHold, cabinet: Cabinet) -> str:
    if cabinet.frozen_at is not None or cabinet.disabled_at is not None:
        return "frozen"
    # Someone with the cabinet's password or mailbox changed it since: the owner is there,
    # and a hold must not undo their recovery, reset or change.
    if await SecurityEvent.exists(
        cabinet_id=cabinet.id,
        kind__in=[
            SecurityEventKind.RECOVERY_COMPLETED,
            SecurityEventKind.PASSWORD_CHANGED,
            SecurityEventKind.EMAIL_CHANGED,
        ],
        created_at__gt=hold.created_at,
    ):
        return "changed_since"
    if not await CabinetAccount.exists(cabinet_id=cabinet.id, account_id=hold.account_id):  # type: ignore[attr-defined]
        return "proof_no_longer_holds"
    if await Cabinet.filter(email=hold.new_email).exclude(id=cabinet.id).exists():
        return "email_taken"
    return ""


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
