from decimal import Decimal

import pytest

from services.core.money import AmountError, format_amount, format_rub, kopecks, parse_amount


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1 234.5", "1234.50"),
        ("1234", "1234.00"),
        ("1234.5", "1234.50"),
        ("1\u00a0234,56", "1234.56"),
        ("1\u202f234,56", "1234.56"),
        ("12 345 678,90", "12345678.90"),
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        (" 640,50 ₽", "640.50"),
        ("640.50 руб.", "640.50"),
        ("0,1", "0.10"),
    ],
)
def test_amounts_as_people_type_them(typed: str, expected: str) -> None:
    assert parse_amount(typed) == Decimal(expected)
    assert format_amount(parse_amount(typed)) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "  ",
        "abc",
        "12a",
        "100.005",
        "1,234",
        "1 23",
        "1..2",
        "--5",
        "1e3",
        "NaN",
        "1" * 27,
        "9" * 30,
    ],
)
def test_not_amounts(typed: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(typed)


def test_negative_only_when_allowed() -> None:
    with pytest.raises(AmountError):
        parse_amount("-5")
    assert parse_amount("-5,5", allow_negative=True) == Decimal("-5.50")


def test_format_is_two_places() -> None:
    assert format_amount(Decimal("7")) == "7.00"
    assert format_amount(Decimal("-0.5")) == "-0.50"


@pytest.mark.parametrize(
    ("value", "printed", "in_kopecks"),
    [
        ("0", "0,00", 0),
        ("5.5", "5,50", 550),
        ("1234.56", "1\u00a0234,56", 123456),
        ("-1234.56", "-1\u00a0234,56", -123456),
        ("12345678.9", "12\u00a0345\u00a0678,90", 1234567890),
    ],
)
def test_printed_rubles_and_kopecks(value: str, printed: str, in_kopecks: int) -> None:
    assert format_rub(Decimal(value)) == printed
    assert kopecks(Decimal(value)) == in_kopecks
