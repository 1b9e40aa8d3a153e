"""Import of the billing system's CSV exports: accounts, meters, readings, payments, receipts.

How a file goes in, all inside one transaction:
1. the CSV is streamed row by row; every field is parsed and checked in Python;
2. good rows are bulk-loaded, in batches, into a temporary staging table;
3. checks that need the database (unknown account, duplicate key in the file, a
   reading with the wrong zones for its meter...) run as SQL over the staging table;
4. one INSERT ... SELECT ... ON CONFLICT DO UPDATE merges the staging table into the
   real table, updating only rows whose values differ.
Any bad row aborts the whole file: the transaction rolls back and nothing is written.
Memory stays flat in the size of the file; natural keys make re-imports idempotent.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

from tortoise.transactions import in_transaction

from models import sql
from models.metering import ReadingSource, ReadingStatus
from services.billing import bills
from services.core import live
from services.core.money import AmountError, parse_amount
from services.core.timeutil import parse_date, parse_datetime, parse_period
from services.ereceipts import rules as ereceipts
from services.payments import recurring as autopay

BATCH_ROWS = 5_000
MAX_REPORTED_ERRORS = 20
METER_VALUE_QUANT = Decimal("0.001")


# ---------------------------------------------------------------- errors and results


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportFailed(Exception):
    """The file was rejected; nothing was written. `errors` name lines and reasons."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass
class ImportSummary:
    kind: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    new_ids: list[int] = field(default_factory=list)
    ereceipts_queued: int = 0  # new receipts of subscribed accounts, to be e-mailed
    autopay_queued: int = 0  # new receipts of accounts with autopay, to be charged
    bills_pushed: int = 0  # NEW_BILL pushes queued to the holders' devices

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        queued = f", {self.ereceipts_queued} e-receipt(s) queued" if self.ereceipts_queued else ""
        if self.autopay_queued:
            queued += f", {self.autopay_queued} autopay charge(s) queued"
        if self.bills_pushed:
            queued += f", {self.bills_pushed} push(es) queued"
        return (
            f"{self.kind}: {self.rows} rows, {self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged{queued} in {self.seconds:.1f} s ({rate:,.0f} rows/s)"
        )


# ---------------------------------------------------------------- field parsers


class FieldError(ValueError):
    pass


@dataclass(frozen=True)
class ParseContext:
    tz: dt.tzinfo


def _digits(raw: str, _ctx: ParseContext) -> str:
    value = raw.strip()
    if not value.isdigit() or not value.isascii():
        raise FieldError(f"{raw!r} must contain digits only")
    if len(value) > 20:
        raise FieldError(f"{raw!r} is longer than 20 digits")
    return value


def _text(max_length: int) -> Callable[[str, ParseContext], str]:
    def parse(raw: str, _ctx: ParseContext) -> str:
        value = " ".join(raw.split())
        if len(value) > max_length:
            raise FieldError(f"is longer than {max_length} characters")
        return value

    return parse


def _required_text(max_length: int) -> Callable[[str, ParseContext], str]:
    inner = _text(max_length)

    def parse(raw: str, ctx: ParseContext) -> str:
        value = inner(raw, ctx)
        if not value:
            raise FieldError("is empty")
        return value

    return parse


def _amount(allow_negative: bool, positive: bool = False) -> Callable[[str, ParseContext], Decimal]:
    def parse(raw: str, _ctx: ParseContext) -> Decimal:
        try:
            value = parse_amount(raw, allow_negative=allow_negative)
        except AmountError as exc:
            raise FieldError(str(exc)) from None
        if positive and value <= 0:
            raise FieldError(f"{raw!r} must be greater than zero")
        return value

    return parse


def _date(raw: str, _ctx: ParseContext) -> dt.date:
    try:
        return parse_date(raw)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def _datetime(raw: str, ctx: ParseContext) -> dt.datetime:
    try:
        return parse_datetime(raw, ctx.tz)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def _period(raw: str, _ctx: ParseContext) -> dt.date:
    try:
        return parse_period(raw)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def _int_range(low: int, high: int) -> Callable[[str, ParseContext], int]:
    def parse(raw: str, _ctx: ParseContext) -> int:
        value = raw.strip()
        if not value.isdigit() or not low <= int(value) <= high:
            raise FieldError(f"{raw!r} must be a whole number from {low} to {high}")
        return int(value)

    return parse


