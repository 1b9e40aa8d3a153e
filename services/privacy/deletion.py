"""Deleting a cabinet at its owner's request (152-FZ art. 21; App Store Review Guideline
5.1.1(v) and Google Play's account deletion policy).

`request` (deleteCabinet) asks for the password, ends every session of the cabinet and
starts a grace period of CABINET_DELETION_GRACE_DAYS; the address is told when the
cabinet will go and how to keep it. Logging in still works in the grace period, and
`cancel` (cancelCabinetDeletion) from such a session keeps the cabinet: logging in alone
does not, so someone who merely has the password sees the pending deletion but a
forgotten session or a saved password in an app does not undo what the owner asked for
without a deliberate step.

When the grace period ends, `erase_due` (the personal-data job of every server process)
erases the cabinet. What is erased and what is kept, and why:

- erased: the preferences (the language of mail, the notification preferences), the
  sessions (the devices a cabinet logged in from are known only through them; the device
  cookie lives in the browser) and the push devices registered by them with their pushes,
  outstanding links, e-receipt subscriptions, the links to its accounts (so the accounts
  can be registered or linked again), the photos, the subject and every message of its
  questions, its data exports, the address in the headers of mail already sent to it and
  in attempt counters;
- kept: readings and payments (they belong to the account and the billing system), the
  security log (until AUDIT_RETENTION_DAYS), questions as empty closed rows (the
  specialists' statistics). They stay attached to the cabinet's row, which becomes a
  tombstone: no address, no password, no name, closed (`disabled_at`), so nothing
  kept names the person any longer.

Autopay: the cabinet's autopays are turned off and their saved method (its id and title,
which name the person's card) forgotten; charges not started are skipped, one being sent
finishes as any payment does (`services.payments.autopay.forget_cabinet`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from config import get_settings
from models.auth import (
    ActionToken,
    ProofAttempt,
    ProofHold,
    RateCounter,
    SecurityEventKind,
    Session,
)
from models.cabinets import Cabinet, CabinetAccount, Role
from models.ereceipts import EReceiptSubscription
from models.mail import MailState, OutboxMessage
from models.privacy_requests import CabinetDeletion, DataExport, DeletionState
from models.push import NotificationOptOut, PushDevice, PushMessage
from models.questions import Attachment, Question, QuestionMessage, QuestionStatus
from services.auth import rules as auth
from services.auth.errors import AuthError
from services.core import tokens
from services.core.clock import now
from services.core.errors import NotAllowed, RuleError
from services.core.timeutil import company_tz
from services.notifications.notices import charge_mail_budget, notify
from services.payments import autopay
from services.privacy.errors import PrivacyError
from services.security import audit, sessions
from services.security.devices import Device
from services.security.sessions import Client

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: never a real mailbox


@dataclass(frozen=True)
class PendingDeletion:
    requested_at: dt.datetime
    erases_at: dt.datetime


def _pending(row: CabinetDeletion) -> PendingDeletion:
    return PendingDeletion(row.requested_at, row.erases_at)


def erased_email(cabinet_id: int) -> str:
    """The address of a cabinet's tombstone: unique, and no one's."""
    return f"erased-{cabinet_id}@{ERASED_DOMAIN}"


def _local_date(moment: dt.datetime, language: str) -> str:
    day = moment.astimezone(company_tz(get_settings().timezone)).date()
    return day.strftime("%d.%m.%Y") if language == "ru" else day.isoformat()


async def pending(cabinet_id: int) -> PendingDeletion | None:
    """`me.deletion`: the deletion waiting for its grace period to end, if any."""
    row = await CabinetDeletion.filter(cabinet_id=cabinet_id, state=DeletionState.PENDING).first()
    return _pending(row) if row is not None else None


async def request(
    cabinet: Cabinet, password: str, client: Client, device: Device | None = None
) -> PendingDeletion:
    """deleteCabinet: after the password, end every session and start the grace period.
    Asking again while a deletion is pending changes nothing and answers the same."""
    if cabinet.role != Role.CUSTOMER:
        raise NotAllowed()  # a specialist leaves with `kabinet staff remove`
    if not await auth.confirm_password(cabinet, password, client, device):
        raise RuleError(AuthError.WRONG_PASSWORD, "password")
    await charge_mail_budget(cabinet.id)
    moment = now()
    grace = dt.timedelta(days=get_settings().cabinet_deletion_grace_days)
    async with in_transaction():
        # The cabinet's row serialises two requests of the same cabinet.
        await Cabinet.filter(id=cabinet.id).select_for_update().get()
        existing = await CabinetDeletion.filter(
            cabinet_id=cabinet.id, state=DeletionState.PENDING
        ).first()
        if existing is not None:
            await sessions.revoke_all(cabinet.id)
            return _pending(existing)
        row = await CabinetDeletion.create(
            cabinet_id=cabinet.id, requested_at=moment, erases_at=moment + grace
        )
        await sessions.revoke_all(cabinet.id)
        await tokens.void_outstanding(cabinet.id)
        await audit.record(cabinet.id, SecurityEventKind.LOGOUT_EVERYWHERE, client, "deletion")
        await notify(
            cabinet,
            "cabinet_deletion_requested",
            erases_on=_local_date(row.erases_at, cabinet.language),
            grace_days=grace.days,
        )
    return _pending(row)


async def cancel(cabinet: Cabinet) -> None:
    """cancelCabinetDeletion, from a session of the cabinet (a login after the request)."""
    async with in_transaction():
        kept = await CabinetDeletion.filter(
            cabinet_id=cabinet.id, state=DeletionState.PENDING
        ).update(state=DeletionState.CANCELED, done_at=now())
        if kept == 0:  # none, or the job erased it this very moment
            raise RuleError(PrivacyError.DELETION_NOT_REQUESTED)
        await notify(cabinet, "cabinet_deletion_canceled")


# ---------------------------------------------------------------- the erasure


async def erase_due(limit: int = 20) -> int:
    """Erase the cabinets whose grace period has ended; returns how many.

    Each erasure is one transaction that starts by moving its request from PENDING to
    ERASED with a conditional UPDATE: of two processes (or a process and a cancel) only
    one changes the row, the other sees 0 rows and leaves it, so nothing is done twice
    and a cancel never races an erasure into a half-erased cabinet."""
    moment = now()
    due = (
        await CabinetDeletion.filter(state=DeletionState.PENDING, erases_at__lte=moment)
        .order_by("erases_at")
        .limit(limit)
        .values_list("id", "cabinet_id")
    )
    erased = 0
    for deletion_id, cabinet_id in due:
        async with in_transaction():
            claimed = await CabinetDeletion.filter(
                id=deletion_id, state=DeletionState.PENDING, erases_at__lte=moment
            ).update(state=DeletionState.ERASED, done_at=moment)
            if claimed != 1:
                continue
            await _erase(cabinet_id, moment)
            erased += 1
    return erased


async def _erase(cabinet_id: int, moment: dt.datetime) -> None:
    cabinet = await Cabinet.filter(id=cabinet_id).select_for_update().get()
    address = cabinet.email
    # The last message to the address, queued before its traces go (it is still PENDING
    # below, so it keeps its recipient until the worker has sent it).
    await notify(cabinet, "cabinet_erased")
    devices = await PushDevice.filter(cabinet_id=cabinet_id).values_list("id", flat=True)
    await PushMessage.filter(device_id__in=list(devices)).delete()
    await PushDevice.filter(id__in=list(devices)).delete()
    await NotificationOptOut.filter(cabinet_id=cabinet_id).delete()
    await Session.filter(cabinet_id=cabinet_id).delete()
    await EReceiptSubscription.filter(cabinet_id=cabinet_id).delete()
    await ActionToken.filter(cabinet_id=cabinet_id).delete()
    await CabinetAccount.filter(cabinet_id=cabinet_id).delete()
    await Attachment.filter(cabinet_id=cabinet_id).delete()  # their bytes go by cascade
    await DataExport.filter(cabinet_id=cabinet_id).delete()  # likewise the ZIPs
    await autopay.forget_cabinet(cabinet_id)
    questions = Question.filter(cabinet_id=cabinet_id)
    question_ids = await questions.values_list("id", flat=True)
    await QuestionMessage.filter(question_id__in=list(question_ids)).update(body="")
    await questions.update(subject="")
    await questions.exclude(status=QuestionStatus.CLOSED).update(
        status=QuestionStatus.CLOSED, closed_at=moment, updated_at=moment
    )
    await ProofAttempt.filter(cabinet_id=cabinet_id).update(cabinet_id=None)
    await ProofHold.filter(cabinet_id=cabinet_id).delete()  # addresses, IPs, a password hash
    # Attempt counters name the address in their keys (services.auth.rules).
    await RateCounter.filter(key__endswith=f":email:{address}").delete()
    tombstone = erased_email(cabinet_id)
    await OutboxMessage.filter(
        recipient=address, state__in=[MailState.SENT, MailState.FAILED]
    ).update(recipient=tombstone, content=b"")
    await Cabinet.filter(id=cabinet_id).update(
        email=tombstone,
        email_verified_at=None,
        password_hash="!",  # noqa: S106 - matches no password; the cabinet is closed
        display_name="",
        language="ru",  # the one preference a cabinet has: back to the default
        disabled_at=moment,
        updated_at=moment,
    )
