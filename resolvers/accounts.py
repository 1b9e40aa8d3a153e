"""Resolvers of account queries and of linking accounts to the cabinet: thin calls into
services.accounts (rules and read model). They hand back account rows; the schema makes
them `Account`s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import Any

import strawberry

from models.accounts import Account
from resolvers import lists
from resolvers.context import Context
from services.accounts import linking
from services.accounts.read_model import account_of_cabinet
from services.core.ids import decode_id

Info = strawberry.Info[Context]
Row = dict[str, Any]


async def accounts(info: Info, cabinet_pk: int) -> list[Row]:
    """`me.accounts`, with the look-ahead: whatever the query asks of the accounts' lists
    is loaded for all of them at once before they are returned (resolvers/lists.py)."""
    ctx = info.context
    rows = await ctx.loaders.accounts_of_cabinet.load(cabinet_pk)
    await lists.warm_accounts(info, ctx.loaders, ctx.settings, [r["id"] for r in rows])
    return rows


async def account(info: Info, id: str) -> Row | None:
    """One of the viewer's accounts; None for a missing id and another's alike."""
    cabinet = await info.context.require_viewer()
    pk = decode_id("Account", id)
    return await account_of_cabinet(cabinet.id, pk) if pk is not None else None


async def own_account(info: Info, account_pk: int) -> Row | None:
    """The account if it is (still) the viewer's own."""
    viewer = await info.context.require_viewer()
    return await account_of_cabinet(viewer.id, account_pk)


def meters(info: Info, account_pk: int) -> Awaitable[list[Row]]:
    """An account's meters (loaded with every account's of the request at once)."""
    return info.context.loaders.meters_of_account.load(account_pk)


async def meter(info: Info, meter_pk: int) -> Row | None:
    """The meter of a reading, if its account is one the viewer may see (else None)."""
    row = await info.context.loaders.meter.load(meter_pk)
    if row is None or not await info.context.may_see_account(row["account_id"]):
        return None
    return row


async def link_account(info: Info, input: Any) -> tuple[Row | None, dt.datetime | None]:
    """`input`: a LinkAccountInput (account_number, payment_amount). The account linked,
    or none and when the held link will complete."""
    ctx = info.context
    cabinet = await ctx.require_viewer()
    linked = await linking.link_account(
        cabinet, input.account_number, input.payment_amount, ctx.client
    )
    if linked.hold_until is not None:
        return None, linked.hold_until
    return await account_of_cabinet(cabinet.id, linked.account.id), None


async def unlink_account(info: Info, input: Any) -> Account:
    """`input`: an UnlinkAccountInput (account_id). The account no longer linked."""
    ctx = info.context
    cabinet = await ctx.require_viewer()
    pk = decode_id("Account", input.account_id) or -1
    return await linking.unlink_account(cabinet, pk, ctx.client)