def _meter_value(raw: str, _ctx: ParseContext) -> Decimal:
    text = raw.strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FieldError(f"{raw!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise FieldError(f"{raw!r} must be a non-negative number")
    if value.as_tuple().exponent < -3:  # type: ignore[operator]
        raise FieldError(f"{raw!r} has more than three decimals")
    if value >= Decimal(10) ** 9:
        raise FieldError(f"{raw!r} is too large for a meter register")
    return value.quantize(METER_VALUE_QUANT)


def _choice(enum: type) -> Callable[[str, ParseContext], str]:
    allowed = {member.value for member in enum}

    def parse(raw: str, _ctx: ParseContext) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise FieldError(f"{raw!r} is not one of {', '.join(sorted(allowed))}")
        return value

    return parse


def _int_digits(value: Decimal | None) -> int:
    """Digits before the decimal point; 0 for values below 1."""
    if value is None:
        return 0
    whole = int(value)
    return len(str(whole)) if whole else 0


# ---------------------------------------------------------------- kinds of file


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str, ParseContext], Any]
    required: bool = True  # the header must have it
    may_be_empty: bool = False  # a row may leave it empty (always true of optional columns)


@dataclass(frozen=True)
class Check:
    """SQL over the staging table returning `line_no` and `detail` of offending rows."""

    sql: str
    message: str  # formatted with the row's `detail`


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    columns: tuple[Column, ...]
    stage: tuple[tuple[str, str], ...]  # (column, PostgreSQL type) of the staging table
    to_stage: Callable[[dict[str, Any]], tuple]
    key: tuple[str, ...]  # natural key within the staging table
    checks: tuple[Check, ...]
    existing: str  # FROM clause pairing staging rows (`s`) with the rows they would update
    merge_sql: Callable[[set[str]], str]  # given the optional columns present in the file
    new_rows_sql: str = ""  # ids of rows this import created (after the merge)
    # What every import of the kind does after its merge, in its transaction.
    after_merge: Callable[[ImportSummary], Awaitable[None]] | None = None

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _on_conflict_update(table: str, columns: list[str], *, stamp: bool = False) -> str:
    """Update the listed columns, and only when one of them really differs."""
    assignments = [f"{c} = excluded.{c}" for c in columns]
    if stamp:
        assignments.append("updated_at = excluded.updated_at")
    differs = " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in columns)
    return f"DO UPDATE SET {', '.join(assignments)} WHERE {differs}"


def _accounts_merge(present: set[str]) -> str:
    optional = [c for c in ("tariff", "balance", "balance_on") if c in present]
    insert_cols = ["number", "holder_name", "address", *optional]
    cols = ", ".join(insert_cols)
    select = ", ".join(f"s.{c}" for c in insert_cols)
    defaults = {"tariff": "''", "balance": "0", "balance_on": "NULL"}
    extra = [c for c in defaults if c not in optional]
    extra_cols = "".join(f", {c}" for c in extra)
    extra_vals = "".join(f", {defaults[c]}" for c in extra)
    update = _on_conflict_update("account", ["holder_name", "address", *optional], stamp=True)
    return (
        f"INSERT INTO account ({cols}{extra_cols}, created_at, updated_at) "  # noqa: S608
        f"SELECT {select}{extra_vals}, ?, ? FROM import_stage s WHERE true "
        f"ON CONFLICT (number) {update}"
    )


ACCOUNTS = Kind(
    name="accounts",
    table="account",
    columns=(
        Column("number", _digits),
        Column("holder_name", _required_text(255)),
        Column("address", _required_text(500)),
        Column("tariff", _text(128), required=False),
        Column("balance", _amount(allow_negative=True), required=False),
        Column("balance_on", _date, required=False),
    ),
    stage=(
        ("number", "text"),
        ("holder_name", "text"),
        ("address", "text"),
        ("tariff", "text"),
        ("balance", "numeric(14,2)"),
        ("balance_on", "date"),
    ),
    to_stage=lambda r: (
        r["number"],
        r["holder_name"],
        r["address"],
        r.get("tariff") or "",
        r.get("balance") if r.get("balance") is not None else Decimal("0.00"),
        r.get("balance_on"),
    ),
    key=("number",),
    checks=(),
    existing="FROM import_stage s JOIN account a ON a.number = s.number",
    merge_sql=_accounts_merge,
)


