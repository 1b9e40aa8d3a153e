"""Custom scalars: money crosses the API as a decimal string, never a float."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NewType

import strawberry

from services.core.money import AmountError, format_amount, parse_amount
from services.core.timeutil import format_period, parse_period

Money = NewType("Money", Decimal)
Period = NewType("Period", dt.date)


def _parse_money(value: object) -> Decimal:
    try:
        return parse_amount(str(value), allow_negative=True)
    except AmountError as exc:
        raise ValueError(str(exc)) from None


SCALARS = {
    Money: strawberry.scalar(
        name="Money",
        description=(
            'An amount in roubles as a decimal string with two places, e.g. "1234.56". '
            "Positive balances are debts."
        ),
        serialize=format_amount,
        parse_value=_parse_money,
    ),
    Period: strawberry.scalar(
        name="Period",
        description='A billing month as "YYYY-MM", e.g. "2026-10".',
        serialize=format_period,
        parse_value=lambda value: parse_period(str(value)),
    ),
}
