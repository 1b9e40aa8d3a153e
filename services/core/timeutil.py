"""Dates and times: parsing what billing exports contain, and the company's calendar."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

_PERIOD = re.compile(r"(\d{4})-(\d{2})")


def company_tz(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_date(text: str) -> dt.date:
    """An ISO 8601 calendar date, e.g. 2026-01-31."""
    value = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date") from None


_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def parse_datetime(text: str, tz: dt.tzinfo) -> dt.datetime:
    """An ISO 8601 date or date-time; without an offset it is read in `tz`. Returns UTC."""
    value = text.strip()
    if not _DATETIME.fullmatch(value):
        raise ValueError(f"{text!r} is not an ISO 8601 date-time, e.g. 2026-01-31T14:05:00")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(dt.UTC)


# RFC 3339 (section 5.6) as the API reads it: a date, "T", the time to the second with an
# optional fraction, and "Z" or an offset "+03:00". Nothing ISO 8601 allows beyond that.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def format_moment(value: dt.datetime) -> str:
    """A moment as the API writes it: RFC 3339 in UTC to the second,
    "2026-12-06T15:57:39Z". A naive value is UTC (the database's and the clock's time)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    utc = value.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None)
    return utc.isoformat() + "Z"


def parse_moment(text: str) -> dt.datetime:
    """An RFC 3339 date-time with "Z" or an offset, as aware UTC to the second; a moment
    without an offset means nothing definite and is refused."""
    if not _RFC3339.fullmatch(text):
        raise ValueError(
            f"{text!r} is not an RFC 3339 date-time with an offset, e.g. 2026-12-06T15:57:39Z"
        )
    value = re.sub(r"\.\d+", "", text)  # the API's moments are to the second
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date-time") from None
    return moment.astimezone(dt.UTC)


def format_iso_date(value: dt.date) -> str:
    """A calendar date as the API writes it: "2026-12-06"."""
    if type(value) is dt.date:
        return value.isoformat()  # the same form, in C
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def parse_iso_date(text: str) -> dt.date:
    """Exactly "YYYY-MM-DD" (RFC 3339 full-date): no week dates, no "20261206"."""
    if not _FULL_DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date") from None


def parse_period(text: str) -> dt.date:
    """A billing month "YYYY-MM" as the first day of that month."""
    match = _PERIOD.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a month in the form YYYY-MM")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} is not a valid month")
    return dt.date(year, month, 1)


def format_period(day: dt.date) -> str:
    if type(day) is dt.date:
        return day.isoformat()[:7]
    return f"{day.year:04d}-{day.month:02d}"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in range(day.day, 27, -1):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    return dt.date(year, month, min(day.day, 28))


MONTHS_RU = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)


def format_month_ru(day: dt.date) -> str:
    """A billing month as bills print it: "октябрь 2026"."""
    return f"{MONTHS_RU[day.month - 1]} {day.year}"


MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_month_en(day: dt.date) -> str:
    """A billing month in English, "October 2026", whatever the process's locale."""
    return f"{MONTHS_EN[day.month - 1]} {day.year}"


def format_date_ru(day: dt.date) -> str:
    """A date as Russian documents print it: 01.11.2026."""
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
