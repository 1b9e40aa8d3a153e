"""Resolvers of `node(id:)` and `nodes(ids:)`: any object by its global id, if the viewer
reaches it through the fields that lead to it today, else None.

Who reaches what (the same rules as the fields, SECURITY.md 18):
- a customer: their cabinet (User), its sessions, security log and online payments; the
  accounts linked to it now, and their meters, readings, payments, receipts and e-receipt;
  their own questions with their messages and sent photos;
- a specialist: their own cabinet, sessions and log; every question, message, sent photo
  and specialist; every customer who asked (Customer); the accounts questions lead to (the
  account a question is about and every account of a cabinet that asked), with what hangs
  off them.

An id that is malformed, of an unknown kind, missing or someone else's is None alike.
Every object is loaded through the request's DataLoaders, so `nodes(ids:)` costs one query
per kind, whatever the number of ids."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry

from models.cabinets import Cabinet, Role
from resolvers.context import BadInput, Context
from services.core.ids import parse_id
from services.ereceipts.rules import EReceiptState
from services.security import sessions as session_rules
from services.staff import views as staff_views

Info = strawberry.Info[Context]

MAX_NODES = 100


@dataclass(frozen=True)
class Found:
    """An object the viewer may see: its kind (the id's) and what the schema builds it
    from (a row, a model, or a pair: see `_FETCHERS`)."""

    kind: str
    value: Any


class _Lookup:
    """One request's view of who may see what."""

    def __init__(self, info: Info, viewer: Cabinet) -> None:
        self.ctx = info.context
        self.loaders = info.context.loaders
        self.viewer = viewer
        self.staff = viewer.role == Role.STAFF
        self._sessions: asyncio.Future[list[Any]] | None = None

    async def reaches_account(self, account_pk: int | None) -> bool:
        if account_pk is None:
            return False
        if self.staff:
            return bool(await self.loaders.nodes.staff_reach.load(account_pk))
        own = await self.loaders.accounts_of_cabinet.load(self.viewer.id)
        return any(row["id"] == account_pk for row in own)

    async def reaches_question(self, question_pk: int | None) -> bool:
        return question_pk is not None and await self.question(question_pk) is not None

    async def account(self, pk: int) -> Any:
        if self.staff:
            if not await self.reaches_account(pk):
                return None
            return await self.loaders.questions.account.load(pk)
        own = await self.loaders.accounts_of_cabinet.load(self.viewer.id)
        return next((row for row in own if row["id"] == pk), None)

    async def e_receipt(self, account_pk: int) -> Any:
        if not await self.reaches_account(account_pk):
            return None
        row = await self.loaders.ereceipt_of_account.load(account_pk)
        return account_pk, EReceiptState.of_row(row)

    async def _of_account(self, loader: Any, pk: int, owner: str = "owner_id") -> Any:
        row = await loader.load(pk)
        return row if row is not None and await self.reaches_account(row[owner]) else None

    async def meter(self, pk: int) -> Any:
        return await self._of_account(self.loaders.meter, pk, owner="account_id")

    async def reading(self, pk: int) -> Any:
        return await self._of_account(self.loaders.nodes.reading, pk)

    async def payment(self, pk: int) -> Any:
        return await self._of_account(self.loaders.nodes.payment, pk)

    async def receipt(self, pk: int) -> Any:
        return await self._of_account(self.loaders.nodes.receipt, pk)

    async def question(self, pk: int) -> Any:
        row = await self.loaders.nodes.question.load(pk)
        if row is None or not (self.staff or row["cabinet_id"] == self.viewer.id):
            return None
        return row

    async def message(self, pk: int) -> Any:
        row = await self.loaders.nodes.message.load(pk)
        return row if row is not None and await self.reaches_question(row["owner_id"]) else None

    async def attachment(self, pk: int) -> Any:
        row = await self.loaders.nodes.attachment.load(pk)
        return row if row is not None and await self.reaches_question(row["question_id"]) else None

    async def specialist(self, pk: int) -> Any:
        if not self.staff:
            return None  # customers see a specialist's display name on messages, nothing more
        row = await self.loaders.questions.cabinet.load(pk)
        return row if row is not None and row["role"] == Role.STAFF.value else None

    async def customer(self, pk: int) -> Any:
        if not self.staff or not await self.loaders.nodes.asked.load(pk):
            return None  # specialists meet customers through their questions only
        return await self.loaders.questions.cabinet.load(pk)

    async def user(self, pk: int) -> Any:
        return self.viewer if pk == self.viewer.id else None

    async def session(self, pk: int) -> Any:
        if self._sessions is None:  # once per request, however many session ids
            self._sessions = asyncio.ensure_future(session_rules.active(self.viewer.id))
        current = await self.ctx.session()
        for session in await self._sessions:
            if session.id == pk:
                return session, current is not None and session.id == current.id
        return None

    async def security_event(self, pk: int) -> Any:
        row = await self.loaders.nodes.security_event.load(pk)
        return row if row is not None and row["cabinet_id"] == self.viewer.id else None

    async def online_payment(self, pk: int) -> Any:
        payment = await self.loaders.nodes.online_payment.load(pk)
        return payment if payment is not None and payment.cabinet_id == self.viewer.id else None


# The kinds of global ids (services/core/ids.py) and how each is found.
_FETCHERS: dict[str, Callable[[_Lookup, int], Awaitable[Any]]] = {
    "Account": _Lookup.account,
    "EReceipt": _Lookup.e_receipt,
    "Meter": _Lookup.meter,
    "MeterReading": _Lookup.reading,
    "Payment": _Lookup.payment,
    "Receipt": _Lookup.receipt,
    "Question": _Lookup.question,
    "Message": _Lookup.message,
    "Attachment": _Lookup.attachment,
    "Specialist": _Lookup.specialist,
    "Customer": _Lookup.customer,
    "User": _Lookup.user,
    "Session": _Lookup.session,
    "SecurityEvent": _Lookup.security_event,
    "OnlinePayment": _Lookup.online_payment,
}
KINDS = frozenset(_FETCHERS)


async def _find(lookup: _Lookup, id: str) -> Found | None:
    parsed = parse_id(id)
    if parsed is None or parsed[0] not in _FETCHERS:
        return None
    kind, pk = parsed
    value = await _FETCHERS[kind](lookup, pk)
    return Found(kind, value) if value is not None else None


# What a found object of the customers' data belongs to: (cabinet id, account id).
_OWNERS: dict[str, Callable[[Any], tuple[int | None, int | None]]] = {
    "Customer": lambda row: (row["id"], None),
    "Account": lambda row: (None, row["id"]),
    "Meter": lambda row: (None, row["account_id"]),
    "MeterReading": lambda row: (None, row["owner_id"]),
    "Payment": lambda row: (None, row["owner_id"]),
    "Receipt": lambda row: (None, row["owner_id"]),
    "EReceipt": lambda value: (None, value[0]),
}


async def _staff_views(viewer: Cabinet, found: list[Found | None]) -> None:
    """A specialist who fetched customers' data by id is recorded as through a question's
    fields (services.staff.views): the customer sees it in their security log."""
    if viewer.role != Role.STAFF:
        return
    owners = [_OWNERS[f.kind](f.value) for f in found if f is not None and f.kind in _OWNERS]
    await staff_views.record_reached(
        viewer, [c for c, _ in owners if c is not None], [a for _, a in owners if a is not None]
    )


async def node(info: Info, id: str, kind: str | None = None) -> Found | None:
    """The object behind `id` if the viewer reaches it (and it is of `kind`, when given)."""
    viewer = await info.context.require_viewer()
    found = await _find(_Lookup(info, viewer), id)
    found = found if found is not None and kind in (None, found.kind) else None
    await _staff_views(viewer, [found])
    return found


async def nodes(info: Info, ids: list[str]) -> list[Found | None]:
    """`node` for each id, in order; more than MAX_NODES is a BAD_USER_INPUT error."""
    if len(ids) > MAX_NODES:
        raise BadInput(f"`ids` may hold at most {MAX_NODES} ids.")
    viewer = await info.context.require_viewer()
    lookup = _Lookup(info, viewer)
    found = list(await asyncio.gather(*(_find(lookup, id) for id in ids)))
    await _staff_views(viewer, found)
    return found
