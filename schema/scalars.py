"""Custom scalars. Each crosses the API as a JSON string in one format, named by its
description and by `@specifiedBy(url:)` (which code generators and GraphiQL show);
docs/api.md#scalars lists them for client teams. Input is read as strictly as output is
written, except Money, which takes amounts as people type them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import NewType

import strawberry

from services.core.money import AmountError, format_amount, parse_amount
from services.core.timeutil import (
    format_iso_date,
    format_moment,
    format_period,
    parse_iso_date,
    parse_moment,
    parse_period,
)

Money = NewType("Money", Decimal)
Period = NewType("Period", dt.date)

# Public specifications of each lexical form; the descriptions say which part of it we use.
DATE_TIME_SPEC = "https://scalars.graphql.org/andimarek/date-time"
DATE_SPEC = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
DECIMAL_SPEC = "https://www.w3.org/TR/xmlschema11-2/#decimal"
YEAR_MONTH_SPEC = "https://www.w3.org/TR/xmlschema11-2/#gYearMonth"

_DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")


def _text(value: object, scalar: str) -> str:
    """Every scalar arrives as a JSON string: a number would bring float rounding."""
    if not isinstance(value, str):
        raise ValueError(f"{scalar} is given as a string")
    return value


def _parse_money(value: object) -> Decimal:
    try:
        return parse_amount(_text(value, "Money"), allow_negative=True)
    except AmountError as exc:
        raise ValueError(str(exc)) from None


def _format_decimal(value: Decimal) -> str:
    """Fixed-point, never exponent notation: 1E+2 is written "100"."""
    return format(value, "f")


def _parse_decimal(value: object) -> Decimal:
    text = _text(value, "Decimal")
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal number such as 123.45")
    return Decimal(text)


SCALARS = {
    dt.datetime: strawberry.scalar(
        name="DateTime",
        description=(
            'A moment as an RFC 3339 date-time in UTC, to the second: "2026-12-06T15:57:39Z" '
            '(never fractions of a second). Input: an RFC 3339 date-time with "Z" or an '
            'offset ("2026-12-06T18:57:39+03:00"); a fraction of a second is dropped; one '
            "without an offset is refused."
        ),
        specified_by_url=DATE_TIME_SPEC,
        serialize=format_moment,
        parse_value=lambda value: parse_moment(_text(value, "DateTime")),
    ),
    dt.date: strawberry.scalar(
        name="Date",
        description=(
            'A calendar date as RFC 3339 full-date "YYYY-MM-DD", e.g. "2026-12-06", on the '
            "company's calendar (its time zone is the TIMEZONE setting)."
        ),
        specified_by_url=DATE_SPEC,
        serialize=format_iso_date,
        parse_value=lambda value: parse_iso_date(_text(value, "Date")),
    ),
    Decimal: strawberry.scalar(
        name="Decimal",
        description=(
            'A decimal number as a string in fixed-point notation, e.g. "1234.5" or "-0.25" '
            "(never an exponent, never a JSON number)."
        ),
        specified_by_url=DECIMAL_SPEC,
        serialize=_format_decimal,
        parse_value=_parse_decimal,
    ),
    Money: strawberry.scalar(
        name="Money",
        description=(
            'An amount in roubles as a decimal string with two places, e.g. "1234.56". '
            "Positive balances are debts. Input also takes the forms people type: "
            '"1234,56", "1 234.56", "1234".'
        ),
        specified_by_url=DECIMAL_SPEC,
        serialize=format_amount,
        parse_value=_parse_money,
    ),
    Period: strawberry.scalar(
        name="Period",
        description='A billing month as "YYYY-MM", e.g. "2026-10".',
        specified_by_url=YEAR_MONTH_SPEC,
        serialize=format_period,
        parse_value=lambda value: parse_period(_text(value, "Period")),
    ),
}
