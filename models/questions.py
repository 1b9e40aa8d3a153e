"""Questions customers ask the company's specialists, their messages and photos."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.base import UtcDatetimeField

SUBJECT_MAX_CHARS = 150  # the API's limit and the column's size
BODY_MAX_CHARS = 5000


class QuestionTopic(StrEnum):
    BILLING = "billing"
    READINGS = "readings"
    PAYMENTS = "payments"
    METER = "meter"
    E_RECEIPT = "e_receipt"
    OTHER = "other"


class QuestionStatus(StrEnum):
    OPEN = "open"  # the customer waits for a specialist
    ANSWERED = "answered"  # a specialist answered last
    CLOSED = "closed"  # nobody can write to it any more


class MessageAuthor(StrEnum):
    CUSTOMER = "customer"
    SPECIALIST = "specialist"


class Question(Model):
    """A conversation between a customer and the specialists of the company."""

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="questions", on_delete=fields.CASCADE
    )
    account = fields.ForeignKeyField(
        "models.Account", related_name="questions", on_delete=fields.SET_NULL, null=True
    )
    topic = fields.CharEnumField(QuestionTopic, max_length=16)
    subject = fields.CharField(max_length=SUBJECT_MAX_CHARS)
    status = fields.CharEnumField(QuestionStatus, max_length=16, default=QuestionStatus.OPEN)
    assignee = fields.ForeignKeyField(
        "models.Cabinet",
        related_name="assigned_questions",
        on_delete=fields.SET_NULL,
        null=True,
        description="The specialist who took it",
    )
    created_at = UtcDatetimeField()
    updated_at = UtcDatetimeField()
    waiting_since = UtcDatetimeField(
        description="When the first unanswered message of the customer arrived (queue order)"
    )
    closed_at = UtcDatetimeField(null=True)

    class Meta:
        table = "question"
        indexes = (
            Index(fields=("cabinet_id", "created_at")),
            Index(fields=("status", "waiting_since")),
            # A specialist's own queue (assignee: ME), and `kabinet staff remove`.
            Index(fields=("assignee_id", "status", "waiting_since")),
        )


class QuestionMessage(Model):
    """One message of a question, by the customer or by a specialist."""

    id = fields.BigIntField(primary_key=True)
    question = fields.ForeignKeyField(
        "models.Question", related_name="messages", on_delete=fields.CASCADE
    )
    author_kind = fields.CharEnumField(MessageAuthor, max_length=16)
    author = fields.ForeignKeyField(
        "models.Cabinet", related_name="question_messages", on_delete=fields.SET_NULL, null=True
    )
    body = fields.TextField()
    created_at = UtcDatetimeField()
    read_at = UtcDatetimeField(
        null=True,
        description="When the customer read a message of a specialist, or when a specialist "
        "answered a message of the customer",
    )

    class Meta:
        table = "question_message"
        indexes = (Index(fields=("question_id", "created_at")),)


class Attachment(Model):
    """A photo a customer uploaded, pending until a message references it.

    The row holds what was checked about the photo; its bytes are in AttachmentContent,
    a table of their own, so lists of photos never read them.
    """

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="attachments", on_delete=fields.CASCADE
    )
    message = fields.ForeignKeyField(
        "models.QuestionMessage", related_name="attachments", on_delete=fields.CASCADE, null=True
    )
    # A random name, never a client's; until migration 0009 the file's name on disk.
    storage_key = fields.CharField(max_length=64, unique=True)
    content_type = fields.CharField(max_length=32)
    size = fields.IntField()
    width = fields.IntField()
    height = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    created_at = UtcDatetimeField()

    class Meta:
        table = "attachment"
        indexes = (
            Index(fields=("cabinet_id", "message_id")),
            Index(fields=("message_id", "created_at")),
        )


class AttachmentContent(Model):
    """The bytes of a photo (at most ATTACHMENT_MAX_BYTES). They are in the database,
    not on a server's disk, because server processes on several hosts share nothing
    but the database: any of them serves a photo another received."""

    id = fields.BigIntField(primary_key=True)
    attachment = fields.OneToOneField(
        "models.Attachment", related_name="content", on_delete=fields.CASCADE
    )
    data = fields.BinaryField()

    class Meta:
        table = "attachment_content"
