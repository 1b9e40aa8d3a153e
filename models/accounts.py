from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import UtcDatetimeField, money_field


class Account(Model):
    """A personal account (лицевой счёт) as the billing system knows it."""

    id = fields.BigIntField(primary_key=True)
    number = fields.CharField(
        max_length=20, unique=True, description="Digits as printed on bills, leading zeros count"
    )
    holder_name = fields.CharField(max_length=255)
    address = fields.CharField(max_length=500)
    tariff = fields.CharField(max_length=128, default="")
    balance = money_field(
        default=0, description="Positive means the customer owes, negative means prepaid"
    )
    balance_on = fields.DateField(null=True, description="Date the billing system computed it")
    created_at = UtcDatetimeField(auto_now_add=True)
    updated_at = UtcDatetimeField(auto_now=True)

    class Meta:
        table = "account"