def _meters_merge(present: set[str]) -> str:
    optional = [
        c for c in ("model", "installed_on", "verified_on", "next_verification_on") if c in present
    ]
    updated = ["account_id", "zones", "digits", *optional]
    cols = ", ".join(["serial", *updated])
    select = ", ".join(["s.serial", "a.id", "s.zones", "s.digits", *(f"s.{c}" for c in optional)])
    model_default = "" if "model" in optional else ", model"
    model_value = "" if "model" in optional else ", ''"
    return (
        f"INSERT INTO meter ({cols}{model_default}) "  # noqa: S608
        f"SELECT {select}{model_value} FROM import_stage s "
        f"JOIN account a ON a.number = s.account_number WHERE true "
        f"ON CONFLICT (serial) {_on_conflict_update('meter', updated)}"
    )


MISSING_ACCOUNT = Check(
    "SELECT s.line_no, s.account_number AS detail FROM import_stage s "
    "LEFT JOIN account a ON a.number = s.account_number WHERE a.id IS NULL",
    "account {detail} is not known; import accounts first",
)

MISSING_METER = Check(
    "SELECT s.line_no, s.serial AS detail FROM import_stage s "
    "LEFT JOIN meter m ON m.serial = s.serial WHERE m.id IS NULL",
    "meter {detail} is not known; import meters first",
)

METERS = Kind(
    name="meters",
    table="meter",
    columns=(
        Column("account_number", _digits),
        Column("serial", _required_text(32)),
        Column("zones", _int_range(1, 3)),
        Column("digits", _int_range(1, 9)),
        Column("model", _text(64), required=False),
        Column("installed_on", _date, required=False),
        Column("verified_on", _date, required=False),
        Column("next_verification_on", _date, required=False),
    ),
    stage=(
        ("account_number", "text"),
        ("serial", "text"),
        ("zones", "smallint"),
        ("digits", "smallint"),
        ("model", "text"),
        ("installed_on", "date"),
        ("verified_on", "date"),
        ("next_verification_on", "date"),
    ),
    to_stage=lambda r: (
        r["account_number"],
        r["serial"],
        r["zones"],
        r["digits"],
        r.get("model") or "",
        r.get("installed_on"),
        r.get("verified_on"),
        r.get("next_verification_on"),
    ),
    key=("serial",),
    checks=(MISSING_ACCOUNT,),
    existing="FROM import_stage s JOIN meter m ON m.serial = s.serial",
    merge_sql=_meters_merge,
)


def _readings_merge(present: set[str]) -> str:
    return (
        "INSERT INTO meter_reading (meter_id, taken_on, t1, t2, t3, source, status, created_at) "
        "SELECT m.id, s.taken_on, s.t1, s.t2, s.t3, s.source, s.status, ? "
        "FROM import_stage s JOIN meter m ON m.serial = s.serial WHERE true "
        "ON CONFLICT (meter_id, taken_on, source) "
        + _on_conflict_update("meter_reading", ["t1", "t2", "t3", "status"])
    )


def _reading_to_stage(r: dict[str, Any]) -> tuple:
    values = (r["t1"], r.get("t2"), r.get("t3"))
    zones_given = 1 + (values[1] is not None) + (values[2] is not None)
    if values[2] is not None and values[1] is None:
        raise FieldError("t3 is given without t2")
    return (
        r["serial"],
        r["taken_on"],
        *values,
        zones_given,
        max(_int_digits(v) for v in values),
        r.get("source") or ReadingSource.BILLING.value,
        r.get("status") or ReadingStatus.ACCEPTED.value,
    )


