from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.base import UtcDatetimeField


class Role(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"


class Cabinet(Model):
    """A login of the personal cabinet: one e-mail and password, several accounts.

    A `staff` cabinet is a specialist who answers customers' questions; it holds no
    accounts and asks nothing (`kabinet staff add`). A person who is also a customer
    uses another address for their own cabinet.
    """

    id = fields.BigIntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True, description="Normalised e-mail")
    email_verified_at = UtcDatetimeField(null=True)
    password_hash = fields.CharField(max_length=255)
    language = fields.CharField(max_length=2, default="ru")
    role = fields.CharEnumField(Role, max_length=16, default=Role.CUSTOMER)
    display_name = fields.CharField(
        max_length=100, default="", description="Name of a specialist as customers see it"
    )
    disabled_at = UtcDatetimeField(
        null=True,
        description="When the cabinet was closed (a specialist who left): no login, no sessions",
    )
    frozen_at = UtcDatetimeField(
        null=True,
        description='When the owner said "this wasn\'t me" from a security notice: no login, '
        "no recovery, no sessions until a specialist unfreezes it",
    )
    privacy_notice_version = fields.CharField(
        max_length=32, null=True, description="Version of the personal-data notice accepted last"
    )
    privacy_notice_accepted_at = UtcDatetimeField(null=True, description="When it was accepted")
    created_at = UtcDatetimeField(auto_now_add=True)
    updated_at = UtcDatetimeField(auto_now=True)

    class Meta:
        table = "cabinet"


class CabinetAccount(Model):
    """The link between a cabinet and a personal account it manages.

    A cabinet holds several accounts; an account is held by at most one cabinet,
    which is what registration (ALREADY_REGISTERED) and recovery rely on.
    """

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="account_links", on_delete=fields.CASCADE, db_index=True
    )
    account = fields.OneToOneField(
        "models.Account", related_name="cabinet_link", on_delete=fields.CASCADE
    )
    linked_at = UtcDatetimeField(auto_now_add=True)

    class Meta:
        table = "cabinet_account"
