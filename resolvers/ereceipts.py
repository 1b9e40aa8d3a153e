"""Resolvers of the electronic receipt's mutations: thin calls into services.ereceipts.
They hand back the account row (its eReceipt resolves afresh) and let RuleErrors through."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.context import Context
from services.accounts.read_model import account_of_cabinet
from services.core.ids import decode_id
from services.ereceipts import rules as ereceipts

Info = strawberry.Info[Context]
Row = dict[str, Any]


async def subscribe_e_receipt(info: Info, input: Any) -> tuple[str | None, Row | None]:
    """(the address a confirmation link went to, if any; the account)."""
    ctx = info.context
    cabinet = await ctx.require_viewer()
    pk = decode_id("Account", input.account_id) or -1
    sent_to = await ereceipts.subscribe(cabinet, pk, input.email)
    return sent_to, await account_of_cabinet(cabinet.id, pk)


async def unsubscribe_e_receipt(info: Info, input: Any) -> Row | None:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    pk = decode_id("Account", input.account_id) or -1
    await ereceipts.unsubscribe(cabinet, pk)
    return await account_of_cabinet(cabinet.id, pk)