READINGS = Kind(
    name="readings",
    table="meter_reading",
    columns=(
        Column("serial", _required_text(32)),
        Column("taken_on", _date),
        Column("t1", _meter_value),
        Column("t2", _meter_value, may_be_empty=True),
        Column("t3", _meter_value, may_be_empty=True),
        Column("source", _choice(ReadingSource), required=False),
        Column("status", _choice(ReadingStatus), required=False),
    ),
    stage=(
        ("serial", "text"),
        ("taken_on", "date"),
        ("t1", "numeric(12,3)"),
        ("t2", "numeric(12,3)"),
        ("t3", "numeric(12,3)"),
        ("zones_given", "smallint"),
        ("int_digits", "smallint"),
        ("source", "text"),
        ("status", "text"),
    ),
    to_stage=_reading_to_stage,
    key=("serial", "taken_on", "source"),
    checks=(
        MISSING_METER,
        Check(
            "SELECT s.line_no, s.serial || ' has ' || m.zones || ' zone(s), the row gives ' "
            "|| s.zones_given AS detail FROM import_stage s JOIN meter m ON m.serial = s.serial "
            "WHERE m.zones <> s.zones_given",
            "meter {detail}: fill t1..tN for an N-zone meter and leave the rest empty",
        ),
        Check(
            "SELECT s.line_no, s.serial || ' has ' || m.digits || ' digits' AS detail "
            "FROM import_stage s JOIN meter m ON m.serial = s.serial "
            "WHERE s.int_digits > m.digits",
            "a value does not fit the register: meter {detail}",
        ),
    ),
    existing=(
        "FROM import_stage s JOIN meter m ON m.serial = s.serial "
        "JOIN meter_reading r ON r.meter_id = m.id AND r.taken_on = s.taken_on "
        "AND r.source = s.source"
    ),
    merge_sql=_readings_merge,
)


def _payments_merge(_present: set[str]) -> str:
    return (
        "INSERT INTO payment (account_id, amount, paid_at, channel, external_id, created_at) "
        "SELECT a.id, s.amount, s.paid_at, s.channel, s.external_id, ? "
        "FROM import_stage s JOIN account a ON a.number = s.account_number WHERE true "
        "ON CONFLICT (external_id) "
        + _on_conflict_update("payment", ["account_id", "amount", "paid_at", "channel"])
    )


PAYMENTS = Kind(
    name="payments",
    table="payment",
    columns=(
        Column("account_number", _digits),
        Column("paid_at", _datetime),
        Column("amount", _amount(allow_negative=False, positive=True)),
        Column("channel", _text(64)),
        Column("external_id", _required_text(64)),
    ),
    stage=(
        ("account_number", "text"),
        ("paid_at", "timestamptz"),
        ("amount", "numeric(14,2)"),
        ("channel", "text"),
        ("external_id", "text"),
    ),
    to_stage=lambda r: (
        r["account_number"],
        r["paid_at"],
        r["amount"],
        r["channel"],
        r["external_id"],
    ),
    key=("external_id",),
    checks=(MISSING_ACCOUNT,),
    existing="FROM import_stage s JOIN payment p ON p.external_id = s.external_id",
    merge_sql=_payments_merge,
)


ZONE_LINE_FIELDS = ("previous", "current", "consumption", "rate", "amount")


def _receipt_columns() -> tuple[Column, ...]:
    base = (
        Column("account_number", _digits),
        Column("period", _period),
        Column("issued_on", _date),
        Column("due_on", _date),
        Column("opening_balance", _amount(allow_negative=True)),
        Column("charged", _amount(allow_negative=True)),
        Column("paid", _amount(allow_negative=True)),
        Column("amount_due", _amount(allow_negative=True)),
    )
    parsers = {
        "previous": _meter_value,
        "current": _meter_value,
        "consumption": _meter_value,
        "rate": _amount(allow_negative=False),
        "amount": _amount(allow_negative=True),
    }
    lines = tuple(
        Column(f"t{zone}_{name}", parsers[name], required=False)
        for zone in (1, 2, 3)
        for name in ZONE_LINE_FIELDS
    )
    return base + lines


