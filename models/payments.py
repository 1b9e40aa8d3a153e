"""Online payments made in the cabinet (`payBill`): the order and its state.

Kept apart from `billing.Payment`, the ledger of money received as the billing system
reports it: an online payment is an *attempt* that may be pending, canceled or failed,
with an acquirer, an idempotency key and a confirmation page. Only when it succeeds
does a row go into the ledger (`ledger_payment`), which is then what histories,
balances and proofs of ownership read, exactly as for money paid anywhere else.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.base import UtcDatetimeField, money_field


class PaymentStatus(StrEnum):
    PENDING = "pending"  # created with the acquirer, waiting for the customer and its word
    SUCCEEDED = "succeeded"  # the acquirer took the money; the ledger has it
    CANCELED = "canceled"  # the customer (or the acquirer) canceled it
    FAILED = "failed"  # refused, or nobody confirmed it within the timeout
    REFUNDED = "refunded"  # succeeded, then refunded in full by an operator (refunded_amount)


class PaymentMethod(StrEnum):
    """How the customer pays, when the app chooses it before the acquirer's page."""

    CARD = "CARD"
    SBP = "SBP"
    SBERPAY = "SBERPAY"


class OnlinePayment(Model):
    """One `payBill`: an amount to an account through an acquirer."""

    # refunded_amount is null for nothing refunded: a column added to a table with rows
    # must be nullable on SQLite and PostgreSQL alike (Tortoise adds no DEFAULT).

    id = fields.BigIntField(primary_key=True)
    # Null for a guest payment (payAsGuest, without logging in): its `guest_payment` row
    # keeps the payer's e-mail and the idempotency key.
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="online_payments", on_delete=fields.CASCADE, null=True
    )
    account = fields.ForeignKeyField(
        "models.Account", related_name="online_payments", on_delete=fields.CASCADE
    )
    amount = money_field()
    idempotency_key = fields.CharField(max_length=64)
    status = fields.CharEnumField(PaymentStatus, max_length=16, default=PaymentStatus.PENDING)
    provider = fields.CharField(max_length=64, description="PAYMENT_PROVIDER when created")
    external_id = fields.CharField(
        max_length=64, null=True, description="The acquirer's id of the payment"
    )
    confirmation_url = fields.CharField(max_length=1000, default="")
    failure_reason = fields.CharField(max_length=64, default="")
    refunded_amount = money_field(
        null=True, description="Refunded so far, by refunds SUCCEEDED: null when none was"
    )
    ledger_payment = fields.ForeignKeyField(
        "models.Payment", related_name="online_payment", on_delete=fields.SET_NULL, null=True
    )
    created_at = UtcDatetimeField()
    updated_at = UtcDatetimeField()
    completed_at = UtcDatetimeField(null=True)

    class Meta:
        table = "online_payment"
        unique_together = (("cabinet", "idempotency_key"), ("provider", "external_id"))
        indexes = (
            Index(fields=("status", "created_at")),
            Index(fields=("account_id", "created_at")),
        )


class RefundStatus(StrEnum):
    PENDING = "pending"  # stored, asked of the acquirer, its word not final yet
    SUCCEEDED = "succeeded"  # the money went back; counted in refunded_amount and the balance
    CANCELED = "canceled"  # the acquirer refused it; nothing went back


class Refund(Model):
    """An operator's `kabinet payments refund`: part or all of a SUCCEEDED online payment
    given back through its acquirer. Its id is the acquirer's idempotence key, so asking
    again (a retried command) never refunds twice."""

    id = fields.BigIntField(primary_key=True)
    payment = fields.ForeignKeyField(
        "models.OnlinePayment", related_name="refunds", on_delete=fields.CASCADE
    )
    amount = money_field()
    status = fields.CharEnumField(RefundStatus, max_length=16, default=RefundStatus.PENDING)
    external_id = fields.CharField(
        max_length=64, null=True, description="The acquirer's id of the refund"
    )
    created_at = UtcDatetimeField()
    completed_at = UtcDatetimeField(null=True)

    class Meta:
        table = "payment_refund"
        indexes = (Index(fields=("payment_id", "status")),)


