"""The accounts a cabinet manages: linking another one with a proof, unlinking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import Account
from models.auth import ProofPurpose, SecurityEventKind
from models.cabinets import Cabinet, CabinetAccount
from services.accounts import holds, proof
from services.accounts.errors import AccountError
from services.core.errors import CoreError, RuleError
from services.ereceipts import rules as ereceipts
from services.security import audit
from services.security.sessions import Client


@dataclass(frozen=True)
class Linked:
    account: Account
    hold_until: dt.datetime | None = None  # held (holds.py): not in the cabinet before


async def link_account(
    cabinet: Cabinet, account_number: str, payment_amount: str, client: Client
) -> Linked:
    number, amount = proof.read_proof(account_number, payment_amount)
    proven = await proof.prove(
        number, amount, purpose=ProofPurpose.LINK, client=client, cabinet_id=cabinet.id
    )
    holder = await CabinetAccount.filter(account_id=proven.account.id).first()
    if holder is not None:
        if holder.cabinet_id == cabinet.id:  # type: ignore[attr-defined]
            raise RuleError(AccountError.ALREADY_LINKED, "accountNumber")
        raise RuleError(CoreError.ALREADY_REGISTERED, "accountNumber")
    if await holds.needs_hold(proven):
        held = await holds.hold(cabinet.id, ProofPurpose.LINK, proven, client)
        return Linked(proven.account, held.until)
    try:
        async with in_transaction():
            await CabinetAccount.create(cabinet=cabinet, account=proven.account)
            await audit.record(
                cabinet.id, SecurityEventKind.ACCOUNT_LINKED, client, proven.account.number
            )
    except IntegrityError:
        raise RuleError(CoreError.ALREADY_REGISTERED, "accountNumber") from None
    return Linked(proven.account)


async def unlink_account(cabinet: Cabinet, account_id: int, client: Client) -> Account:
    async with in_transaction():
        # Lock the cabinet so two unlinks at once cannot leave it with no account.
        await Cabinet.filter(id=cabinet.id).select_for_update().get()
        link = (
            await CabinetAccount.filter(cabinet_id=cabinet.id, account_id=account_id)
            .prefetch_related("account")
            .first()
        )
        if link is None:
            raise RuleError(CoreError.NOT_FOUND, "accountId")
        if await CabinetAccount.filter(cabinet_id=cabinet.id).count() <= 1:
            raise RuleError(AccountError.LAST_ACCOUNT, "accountId")
        await link.delete()
        # Bills of an account the cabinet no longer holds must not reach its addresses.
        await ereceipts.end_for_account(account_id)
        await audit.record(
            cabinet.id, SecurityEventKind.ACCOUNT_UNLINKED, client, link.account.number
        )
    return link.account


async def unlink_all_but(cabinet_id: int, kept_account_id: int, client: Client) -> list[str]:
    """Unlink every account of the cabinet except `kept_account_id`, in the caller's
    transaction (a recovery: the recoverer proved one account, not the others). Returns
    the numbers unlinked."""
    links = (
        await CabinetAccount.filter(cabinet_id=cabinet_id)
        .exclude(account_id=kept_account_id)
        .prefetch_related("account")
    )
    for link in links:
        await link.delete()
        await ereceipts.end_for_account(link.account.id)
        await audit.record(
            cabinet_id, SecurityEventKind.ACCOUNT_UNLINKED, client, link.account.number
        )
    return [link.account.number for link in links]