def _receipt_lines(r: dict[str, Any]) -> str:
    lines = []
    for zone in (1, 2, 3):
        values = {name: r.get(f"t{zone}_{name}") for name in ZONE_LINE_FIELDS}
        if all(v is None for v in values.values()):
            continue
        if values["consumption"] is None and None not in (values["previous"], values["current"]):
            if values["current"] < values["previous"]:
                raise FieldError(f"t{zone}_current is lower than t{zone}_previous")
            values["consumption"] = values["current"] - values["previous"]
        line = {"zone": zone} | {k: (str(v) if v is not None else None) for k, v in values.items()}
        lines.append(line)
    return json.dumps(lines, sort_keys=True, separators=(",", ":"))


def _receipt_to_stage(r: dict[str, Any]) -> tuple:
    if r["due_on"] < r["issued_on"]:
        raise FieldError("due_on is before issued_on")
    return (
        r["account_number"],
        r["period"],
        r["issued_on"],
        r["due_on"],
        r["opening_balance"],
        r["charged"],
        r["paid"],
        r["amount_due"],
        _receipt_lines(r),
    )


def _receipts_merge(_present: set[str]) -> str:
    cols = ["issued_on", "due_on", "opening_balance", "charged", "paid", "amount_due", "lines"]
    return (
        f"INSERT INTO receipt (account_id, period, {', '.join(cols)}, created_at) "  # noqa: S608
        f"SELECT a.id, s.period, {', '.join('s.' + c for c in cols)}, ? "
        "FROM import_stage s JOIN account a ON a.number = s.account_number WHERE true "
        "ON CONFLICT (account_id, period) " + _on_conflict_update("receipt", cols)
    )


async def _queue_ereceipts(summary: ImportSummary) -> None:
    """New receipts of accounts with the electronic receipt are queued for mailing, in
    the import's transaction: a rejected file queues nothing, a re-import nothing again
    (its receipts are not new). The bills are rendered later, outside the import."""
    summary.ereceipts_queued = await ereceipts.queue_new_receipts(summary.new_ids)
    # Likewise the bills of accounts with autopay, charged on the next day.
    summary.autopay_queued = await autopay.queue_new_bills(summary.new_ids)
    # And a push to each device of the accounts' holders.
    summary.bills_pushed = await bills.announce_new_bills(summary.new_ids)
    # And the subscribers of the accounts with a new bill (accountUpdated) read them again.
    if summary.new_ids:
        await live.publish_selected(
            "account",
            "SELECT DISTINCT a.id FROM import_stage s JOIN account a "
            "ON a.number = s.account_number WHERE s.existed = 0",
            [],
        )


RECEIPTS = Kind(
    name="receipts",
    table="receipt",
    columns=_receipt_columns(),
    stage=(
        ("account_number", "text"),
        ("period", "date"),
        ("issued_on", "date"),
        ("due_on", "date"),
        ("opening_balance", "numeric(14,2)"),
        ("charged", "numeric(14,2)"),
        ("paid", "numeric(14,2)"),
        ("amount_due", "numeric(14,2)"),
        ("lines", "jsonb"),
    ),
    to_stage=_receipt_to_stage,
    key=("account_number", "period"),
    checks=(MISSING_ACCOUNT,),
    existing=(
        "FROM import_stage s JOIN account a ON a.number = s.account_number "
        "JOIN receipt r ON r.account_id = a.id AND r.period = s.period"
    ),
    merge_sql=_receipts_merge,
    new_rows_sql=(
        "SELECT r.id FROM import_stage s JOIN account a ON a.number = s.account_number "
        "JOIN receipt r ON r.account_id = a.id AND r.period = s.period "
        "WHERE s.existed = 0 ORDER BY r.id"
    ),
    after_merge=_queue_ereceipts,
)

KINDS: dict[str, Kind] = {k.name: k for k in (ACCOUNTS, METERS, READINGS, PAYMENTS, RECEIPTS)}


# ---------------------------------------------------------------- reading the file