class Autopay(Model):
    """An account's autopay, turned on by a cabinet that holds it (`enableAutopay`).

    Active while `active_since` is set: then `method_id` is the acquirer's id of the
    payment method it saved with the first payment (`setup_payment`), only ever sent back
    to that acquirer, and `method_title` a title safe to show ("Bank card *4444"); no card
    data is kept. `refusals` counts charges refused in a row: the second turns it off."""

    id = fields.BigIntField(primary_key=True)
    account = fields.OneToOneField(
        "models.Account", related_name="autopay", on_delete=fields.CASCADE
    )
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="autopays", on_delete=fields.CASCADE, db_index=True
    )
    max_amount = money_field(description="The most charged in one calendar month")
    provider = fields.CharField(max_length=64, description="PAYMENT_PROVIDER that saved it")
    method_id = fields.CharField(max_length=64, null=True, description="The acquirer's id")
    method_title = fields.CharField(max_length=64, default="")
    setup_payment = fields.ForeignKeyField(
        "models.OnlinePayment", related_name="autopay_setups", on_delete=fields.SET_NULL, null=True
    )
    active_since = UtcDatetimeField(null=True, description="NULL: not active")
    refusals = fields.SmallIntField(default=0)
    created_at = UtcDatetimeField()
    updated_at = UtcDatetimeField()

    class Meta:
        table = "autopay"


class ChargeState(StrEnum):
    PENDING = "pending"  # due at `due_at` (the day after the bill came)
    SENDING = "sending"  # claimed by a process until `due_at` (the lease)
    DONE = "done"  # the payment is made (`payment`); its outcome comes as any payment's
    SKIPPED = "skipped"  # not charged: `outcome` says why (off, nothing due, over the cap)


class AutopayCharge(Model):
    """One bill to charge by autopay, queued by the import that brought the bill in.

    Unique per (autopay, bill): a bill is charged at most once. Claimed as the outbox
    claims mail (FOR UPDATE SKIP LOCKED on PostgreSQL), so one process owns it; its
    `payment` (with the `method_id` it is charged with) is created before the acquirer is
    asked, and that payment's id is the acquirer's idempotence key: a process that dies
    mid-charge leaves the payment for the next owner to ask about again, never a second
    charge. A charge whose payment is written finishes even if autopay is turned off."""

    id = fields.BigIntField(primary_key=True)
    autopay = fields.ForeignKeyField(
        "models.Autopay", related_name="charges", on_delete=fields.CASCADE
    )
    receipt = fields.ForeignKeyField(
        "models.Receipt", related_name="autopay_charges", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(ChargeState, max_length=8, default=ChargeState.PENDING)
    attempts = fields.SmallIntField(default=0)
    due_at = UtcDatetimeField(description="PENDING: when to charge, SENDING: end of the lease")
    claimed_by = fields.CharField(max_length=64, null=True)
    payment = fields.ForeignKeyField(
        "models.OnlinePayment", related_name="autopay_charge", on_delete=fields.SET_NULL, null=True
    )
    method_id = fields.CharField(
        max_length=64, null=True, description="The saved method it is charged with"
    )
    outcome = fields.CharField(max_length=64, default="")
    created_at = UtcDatetimeField()
    done_at = UtcDatetimeField(null=True)

    class Meta:
        table = "autopay_charge"
        unique_together = (("autopay", "receipt"),)
        indexes = (Index(fields=("state", "due_at")),)


class GuestPayment(Model):
    """What a payment made without logging in (`payAsGuest`) has besides its online
    payment, whose cabinet is null: the e-mail the receipt of payment (54-FZ) goes to, the
    idempotency key (unique here, as (cabinet, key) is for the cabinet's payments) and
    the client's limits key, for support staff."""

    id = fields.BigIntField(primary_key=True)
    payment = fields.OneToOneField(
        "models.OnlinePayment", related_name="guest", on_delete=fields.CASCADE
    )
    idempotency_key = fields.CharField(max_length=64, unique=True)
    email = fields.CharField(max_length=254, description="Where the receipt of payment goes")
    language = fields.CharField(max_length=2, default="ru", description="ru or en: the receipt")
    client_key = fields.CharField(max_length=64, description="Client IP (IPv6: its /64)")
    created_at = UtcDatetimeField()

    class Meta:
        table = "guest_payment"
