"""Pages of growing lists, cut in SQL: the request (`PageArgs`), the per-owner window
query behind every list of the dashboard (`ListSpec`, `load_pages`, `load_counts`), the
opaque cursors, and the page a read model hands back (`Page`), which the API shows as a
Relay connection. No GraphQL here: a malformed cursor is a ValueError for the caller."""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from models import sql


@dataclass(frozen=True)
class PageArgs:
    """One connection request, without the account it applies to."""

    first: int
    after: tuple[Any, int] | None = None  # (sort value, id) of the last item seen
    start: Any = None  # inclusive lower bound of the sort column
    end: Any = None  # exclusive upper bound
    meter_id: int | None = None

    def filters(self) -> tuple[Any, Any, int | None]:
        return self.start, self.end, self.meter_id


def encode_cursor(value: dt.date | dt.datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{value.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: type) -> tuple[Any, int]:
    """(sort value, id) of a cursor; ValueError for anything that is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, _, pk = raw.rpartition("|")
        parsed = (
            dt.datetime.fromisoformat(value)
            if kind is dt.datetime
            else dt.date.fromisoformat(value)
        )
        return parsed, int(pk)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a cursor") from None


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows (newest first), whether more follow or precede, and
    the total of the whole list, computed only when asked for (`count()` may return an
    awaitable)."""

    rows: list[dict[str, Any]]
    sort: str  # the rows' sort column, which cursors encode
    has_next: bool
    has_previous: bool
    count: Callable[[], int | Awaitable[int]]

    @classmethod
    def cut(
        cls,
        rows: list[dict[str, Any]],
        args: PageArgs,
        sort: str,
        count: Callable[[], int | Awaitable[int]],
    ) -> Page:
        """The page from up to `first + 1` rows (the extra one tells a next page exists)."""
        return cls(
            rows=rows[: args.first],
            sort=sort,
            has_next=len(rows) > args.first,
            has_previous=args.after is not None,
            count=count,
        )

    def cursor(self, index: int) -> str:
        """The cursor of the row at `index` (made only when a client asks for it)."""
        row = self.rows[index]
        return encode_cursor(row[self.sort], row["id"])


@dataclass(frozen=True)
class ListSpec:
    select: str
    source: str
    owner: str  # the column lists are cut by: an account, a question...
    sort: str
    convert: Callable[[dict[str, Any]], dict[str, Any]]


def _same(row: dict[str, Any]) -> Any:
    return row


async def rows_in_order(
    query: str, ids: Sequence[int], convert: Callable[[dict[str, Any]], Any] = _same
) -> list[Any]:
    """What a DataLoader by id answers: the rows of `query` (which ends in `IN` and selects
    an `id` column) for `ids`, converted, in the order of `ids`, None where no row has one."""
    rows = await sql.fetch(sql.connection(), f"{query} ({sql.marks(ids)})", list(ids))
    by_id = {row["id"]: convert(row) for row in rows}
    return [by_id.get(pk) for pk in ids]


def _where(spec: ListSpec, ids: Sequence[int], start: Any, end: Any, meter_id: int | None):
    clauses = [f"{spec.owner} IN ({sql.marks(ids)})"]
    params: list[Any] = list(ids)
    if start is not None:
        clauses.append(f"{spec.sort} >= ?")
        params.append(start)
    if end is not None:
        clauses.append(f"{spec.sort} < ?")
        params.append(end)
    if meter_id is not None:
        clauses.append("t.meter_id = ?")
        params.append(meter_id)
    return clauses, params


CountKey = tuple[int, Any, Any, "int | None"]  # (owner, start, end, meter id): `load_counts`


async def load_pages(
    spec: ListSpec,
    keys: Sequence[tuple[int, PageArgs]],
    totals: Callable[[CountKey, int], Any] | None = None,
) -> list[list[dict[str, Any]]]:
    """Up to `first + 1` rows per (owner, args) key, newest first (the extra row tells
    whether another page follows). One query per distinct args, whatever the owners.
    Pages are cut per owner with a window function (`ROW_NUMBER() OVER (PARTITION BY
    owner ...)`), never by slicing a loaded history.

    The same query counts each owner's whole list (`COUNT(*) OVER` the same partition,
    which the numbering scans anyway): for a first page (no `after`, whose rows the
    count must not leave out) `totals(count key, n)` is told what `load_counts` would
    answer for it, so a page and its `totalCount` cost one query, not two."""
    groups: dict[PageArgs, list[int]] = defaultdict(list)
    for owner_id, args in keys:
        groups[args].append(owner_id)
    found: dict[tuple[int, PageArgs], list[dict[str, Any]]] = {}
    conn = sql.connection()
    for args, ids in groups.items():
        clauses, params = _where(spec, ids, *args.filters())
        if args.after is not None:
            clauses.append(f"({spec.sort}, t.id) < (?, ?)")
            params.extend(args.after)
        query = (
            f"SELECT * FROM (SELECT {spec.select}, ROW_NUMBER() OVER ("  # noqa: S608
            f"PARTITION BY {spec.owner} ORDER BY {spec.sort} DESC, t.id DESC) AS rn, "
            f"COUNT(*) OVER (PARTITION BY {spec.owner}) AS total "
            f"FROM {spec.source} WHERE {' AND '.join(clauses)}) q "
            f"WHERE rn <= ? ORDER BY owner_id, rn"
        )
        counted: dict[int, int] = {}
        by_owner: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in await sql.fetch(conn, query, [*params, args.first + 1]):
            counted[row["owner_id"]] = row["total"]
            by_owner[row["owner_id"]].append(spec.convert(row))
        for owner_id in ids:  # by owner first: a key's hash hashes all of its PageArgs
            found[(owner_id, args)] = by_owner.get(owner_id, [])
        if totals is not None and args.after is None:
            for owner_id in ids:
                totals((owner_id, *args.filters()), int(counted.get(owner_id, 0)))
    return [found[key] for key in keys]


async def rows_by_id(spec: ListSpec, ids: Sequence[int]) -> list[dict[str, Any] | None]:
    """Rows of a list by their own ids, whoever owns them (each row's `owner_id` says who:
    the caller checks it). For `node(id:)`, which reaches items without their list."""
    query = f"SELECT {spec.select} FROM {spec.source} WHERE t.id IN"  # noqa: S608
    return await rows_in_order(query, ids, spec.convert)


async def load_counts(spec: ListSpec, keys: Sequence[CountKey]) -> list[int]:
    """The whole list's length per (owner, start, end, meter id) key."""
    groups: dict[tuple[Any, Any, int | None], list[int]] = defaultdict(list)
    for owner_id, *filters in keys:
        groups[tuple(filters)].append(owner_id)  # type: ignore[arg-type]
    counts: dict[tuple, int] = {}
    conn = sql.connection()
    for filters, ids in groups.items():
        clauses, params = _where(spec, ids, *filters)
        query = (
            f"SELECT {spec.owner} AS owner_id, count(*) AS n FROM {spec.source} "  # noqa: S608
            f"WHERE {' AND '.join(clauses)} GROUP BY {spec.owner}"
        )
        for row in await sql.fetch(conn, query, params):
            counts[(row["owner_id"], *filters)] = row["n"]
    return [counts.get(tuple(key), 0) for key in keys]


async def count(query: str, params: list[Any]) -> int:
    """The `n` of a `SELECT count(*) AS n ...` query."""
    row = await sql.fetch_one(sql.connection(), query, params)
    return int(row["n"]) if row else 0
