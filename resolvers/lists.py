"""The per-account lists (readings, payments, receipts) and the dashboard's look-ahead.

A list field resolves synchronously when its rows are already in the request's
DataLoader cache, and asynchronously otherwise. `warm_accounts` fills that cache for
every account of `me.accounts` at once, from the query's own selection, before the
accounts are returned: the dashboard's lists then cost one query each and no per-field
awaiting. When the look-ahead cannot read a selection (directives, unusual arguments),
fields simply take the asynchronous path: same keys, same loaders, same answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode
from strawberry.types.nodes import convert_value

from config import Settings
from models import sql
from resolvers import paging
from resolvers.context import Context
from resolvers.dataloaders import Loaders
from services.core.ids import decode_id
from services.core.paging import Page, PageArgs
from services.readings import read_model as readings

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ListKind:
    loader: str  # attribute of Loaders loading pages
    counts: str  # attribute of Loaders loading totals
    sort: str  # the row's sort column, which cursors encode
    sort_type: type
    bounds: Callable[[Settings, dt.date | None, dt.date | None], tuple[Any, Any]]


KINDS = {
    "readings": ListKind(
        "readings",
        "reading_counts",
        "taken_on",
        dt.date,
        lambda _s, start, end: paging.date_bounds(start, end),
    ),
    "payments": ListKind(
        "payments",
        "payment_counts",
        "paid_at",
        dt.datetime,
        lambda settings, start, end: paging.day_bounds(start, end, settings.timezone),
    ),
    "receipts": ListKind(
        "receipts",
        "receipt_counts",
        "period",
        dt.date,
        lambda _s, start, end: paging.month_bounds(start, end),
    ),
}


def page_args(
    kind: str,
    settings: Settings,
    first: int,
    after: str | None,
    start: dt.date | None,
    end: dt.date | None,
    meter_id: str | None = None,
) -> PageArgs:
    meter_pk = None
    if meter_id is not None:
        meter_pk = decode_id("Meter", meter_id) or -1  # someone else's meter: an empty list
    spec = KINDS[kind]
    return paging.page_args(
        first, after, spec.bounds(settings, start, end), spec.sort_type, meter_id=meter_pk
    )


def when_ready(future: T | Awaitable[T], build: Callable[[T], R]) -> R | Awaitable[R]:
    """`build(result)` now if the loader has it already (or `future` is a plain value),
    else an awaitable of it."""
    if isinstance(future, asyncio.Future) and future.done():
        return build(future.result())
    if not inspect.isawaitable(future):
        return build(future)  # type: ignore[arg-type]

    async def later() -> R:
        return build(await future)  # type: ignore[misc]

    return later()


def page(loaders: Loaders, kind: str, account_pk: int, args: PageArgs) -> Awaitable[list[dict]]:
    return getattr(loaders, KINDS[kind].loader).load((account_pk, args))


def count(loaders: Loaders, kind: str, account_pk: int, args: PageArgs) -> Awaitable[int]:
    key = (account_pk, args.start, args.end, args.meter_id)
    return getattr(loaders, KINDS[kind].counts).load(key)


def account_page(
    info: strawberry.Info[Context],
    kind: str,
    account_pk: int,
    first: int,
    after: str | None,
    start: dt.date | None,
    end: dt.date | None,
    meter_id: str | None = None,
) -> Page | Awaitable[Page]:
    """A page of an account's readings, payments or receipts: at once when the look-ahead
    has loaded it (`warm_accounts`), else an awaitable of it."""
    loaders = info.context.loaders
    args = page_args(kind, info.context.settings, first, after, start, end, meter_id)
    return when_ready(
        page(loaders, kind, account_pk, args),
        lambda rows: Page.cut(
            rows,
            args,
            KINDS[kind].sort,
            lambda: when_ready(count(loaders, kind, account_pk, args), int),
        ),
    )


# ---------------------------------------------------------------- the look-ahead
# Read from graphql-core's own nodes of the document, not Strawberry's `selected_fields`,
# which converts the field's whole selection into objects on every request (~40 of them
# for the dashboard); the arguments' values come out as there (`convert_value`).


def _fields(selections: Iterable[Any], fragments: dict[str, Any]) -> list[FieldNode]:
    fields: list[FieldNode] = []
    for selection in selections:
        if isinstance(selection, FieldNode):
            fields.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            fields.extend(_fields(selection.selection_set.selections, fragments))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                fields.extend(_fields(fragment.selection_set.selections, fragments))
    return fields


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _args_of(kind: str, field: FieldNode, info: Any, settings: Settings) -> PageArgs | None:
    raw = {argument.name.value: convert_value(info, argument.value) for argument in field.arguments}
    try:
        return page_args(
            kind,
            settings,
            int(raw.get("first", 20)),
            raw.get("after"),
            _date(raw.get("from")),
            _date(raw.get("to")),
            raw.get("meterId"),
        )
    except Exception:
        return None


async def warm_accounts(
    info: strawberry.Info[Context], loaders: Loaders, settings: Settings, account_pks: list[int]
) -> None:
    """Load what the selection of the field being resolved (`me.accounts`) will ask of
    its accounts, for all of them at once."""
    raw = info._raw_info
    fragments = raw.fragments
    pending: list[Awaitable[Any]] = []
    meters: list[Awaitable[list[dict]]] = []
    last_readings = False
    selections = [s for node in raw.field_nodes for s in node.selection_set.selections]
    for field in _fields(selections, fragments):
        if field.directives:
            continue
        name = field.name.value
        below = field.selection_set.selections if field.selection_set else ()
        subfields = {f.name.value for f in _fields(below, fragments)}
        if name == "meters":
            meters = [loaders.meters_of_account.load(pk) for pk in account_pks]
            last_readings = last_readings or "lastReading" in subfields
        elif name in KINDS:
            args = _args_of(name, field, raw, settings)
            if args is None:
                continue
            pending += [page(loaders, name, pk, args) for pk in account_pks]
            if "totalCount" in subfields and args.after is not None:
                # a first page's query counts the list too (services/core/paging.py)
                pending += [count(loaders, name, pk, args) for pk in account_pks]
    if not pending and not meters:
        return
    # the meters' latest readings in the same round as the meters (by the accounts' ids),
    # and on SQLite all of the round's queries in one trip to the database
    with sql.together():
        latest = readings.last_readings_of_accounts(account_pks) if last_readings else _nothing()
        gathered = asyncio.gather(asyncio.gather(*meters), asyncio.gather(*pending), latest)
    meter_rows, _, found = await gathered
    for rows in meter_rows if last_readings else ():
        for meter in rows:
            loaders.last_reading_of_meter.prime(meter["id"], found.get(meter["id"]))


async def _nothing() -> dict[int, dict]:
    return {}
