"""Resolvers of the electronic receipt's mutations: thin calls into services.ereceipts.rules."""

from __future__ import annotations

import strawberry

from resolvers.dataloaders import account_of_cabinet
from resolvers.errors import attempt
from schema import ereceipts as s
from schema.accounts import Account
from schema.context import Context
from schema.errors import MutationInput
from schema.relay import decode_id
from services.ereceipts import rules as ereceipts

Info = strawberry.Info[Context]


async def subscribe_e_receipt(
    info: Info, input: MutationInput[s.SubscribeEReceiptInput]
) -> s.SubscribeEReceiptPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    pk = decode_id("Account", input.account_id) or -1
    sent_to, errors = await attempt(
        ereceipts.subscribe(cabinet, pk, input.email), s.SubscribeEReceiptError, ctx.language
    )
    if errors:
        return s.SubscribeEReceiptPayload(user_errors=errors)
    account = await _account(cabinet.id, pk)
    return s.SubscribeEReceiptPayload(account=account, confirmation_sent_to=sent_to)


async def unsubscribe_e_receipt(
    info: Info, input: MutationInput[s.UnsubscribeEReceiptInput]
) -> s.UnsubscribeEReceiptPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    pk = decode_id("Account", input.account_id) or -1
    _, errors = await attempt(
        ereceipts.unsubscribe(cabinet, pk), s.UnsubscribeEReceiptError, ctx.language
    )
    if errors:
        return s.UnsubscribeEReceiptPayload(user_errors=errors)
    return s.UnsubscribeEReceiptPayload(account=await _account(cabinet.id, pk))


async def _account(cabinet_id: int, account_pk: int) -> Account | None:
    """The account as the payload returns it (its eReceipt resolves afresh)."""
    row = await account_of_cabinet(cabinet_id, account_pk)
    return Account.from_row(row) if row else None
