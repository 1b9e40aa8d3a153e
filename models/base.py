"""Field types shared by the models.

SQLite keeps decimals as text and datetimes as ISO strings, so equality and ordering
in SQL only work when every value is written in one canonical form: decimals
quantized to their places, datetimes in UTC. These fields guarantee that on both
databases, for saves and for filters alike.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tortoise import fields


class FixedDecimalField(fields.DecimalField):
    """A DecimalField that always writes the value quantized to its decimal places."""

    def to_db_value(self, value: Any, instance: Any) -> Any:
        if value is None or not isinstance(value, Decimal | int | str):
            return super().to_db_value(value, instance)
        return super().to_db_value(Decimal(value).quantize(self.quant), instance)


class UtcDatetimeField(fields.DatetimeField):
    """A DatetimeField that stores every aware datetime converted to UTC."""

    def to_db_value(self, value: Any, instance: Any) -> Any:
        value = super().to_db_value(value, instance)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value


def money_field(**kwargs: Any) -> FixedDecimalField:
    """Money in roubles with kopecks; never a float."""
    return FixedDecimalField(max_digits=14, decimal_places=2, **kwargs)


def meter_value_field(**kwargs: Any) -> FixedDecimalField:
    """A register value in kWh with up to three decimals."""
    return FixedDecimalField(max_digits=12, decimal_places=3, **kwargs)
