"""The mail outbox: every outgoing message, written in the transaction that caused it."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.base import UtcDatetimeField


class MailState(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt at `due_at`
    SENDING = "sending"  # claimed by a worker until `due_at` (the lease)
    SENT = "sent"  # accepted by the SMTP server (or written to the development mailbox)
    FAILED = "failed"  # rejected for good, or out of attempts; `mail retry` requeues


class MailLane(IntEnum):
    """Workers claim the lower lane first, so a flood of routine mail (a month's e-receipts,
    or what a caller manages to cause) never delays a security notice (SECURITY.md 22)."""

    SECURITY = 0  # links to act on and security notices: verification, reset, changes
    ROUTINE = 1  # everything else: receipts, payments, answers to questions


class OutboxMessage(Model):
    """One outgoing e-mail, rendered at enqueue time and kept byte for byte.

    `content` is the complete RFC 5322 message with its Message-ID, so every retry
    sends exactly the same bytes and a duplicate is recognisable by that header. Once
    sent it is emptied (its links would stay live); the other columns stay for audit.
    """

    id = fields.BigIntField(primary_key=True)
    message_id = fields.CharField(max_length=255, unique=True, description="Message-ID header")
    template = fields.CharField(max_length=64)
    language = fields.CharField(max_length=2)
    recipient = fields.CharField(max_length=254, description="Envelope recipient (ASCII)")
    subject = fields.CharField(max_length=255, description="For operators, may be shortened")
    content = fields.BinaryField(description="The complete message as sent over SMTP")
    state = fields.CharEnumField(MailState, max_length=8, default=MailState.PENDING)
    lane = fields.IntEnumField(MailLane, default=MailLane.ROUTINE, description="Claimed first: 0")
    attempts = fields.SmallIntField(default=0, description="Claims so far, crashed ones too")
    due_at = UtcDatetimeField(description="PENDING: next attempt, SENDING: end of the lease")
    claimed_by = fields.CharField(max_length=64, null=True, description="Claim of the worker")
    last_error = fields.TextField(null=True)
    created_at = UtcDatetimeField()
    sent_at = UtcDatetimeField(null=True)

    class Meta:
        table = "mail_outbox"
        indexes = (Index(fields=("state", "due_at")), Index(fields=("state", "lane", "due_at")))
