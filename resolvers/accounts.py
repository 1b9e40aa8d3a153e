"""Resolvers of account queries and of linking accounts to the cabinet."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.dataloaders import account_of_cabinet
from resolvers.errors import attempt
from schema import auth as s
from schema.accounts import Account
from schema.context import Context
from schema.errors import MutationInput
from schema.relay import decode_id
from services.accounts import linking

Info = strawberry.Info[Context]


async def account(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="Id of the account.")],
) -> Account | None:
    """One of the viewer's accounts; null for a missing id and another's alike."""
    cabinet = await info.context.require_viewer()
    pk = decode_id("Account", id)
    row = await account_of_cabinet(cabinet.id, pk) if pk is not None else None
    return Account.from_row(row) if row else None


async def link_account(
    info: Info, input: MutationInput[s.LinkAccountInput]
) -> s.LinkAccountPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    linked, errors = await attempt(
        linking.link_account(cabinet, input.account_number, input.payment_amount, ctx.client),
        s.LinkAccountError,
        ctx.language,
    )
    row = await account_of_cabinet(cabinet.id, linked.id) if linked else None
    return s.LinkAccountPayload(account=Account.from_row(row) if row else None, user_errors=errors)


async def unlink_account(
    info: Info, input: MutationInput[s.UnlinkAccountInput]
) -> s.UnlinkAccountPayload:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    pk = decode_id("Account", input.account_id) or -1
    unlinked, errors = await attempt(
        linking.unlink_account(cabinet, pk, ctx.client), s.UnlinkAccountError, ctx.language
    )
    return s.UnlinkAccountPayload(
        unlinked_account_id=input.account_id if unlinked else None, user_errors=errors
    )