class NotUtf8(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class CsvRows:
    """Streams a UTF-8 CSV file (`;` or `,`), yielding (line number, fields, problem)."""

    def __init__(self, stream: BinaryIO, kind: Kind) -> None:
        self.stream = stream
        self.bytes_read = 0
        self.kind = kind
        self.lines = self._decoded_lines()
        try:
            header_line = next(self.lines, "")
        except NotUtf8:
            raise ImportFailed([RowError(1, "the file is not valid UTF-8 here")]) from None
        if not header_line.strip():
            raise ImportFailed([RowError(1, "the file is empty; expected a header row")])
        delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
        header = next(csv.reader([header_line], delimiter=delimiter))
        self.header = [h.strip().lower() for h in header]
        self._check_header()
        self.reader = csv.reader(self.lines, delimiter=delimiter, strict=True)
        self.present = set(self.header)

    def _decoded_lines(self) -> Iterator[str]:
        for number, raw in enumerate(self.stream, start=1):
            self.bytes_read += len(raw)
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                raise NotUtf8(number) from None

    def _check_header(self) -> None:
        known = {c.name for c in self.kind.columns}
        problems = []
        missing = [c for c in self.kind.required if c not in self.header]
        if missing:
            problems.append(f"missing required column(s): {', '.join(missing)}")
        unknown = [c for c in self.header if c not in known]
        if unknown:
            problems.append(
                f"unknown column(s): {', '.join(unknown)} "
                f"(a {self.kind.name} file has: {', '.join(c.name for c in self.kind.columns)})"
            )
        duplicated = sorted({c for c in self.header if self.header.count(c) > 1})
        if duplicated:
            problems.append(f"repeated column(s): {', '.join(duplicated)}")
        if problems:
            raise ImportFailed([RowError(1, "; ".join(problems))])

    def __iter__(self) -> Iterator[tuple[int, list[str] | None, str | None]]:
        """Yield (line, fields, None), or (line, None, problem) for an unreadable record."""
        width = len(self.header)
        while True:
            # The header line was read before the reader started counting.
            try:
                fields = next(self.reader)
            except StopIteration:
                return
            except NotUtf8 as exc:
                yield exc.line, None, "the file is not valid UTF-8 here"
                return
            except csv.Error as exc:
                yield self.reader.line_num + 1, None, f"malformed CSV: {exc}"
                return
            line = self.reader.line_num + 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) != width:
                yield line, None, f"expected {width} fields, found {len(fields)}"
                continue
            yield line, fields, None


