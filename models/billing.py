from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.base import UtcDatetimeField, money_field


class Payment(Model):
    """Money received on an account, as reported by the billing system."""

    id = fields.BigIntField(primary_key=True)
    account = fields.ForeignKeyField(
        "models.Account", related_name="payments", on_delete=fields.CASCADE
    )
    amount = money_field()
    paid_at = UtcDatetimeField()
    channel = fields.CharField(max_length=64, default="")
    external_id = fields.CharField(max_length=64, unique=True)
    created_at = UtcDatetimeField(auto_now_add=True)

    class Meta:
        table = "payment"
        indexes = (Index(fields=("account_id", "paid_at")),)


class Receipt(Model):
    """A monthly bill of an account.

    `lines` holds the charge per tariff zone as the bill prints it:
    [{"zone": 1, "previous": "123.000", "current": "223.000", "consumption": "100.000",
      "rate": "6.43", "amount": "643.00"}, ...] with decimals kept as strings.
    """

    id = fields.BigIntField(primary_key=True)
    account = fields.ForeignKeyField(
        "models.Account", related_name="receipts", on_delete=fields.CASCADE
    )
    period = fields.DateField(description="First day of the billed month")
    issued_on = fields.DateField()
    due_on = fields.DateField()
    opening_balance = money_field()
    charged = money_field()
    paid = money_field()
    amount_due = money_field()
    lines = fields.JSONField(default=list)
    created_at = UtcDatetimeField(auto_now_add=True)

    class Meta:
        table = "receipt"
        unique_together = (("account", "period"),)
