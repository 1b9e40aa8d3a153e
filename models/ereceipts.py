"""The electronic receipt: which accounts get their bills by e-mail, and the queue of bills
to mail that a billing import fills and the workers empty."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.base import UtcDatetimeField


class EReceiptSubscription(Model):
    """The electronic receipt of an account, asked for by the cabinet that holds it.

    Active while `since` is set. `email` is NULL when the bills go to the cabinet's own
    address (and follow it when it changes). A different address waits in
    `pending_email` until the link mailed there (`pending_token`) is followed.
    """

    id = fields.BigIntField(primary_key=True)
    account = fields.OneToOneField(
        "models.Account", related_name="ereceipt", on_delete=fields.CASCADE
    )
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="ereceipts", on_delete=fields.CASCADE, db_index=True
    )
    email = fields.CharField(
        max_length=254, null=True, description="NULL means the address of the cabinet"
    )
    since = UtcDatetimeField(null=True, description="When the receipts started, NULL until then")
    pending_email = fields.CharField(max_length=254, null=True)
    pending_token = fields.ForeignKeyField(
        "models.ActionToken",
        related_name="ereceipt_confirmations",
        on_delete=fields.SET_NULL,
        null=True,
        db_index=True,
    )
    created_at = UtcDatetimeField(auto_now_add=True)
    updated_at = UtcDatetimeField(auto_now=True)

    class Meta:
        table = "ereceipt_subscription"


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for a worker to render and enqueue it
    SENDING = "sending"  # claimed by a worker until `due_at` (the lease)
    SENT = "sent"  # its mail is in the outbox (`message`)
    SKIPPED = "skipped"  # the account was unsubscribed or unlinked before it went out
    FAILED = "failed"  # rendering kept failing; `last_error` says why


class EReceiptDelivery(Model):
    """One receipt to mail, queued by the import that brought the receipt in.

    Written in the import's own transaction, so a rejected import queues nothing; unique
    per receipt, so a receipt is mailed at most once."""

    id = fields.BigIntField(primary_key=True)
    receipt = fields.OneToOneField(
        "models.Receipt", related_name="ereceipt_delivery", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(DeliveryState, max_length=8, default=DeliveryState.PENDING)
    attempts = fields.SmallIntField(default=0)
    due_at = UtcDatetimeField(description="PENDING: next attempt, SENDING: end of the lease")
    claimed_by = fields.CharField(max_length=64, null=True)
    message = fields.ForeignKeyField(
        "models.OutboxMessage", related_name="ereceipts", on_delete=fields.SET_NULL, null=True
    )
    last_error = fields.TextField(null=True)
    created_at = UtcDatetimeField()
    done_at = UtcDatetimeField(null=True)

    class Meta:
        table = "ereceipt_delivery"
        indexes = (Index(fields=("state", "due_at")),)
