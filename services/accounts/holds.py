"""Linking and registration proven with a payment that could have been planted
(proof.suspicious_payment) wait PROOF_HOLD_HOURS before the account joins the cabinet
(SECURITY.md 20). The cabinet exists at once (registration), but it shows none of the
account's data until the hold ends: nothing links them before. No address is warned: an
account in a cabinet is refused anyway (ALREADY_REGISTERED), so a held link or
registration is always of an account no cabinet holds, whose holder has no address with us.

At the end the hold job of any process links them, claiming each hold with a conditional
UPDATE (HELD -> DONE) in the linking transaction, so it happens once; the account taken
meanwhile (its owner registered with an older payment) ends the hold FAILED."""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from config import get_settings
from models.auth import HoldState, ProofHold, ProofPurpose, SecurityEventKind
from models.cabinets import Cabinet, CabinetAccount
from services.accounts.proof import Proven, suspicious_payment
from services.core.clock import now
from services.security import audit
from services.security.sessions import Client


async def needs_hold(proven: Proven) -> bool:
    """Whether a link or registration with this proof must wait (the account is free)."""
    suspicion = await suspicious_payment(
        proven.payment_id, holder_cabinet_id=None, at=proven.attempt.created_at
    )
    return suspicion is not None


async def hold(cabinet_id: int, purpose: ProofPurpose, proven: Proven, client: Client) -> ProofHold:
    """Write the held link (in the caller's transaction, for a registration)."""
    moment = now()
    held = await ProofHold.create(
        purpose=purpose,
        cabinet_id=cabinet_id,
        account_id=proven.account.id,
        attempt_id=proven.attempt.id,
        ip=client.ip[:64],
        user_agent=client.user_agent[:300],
        until=moment + dt.timedelta(hours=get_settings().proof_hold_hours),
        created_at=moment,
    )
    await audit.record(cabinet_id, SecurityEventKind.PROOF_HELD, client, proven.account.number)
    return held


async def complete_due(limit: int = 20) -> int:
    """Link the accounts whose hold ended; returns how many were linked."""
    moment = now()
    due = (
        await ProofHold.filter(
            state=HoldState.HELD,
            purpose__in=[ProofPurpose.LINK, ProofPurpose.REGISTER],
            until__lte=moment,
        )
        .order_by("until")
        .limit(limit)
        .values_list("id", flat=True)
    )
    linked = 0
    for hold_id in due:
        try:
            async with in_transaction():
                claimed = await ProofHold.filter(id=hold_id, state=HoldState.HELD).update(
                    state=HoldState.DONE, outcome="linked", done_at=moment
                )
                if claimed != 1:
                    continue
                held = await ProofHold.get(id=hold_id).prefetch_related("account")
                cabinet = await Cabinet.filter(id=held.cabinet_id).select_for_update().get()  # type: ignore[attr-defined]
                if cabinet.frozen_at is not None or cabinet.disabled_at is not None:
                    await ProofHold.filter(id=hold_id).update(
                        state=HoldState.FAILED, outcome="frozen"
                    )
                    continue
                if await CabinetAccount.exists(account_id=held.account.id):
                    await ProofHold.filter(id=hold_id).update(
                        state=HoldState.FAILED, outcome="already_registered"
                    )
                    continue
                await CabinetAccount.create(cabinet=cabinet, account=held.account)
                client = Client(ip=held.ip, user_agent=held.user_agent)
                await audit.record(
                    cabinet.id, SecurityEventKind.ACCOUNT_LINKED, client, held.account.number
                )
                linked += 1
        except IntegrityError:
            # The account was linked by a registration racing this one: the hold fails.
            await ProofHold.filter(id=hold_id, state=HoldState.HELD).update(
                state=HoldState.FAILED, outcome="already_registered", done_at=moment
            )
    return linked


async def held_until(cabinet_id: int, account_id: int) -> dt.datetime | None:
    held = await ProofHold.filter(
        cabinet_id=cabinet_id, account_id=account_id, state=HoldState.HELD
    ).first()
    return held.until if held else None
