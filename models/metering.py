from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.base import UtcDatetimeField, meter_value_field, money_field


class ReadingSource(StrEnum):
    CUSTOMER = "customer"
    INSPECTOR = "inspector"
    ESTIMATED = "estimated"
    BILLING = "billing"
    GUEST = "guest"  # submitGuestMeterReading: by account number and serial, not logged in


class ReadingStatus(StrEnum):
    ACCEPTED = "accepted"
    REVIEW = "review"
    REJECTED = "rejected"
    REPLACED = "replaced"


class Meter(Model):
    """An electricity meter of an account with 1-3 tariff zones."""

    id = fields.BigIntField(primary_key=True)
    account = fields.ForeignKeyField(
        "models.Account", related_name="meters", on_delete=fields.CASCADE, db_index=True
    )
    serial = fields.CharField(max_length=32, unique=True)
    model = fields.CharField(max_length=64, default="")
    zones = fields.SmallIntField(description="Number of tariff zones, 1 to 3")
    digits = fields.SmallIntField(description="Digits before the decimal point (capacity)")
    installed_on = fields.DateField(null=True)
    verified_on = fields.DateField(null=True, description="Date of the last verification")
    next_verification_on = fields.DateField(null=True)

    class Meta:
        table = "meter"


class MeterReading(Model):
    """Register values of a meter on a date, one column per zone."""

    id = fields.BigIntField(primary_key=True)
    meter = fields.ForeignKeyField(
        "models.Meter", related_name="readings", on_delete=fields.CASCADE
    )
    taken_on = fields.DateField()
    t1 = meter_value_field()
    t2 = meter_value_field(null=True)
    t3 = meter_value_field(null=True)
    source = fields.CharEnumField(ReadingSource, max_length=16, default=ReadingSource.BILLING)
    status = fields.CharEnumField(ReadingStatus, max_length=16, default=ReadingStatus.ACCEPTED)
    created_at = UtcDatetimeField(auto_now_add=True)

    class Meta:
        table = "meter_reading"
        unique_together = (("meter", "taken_on", "source"),)


class ReadingSubmission(Model):
    """A customer's `submitMeterReading`, kept for its idempotency key and its result.

    The unique (cabinet, idempotency_key) pair is what makes a retried or doubled request
    return the first result: the second INSERT fails (or, on PostgreSQL, waits for the
    first transaction and then fails) instead of storing anything more.
    """

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="reading_submissions", on_delete=fields.CASCADE
    )
    idempotency_key = fields.CharField(max_length=64)
    fingerprint = fields.CharField(max_length=64, description="SHA-256 of the request")
    meter = fields.ForeignKeyField(
        "models.Meter", related_name="submissions", on_delete=fields.CASCADE
    )
    window_start = fields.DateField(description="First day of the window it was made in")
    reading = fields.ForeignKeyField(
        "models.MeterReading", related_name="submissions", on_delete=fields.SET_NULL, null=True
    )
    consumption = fields.JSONField(
        null=True, description='kWh per zone since the previous reading: {"1": "123.000"}'
    )
    estimated_charge = money_field(null=True)
    created_at = UtcDatetimeField()

    class Meta:
        table = "reading_submission"
        unique_together = (("cabinet", "idempotency_key"),)
        indexes = (Index(fields=("meter_id", "window_start")),)


class GuestReadingSubmission(Model):
    """A `submitGuestMeterReading` (no login: the account number and the meter's serial),
    kept for its idempotency key (unique) and for replacing the window's earlier guest
    submission, as `reading_submission` does for a cabinet's."""

    id = fields.BigIntField(primary_key=True)
    idempotency_key = fields.CharField(max_length=64, unique=True)
    fingerprint = fields.CharField(max_length=64, description="SHA-256 of the request")
    meter = fields.ForeignKeyField(
        "models.Meter", related_name="guest_submissions", on_delete=fields.CASCADE
    )
    window_start = fields.DateField(description="First day of the window it was made in")
    reading = fields.ForeignKeyField(
        "models.MeterReading",
        related_name="guest_submissions",
        on_delete=fields.SET_NULL,
        null=True,
    )
    client_key = fields.CharField(max_length=64, description="Client IP (IPv6: its /64)")
    created_at = UtcDatetimeField()

    class Meta:
        table = "guest_reading_submission"
        indexes = (Index(fields=("meter_id", "window_start")),)
