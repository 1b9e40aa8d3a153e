"""Turning a connection's arguments (first, after, from, to) into the read models'
`PageArgs`; an argument out of range is a BAD_USER_INPUT error."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from resolvers.context import BadInput
from services.core.paging import PageArgs, decode_cursor
from services.core.timeutil import add_months

MAX_PAGE = 100


def _after(cursor: str, kind: type) -> tuple[Any, int]:
    try:
        return decode_cursor(cursor, kind)
    except ValueError:
        raise BadInput("`after` is not a cursor of this list.") from None


def _check_first(first: int) -> None:
    if not 0 <= first <= MAX_PAGE:
        raise BadInput(f"`first` must be between 0 and {MAX_PAGE}.")


# Dates outside these filter nothing out, and datetime arithmetic on year 1 or 9999
# overflows: a `from`/`to` beyond them means "no limit on that side".
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def _within(start: dt.date | None, end: dt.date | None) -> tuple[Any, Any]:
    if start is not None and start < EARLIEST:
        start = None
    if end is not None and end > LATEST:
        end = None
    return start, end


def day_bounds(start: dt.date | None, end: dt.date | None, tz: str) -> tuple[Any, Any]:
    """[start 00:00, end+1 00:00) in the company's time zone, as UTC datetimes."""
    start, end = _within(start, end)
    zone = ZoneInfo(tz)
    low = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC) if start else None
    high = (
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
        if end
        else None
    )
    return low, high


def date_bounds(start: dt.date | None, end: dt.date | None) -> tuple[Any, Any]:
    start, end = _within(start, end)
    return start, (end + dt.timedelta(days=1) if end else None)


def month_bounds(start: dt.date | None, end: dt.date | None) -> tuple[Any, Any]:
    """Months from the one holding `start` to the one holding `end`, both included."""
    start, end = _within(start, end)
    low = start.replace(day=1) if start else None
    high = add_months(end.replace(day=1), 1) if end else None
    return low, high


def page_args(
    first: int,
    after: str | None,
    bounds: tuple[Any, Any],
    sort_kind: type,
    meter_id: int | None = None,
) -> PageArgs:
    _check_first(first)
    return PageArgs(
        first=first,
        after=_after(after, sort_kind) if after else None,
        start=bounds[0],
        end=bounds[1],
        meter_id=meter_id,
    )
