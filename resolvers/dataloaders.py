"""DataLoaders, created per request: every list and relation of the dashboard is loaded
for all the viewer's accounts at once, so the number of SQL queries does not grow with
the number of accounts. Pages are cut in SQL, per account, with a window function
(`ROW_NUMBER() OVER (PARTITION BY account ...)`), never by slicing a loaded history.
Rows come back as plain dicts with typed values; no ORM objects are built."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from config import Settings
from models import sql
from services.core.clock import now
from services.core.timeutil import company_tz
from services.receipts import consumption

if TYPE_CHECKING:
    from resolvers.question_data import QuestionLoaders


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


@dataclass(frozen=True)
class ListSpec:
    select: str
    source: str
    owner: str  # the column lists are cut by: an account, a question...
    sort: str
    convert: Callable[[dict[str, Any]], dict[str, Any]]


def _payment(row: dict[str, Any]) -> dict[str, Any]:
    row["amount"] = sql.as_decimal(row["amount"])
    row["paid_at"] = sql.as_datetime(row["paid_at"])
    return row


def _reading(row: dict[str, Any]) -> dict[str, Any]:
    for column in ("t1", "t2", "t3"):
        row[column] = sql.as_decimal(row[column])
    row["taken_on"] = sql.as_date(row["taken_on"])
    return row


def _receipt(row: dict[str, Any]) -> dict[str, Any]:
    for column in ("opening_balance", "charged", "paid", "amount_due"):
        row[column] = sql.as_decimal(row[column])
    for column in ("period", "issued_on", "due_on"):
        row[column] = sql.as_date(row[column])
    lines = row["lines"]
    row["lines"] = json.loads(lines) if isinstance(lines, str | bytes) else (lines or [])
    return row


def account_row(row: dict[str, Any]) -> dict[str, Any]:
    row["balance"] = sql.as_decimal(row["balance"])
    row["balance_on"] = sql.as_date(row["balance_on"])
    return row


def _meter(row: dict[str, Any]) -> dict[str, Any]:
    for column in ("installed_on", "verified_on", "next_verification_on"):
        row[column] = sql.as_date(row[column])
    return row


PAYMENTS = ListSpec(
    select="t.id, t.account_id AS owner_id, t.amount, t.paid_at, t.channel",
    source="payment t",
    owner="t.account_id",
    sort="t.paid_at",
    convert=_payment,
)
READINGS = ListSpec(
    select="t.id, m.account_id AS owner_id, t.meter_id, m.zones, t.taken_on, t.t1, t.t2, "
    "t.t3, t.source, t.status",
    source="meter_reading t JOIN meter m ON m.id = t.meter_id",
    owner="m.account_id",
    sort="t.taken_on",
    convert=_reading,
)
RECEIPTS = ListSpec(
    select="t.id, t.account_id AS owner_id, t.period, t.issued_on, t.due_on, "
    "t.opening_balance, t.charged, t.paid, t.amount_due, t.lines",
    source="receipt t",
    owner="t.account_id",
    sort="t.period",
    convert=_receipt,
)
ACCOUNT_COLUMNS = "a.id, a.number, a.holder_name, a.address, a.tariff, a.balance, a.balance_on"
METER_COLUMNS = (
    "id, account_id, serial, model, zones, digits, installed_on, verified_on, next_verification_on"
)


def _where(spec: ListSpec, ids: Sequence[int], start: Any, end: Any, meter_id: int | None):
    clauses = [f"{spec.owner} IN ({', '.join('?' for _ in ids)})"]
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


async def load_pages(
    spec: ListSpec, keys: Sequence[tuple[int, PageArgs]]
) -> list[list[dict[str, Any]]]:
    """Up to `first + 1` rows per (owner, args) key, newest first (the extra row tells
    whether another page follows). One query per distinct args, whatever the owners."""
    groups: dict[PageArgs, list[int]] = defaultdict(list)
    for owner_id, args in keys:
        groups[args].append(owner_id)
    found: dict[tuple[int, PageArgs], list[dict[str, Any]]] = defaultdict(list)
    conn = sql.connection()
    for args, ids in groups.items():
        clauses, params = _where(spec, ids, *args.filters())
        if args.after is not None:
            clauses.append(f"({spec.sort}, t.id) < (?, ?)")
            params.extend(args.after)
        query = (
            f"SELECT * FROM (SELECT {spec.select}, ROW_NUMBER() OVER ("  # noqa: S608
            f"PARTITION BY {spec.owner} ORDER BY {spec.sort} DESC, t.id DESC) AS rn "
            f"FROM {spec.source} WHERE {' AND '.join(clauses)}) q "
            f"WHERE rn <= ? ORDER BY owner_id, rn"
        )
        for row in await sql.fetch(conn, query, [*params, args.first + 1]):
            found[(row["owner_id"], args)].append(spec.convert(row))
    return [found[key] for key in keys]


async def load_counts(
    spec: ListSpec, keys: Sequence[tuple[int, Any, Any, int | None]]
) -> list[int]:
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


class Loaders:
    """The request's loaders. Keys of list loaders are (account id, PageArgs)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.accounts_of_cabinet = DataLoader(load_fn=self._accounts_of_cabinet)
        self.meters_of_account = DataLoader(load_fn=self._meters_of_account)
        self.meter = DataLoader(load_fn=self._meters_by_id)
        self.last_reading_of_meter = DataLoader(load_fn=self._last_reading_of_meter)
        self.payments = DataLoader(load_fn=lambda keys: load_pages(PAYMENTS, keys))
        self.readings = DataLoader(load_fn=lambda keys: load_pages(READINGS, keys))
        self.receipts = DataLoader(load_fn=lambda keys: load_pages(RECEIPTS, keys))
        self.payment_counts = DataLoader(load_fn=lambda keys: load_counts(PAYMENTS, keys))
        self.reading_counts = DataLoader(load_fn=lambda keys: load_counts(READINGS, keys))
        self.receipt_counts = DataLoader(load_fn=lambda keys: load_counts(RECEIPTS, keys))
        self.ereceipt_of_account = DataLoader(load_fn=self._ereceipts_of_accounts)
        self.consumption = DataLoader(load_fn=self._consumption)

    @cached_property
    def questions(self) -> QuestionLoaders:
        """Loaders of questions' messages, photos and people, made on first use."""
        from resolvers.question_data import QuestionLoaders

        return QuestionLoaders()

    async def _accounts_of_cabinet(self, cabinet_ids: Sequence[int]) -> list[list[dict]]:
        marks = ", ".join("?" for _ in cabinet_ids)
        rows = await sql.fetch(
            sql.connection(),
            f"SELECT ca.cabinet_id, {ACCOUNT_COLUMNS} FROM cabinet_account ca "  # noqa: S608
            f"JOIN account a ON a.id = ca.account_id WHERE ca.cabinet_id IN ({marks}) "
            "ORDER BY ca.linked_at, a.id",
            list(cabinet_ids),
        )
        by_cabinet: dict[int, list[dict]] = defaultdict(list)
        for row in rows:
            by_cabinet[row.pop("cabinet_id")].append(account_row(row))
        return [by_cabinet[c] for c in cabinet_ids]

    async def _meters_of_account(self, account_ids: Sequence[int]) -> list[list[dict]]:
        marks = ", ".join("?" for _ in account_ids)
        rows = await sql.fetch(
            sql.connection(),
            f"SELECT {METER_COLUMNS} FROM meter WHERE account_id IN ({marks}) ORDER BY id",  # noqa: S608
            list(account_ids),
        )
        by_account: dict[int, list[dict]] = defaultdict(list)
        for row in rows:
            by_account[row["account_id"]].append(_meter(row))
        return [by_account[a] for a in account_ids]

    async def _meters_by_id(self, meter_ids: Sequence[int]) -> list[dict | None]:
        marks = ", ".join("?" for _ in meter_ids)
        rows = await sql.fetch(
            sql.connection(),
            f"SELECT {METER_COLUMNS} FROM meter WHERE id IN ({marks})",  # noqa: S608
            list(meter_ids),
        )
        by_id = {row["id"]: _meter(row) for row in rows}
        return [by_id.get(m) for m in meter_ids]

    async def _last_reading_of_meter(self, meter_ids: Sequence[int]) -> list[dict | None]:
        marks = ", ".join("?" for _ in meter_ids)
        rows = await sql.fetch(
            sql.connection(),
            "SELECT * FROM (SELECT t.id, t.meter_id, t.taken_on, t.t1, t.t2, t.t3, t.source, "  # noqa: S608
            "t.status, ROW_NUMBER() OVER (PARTITION BY t.meter_id ORDER BY t.taken_on DESC, "
            f"t.id DESC) AS rn FROM meter_reading t WHERE t.meter_id IN ({marks}) "
            "AND t.status IN ('accepted', 'review')) q WHERE rn = 1",
            list(meter_ids),
        )
        by_meter = {row["meter_id"]: _reading(row) for row in rows}
        return [by_meter.get(m) for m in meter_ids]

    async def _ereceipts_of_accounts(self, account_ids: Sequence[int]) -> list[dict | None]:
        """The subscription row of each account (None: none), with the cabinet's address."""
        marks = ", ".join("?" for _ in account_ids)
        rows = await sql.fetch(
            sql.connection(),
            "SELECT s.account_id, s.email, s.since, s.pending_email, c.email AS cabinet_email "  # noqa: S608
            "FROM ereceipt_subscription s JOIN cabinet c ON c.id = s.cabinet_id "
            "JOIN cabinet_account ca ON ca.account_id = s.account_id "
            f"AND ca.cabinet_id = s.cabinet_id WHERE s.account_id IN ({marks})",
            list(account_ids),
        )
        by_account = {row["account_id"]: row for row in rows}
        return [by_account.get(a) for a in account_ids]

    async def _consumption(
        self, keys: Sequence[tuple[int, int]]
    ) -> list[list[consumption.MonthConsumption]]:
        """Keys are (account id, months): one computation per distinct `months`."""
        groups: dict[int, list[int]] = defaultdict(list)
        for account_id, months in keys:
            groups[months].append(account_id)
        today = now().astimezone(company_tz(self.settings.timezone)).date()
        found = {}
        for months, ids in groups.items():
            series = await consumption.consumption(ids, months, today)
            found.update({(a, months): months_of for a, months_of in series.items()})
        return [found[key] for key in keys]


async def account_of_cabinet(cabinet_id: int, account_id: int) -> dict[str, Any] | None:
    """The account if the cabinet holds it; None for missing and others' alike."""
    row = await sql.fetch_one(
        sql.connection(),
        f"SELECT {ACCOUNT_COLUMNS} FROM cabinet_account ca JOIN account a "  # noqa: S608
        "ON a.id = ca.account_id WHERE ca.cabinet_id = ? AND a.id = ?",
        [cabinet_id, account_id],
    )
    return account_row(row) if row else None