def parse_record(
    parsers: list[tuple[str, Column]], fields: list[str], ctx: ParseContext
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for (name, column), raw in zip(parsers, fields, strict=True):
        if not raw or raw.isspace():
            if column.required and not column.may_be_empty:
                raise FieldError(f"{name} is empty")
            values[name] = None
            continue
        try:
            values[name] = column.parse(raw, ctx)
        except FieldError as exc:
            raise FieldError(f"{name}: {exc}") from None
    return values


# ---------------------------------------------------------------- the import


Progress = Callable[[int, int], None]  # (bytes read, rows read)


async def import_file(
    kind_name: str,
    path: Path | str,
    *,
    tz: dt.tzinfo,
    progress: Progress | None = None,
    after_merge: Callable[[ImportSummary], Any] | None = None,
) -> ImportSummary:
    """Import one CSV export. Raises ImportFailed (and writes nothing) on any bad row."""
    kind = KINDS.get(kind_name)
    if kind is None:
        raise ValueError(f"unknown kind {kind_name!r}; expected one of {', '.join(KINDS)}")
    # A blocking read is fine: imports run from the CLI, one file per process.
    with open(path, "rb") as stream:  # noqa: ASYNC230
        return await import_stream(kind, stream, tz=tz, progress=progress, after_merge=after_merge)


async def import_stream(
    kind: Kind,
    stream: BinaryIO,
    *,
    tz: dt.tzinfo,
    progress: Progress | None = None,
    after_merge: Callable[[ImportSummary], Any] | None = None,
) -> ImportSummary:
    started = time.perf_counter()
    rows = CsvRows(stream, kind)
    summary = ImportSummary(kind=kind.name)
    now = dt.datetime.now(dt.UTC)

    async with in_transaction() as conn:
        await _create_stage(conn, kind)
        summary.rows = await _stage(conn, kind, rows, ParseContext(tz=tz), progress)
        await _run_checks(conn, kind)
        existing = await _mark_existing(conn, kind)
        merge = kind.merge_sql(rows.present)
        merged = await sql.execute(conn, merge, [now] * merge.count("?"))
        summary.inserted = summary.rows - existing
        summary.updated = merged - summary.inserted
        summary.unchanged = existing - summary.updated
        if kind.new_rows_sql:
            summary.new_ids = [r["id"] for r in await sql.fetch(conn, kind.new_rows_sql)]
        if kind.after_merge is not None:
            await kind.after_merge(summary)
        if after_merge is not None:
            await after_merge(summary)
        await sql.execute(conn, "DROP TABLE import_stage")
    summary.seconds = time.perf_counter() - started
    return summary


async def _stage(
    conn: Any, kind: Kind, rows: CsvRows, ctx: ParseContext, progress: Progress | None
) -> int:
    """Parse every row into the staging table; raise ImportFailed listing bad rows.

    Writing a batch overlaps with parsing the next one: the write runs in the
    driver (SQLite's thread, or the socket) while this loop parses.
    """
    columns = {c.name: c for c in kind.columns}
    parsers = [(name, columns[name]) for name in rows.header]
    stage_columns = ["line_no", *(name for name, _ in kind.stage)]
    errors: list[RowError] = []
    batch: list[tuple] = []
    writing: asyncio.Task | None = None
    count = 0

    async def flush() -> None:
        nonlocal writing, batch
        if writing is not None:
            await writing
        writing = asyncio.create_task(sql.copy_rows(conn, "import_stage", stage_columns, batch))
        batch = []
        await asyncio.sleep(0)  # let the write start before parsing goes on
        if progress:
            progress(rows.bytes_read, count)

    try:
        for line, fields, problem in rows:
            if problem is not None:
                errors.append(RowError(line, problem))
            else:
                try:
                    staged = kind.to_stage(parse_record(parsers, fields, ctx))  # type: ignore[arg-type]
                except FieldError as exc:
                    errors.append(RowError(line, str(exc)))
                else:
                    count += 1
                    if not errors:
                        batch.append((line, *staged))
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
            if len(batch) >= BATCH_ROWS:
                await flush()
        if errors:
            raise ImportFailed(errors)
        if batch:
            await flush()
    finally:
        if writing is not None:
            await writing
    if progress:
        progress(rows.bytes_read, count)
    return count


async def _create_stage(conn: Any, kind: Kind) -> None:
    postgres = sql.dialect(conn) == "postgres"
    columns = ["line_no integer" if postgres else "line_no"]
    columns += [f"{name} {pg_type}" if postgres else name for name, pg_type in kind.stage]
    columns.append("existed smallint DEFAULT 0" if postgres else "existed DEFAULT 0")
    await sql.execute(conn, "DROP TABLE IF EXISTS import_stage")
    suffix = " ON COMMIT DROP" if postgres else ""
    await sql.execute(conn, f"CREATE TEMP TABLE import_stage ({', '.join(columns)}){suffix}")


async def _run_checks(conn: Any, kind: Kind) -> None:
    key = ", ".join(kind.key)
    duplicates = (
        f"SELECT min(line_no) AS first, max(line_no) AS line_no FROM import_stage "  # noqa: S608
        f"GROUP BY {key} HAVING count(*) > 1 ORDER BY min(line_no) LIMIT {MAX_REPORTED_ERRORS}"
    )
    errors = [
        RowError(
            row["line_no"],
            f"repeats the {'/'.join(kind.key)} of line {row['first']}",
        )
        for row in await sql.fetch(conn, duplicates)
    ]
    for check in kind.checks:
        query = f"{check.sql} ORDER BY s.line_no LIMIT {MAX_REPORTED_ERRORS}"
        for row in await sql.fetch(conn, query):
            errors.append(RowError(row["line_no"], check.message.format(detail=row["detail"])))
    if errors:
        errors.sort(key=lambda e: e.line)
        raise ImportFailed(errors[:MAX_REPORTED_ERRORS])


async def _mark_existing(conn: Any, kind: Kind) -> int:
    """Flag staging rows whose natural key exists already; return how many do."""
    return await sql.execute(
        conn,
        f"UPDATE import_stage SET existed = 1 WHERE line_no IN (SELECT s.line_no {kind.existing})",  # noqa: S608
    )
