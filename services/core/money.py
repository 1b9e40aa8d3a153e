"""Money as customers and billing exports type it, and as the API prints it."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

KOPECK = Decimal("0.01")

# Spaces people and spreadsheets put between digit groups: space, no-break space,
# narrow no-break space, thin space, and the apostrophe some locales use.
_GROUP_SPACES = re.compile(r"(?<=\d)[ \u00a0\u202f\u2009'](?=\d{3}(?:\D|$))")
_CURRENCY = re.compile(r"\s*(?:₽|руб\.?|р\.?|rub)\s*$", re.IGNORECASE)
_PLAIN = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_SIMPLE = re.compile(r"\d{1,12}(?:[.,]\d{1,2})?")  # the common case, read without the rest
_GROUPED_COMMA = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d+")  # 1,234.56
_GROUPED_DOT = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d+")  # 1.234,56


class AmountError(ValueError):
    """The text is not an amount of money; the message says why, in plain words."""


def parse_amount(text: str, *, allow_negative: bool = False) -> Decimal:
    """Read "1234.56", "1234,56", "1 234,56", "1234", "1 234.5 ₽" as Decimal with kopecks.

    More than two decimal places is an error, never a silent rounding: a customer
    who typed 100.005 meant something we must not guess.
    """
    if text is None:
        raise AmountError("amount is empty")
    if _SIMPLE.fullmatch(text):
        return Decimal(text.replace(",", ".")).quantize(KOPECK)
    raw = _CURRENCY.sub("", str(text).strip())
    raw = _GROUP_SPACES.sub("", raw)
    if not raw:
        raise AmountError("amount is empty")
    if _GROUPED_COMMA.fullmatch(raw):
        raw = raw.replace(",", "")
    elif _GROUPED_DOT.fullmatch(raw):
        raw = raw.replace(".", "").replace(",", ".")
    elif _PLAIN.fullmatch(raw):
        raw = raw.replace(",", ".")
    else:
        raise AmountError(f"{text!r} is not an amount of money")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise AmountError(f"{text!r} is not an amount of money") from None
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise AmountError(f"{text!r} has more than two digits after the decimal point")
    if value < 0 and not allow_negative:
        raise AmountError(f"{text!r} is negative")
    try:
        return value.quantize(KOPECK)
    except InvalidOperation:  # more digits than the decimal context holds: no sum of money
        raise AmountError(f"{text!r} is not an amount of money") from None


def format_amount(value: Decimal) -> str:
    """The API form: a plain decimal string with two places, e.g. "1234.56"."""
    return str(Decimal(value).quantize(KOPECK))


def kopecks(value: Decimal) -> int:
    """The amount in whole kopecks, as payment orders carry it."""
    return int(Decimal(value).quantize(KOPECK) * 100)


def format_rub(value: Decimal) -> str:
    """The printed Russian form: "1 234,56", digit groups joined by no-break spaces."""
    grouped = f"{Decimal(value).quantize(KOPECK):,.2f}"
    return grouped.replace(",", "\u00a0").replace(".", ",")
