"""Subscriptions (schema/subscriptions.py): each watches one object of the viewer's and
hands it out at once and again after every change any server process makes to it
(services.core.live). Who may watch is decided as for the query of the same object: a
missing id and another cabinet's are refused alike, FORBIDDEN, with no data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import strawberry

from resolvers.context import Context, Forbidden
from resolvers.dataloaders import Loaders
from services.accounts.read_model import account_of_cabinet
from services.core import live
from services.core.ids import decode_id
from services.payments import rules as payments
from services.questions import read_model as questions

Info = strawberry.Info[Context]


async def _watch(
    info: Info, kind: str, pk: int | None, read: Callable[[int], Awaitable[Any]]
) -> AsyncIterator[Any]:
    if pk is None or (found := await read(pk)) is None:
        raise Forbidden()
    with live.broker.watch([(kind, pk)]) as watcher:
        yield found
        while True:
            await watcher.changed()
            # What the last answer loaded is stale now: the next reads from the database.
            info.context.loaders = Loaders(info.context.settings)
            found = await read(pk)
            if found is None:  # no longer the viewer's (the account was unlinked): done
                return
            yield found


async def online_payment_updated(info: Info, id: str) -> AsyncIterator[Any]:
    viewer = await info.context.require_viewer()

    async def read(pk: int) -> Any:
        return await payments.payment_of_cabinet(viewer.id, pk)

    async for payment in _watch(info, "payment", decode_id("OnlinePayment", id), read):
        yield payment


async def question_updated(info: Info, id: str) -> AsyncIterator[Any]:
    viewer = await info.context.require_viewer()

    async def read(pk: int) -> Any:
        return await questions.question_for(viewer, pk)

    async for row in _watch(info, "question", decode_id("Question", id), read):
        yield row


async def account_updated(info: Info, id: str) -> AsyncIterator[Any]:
    viewer = await info.context.require_viewer()

    async def read(pk: int) -> Any:
        return await account_of_cabinet(viewer.id, pk)

    async for row in _watch(info, "account", decode_id("Account", id), read):
        yield row
