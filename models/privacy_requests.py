"""What a customer asks about their personal data: to delete the cabinet (after a grace
period), and a copy of everything it holds (an export, built in the background)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.base import UtcDatetimeField


class DeletionState(StrEnum):
    PENDING = "pending"  # waiting for `erases_at`; logging in and confirming cancels it
    CANCELED = "canceled"  # the customer kept the cabinet
    ERASED = "erased"  # done: the cabinet is an empty tombstone


class CabinetDeletion(Model):
    """A request to delete a cabinet (deleteCabinet), at most one PENDING per cabinet:
    the background job erases the cabinet once `erases_at` has passed."""

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="deletions", on_delete=fields.CASCADE, db_index=True
    )
    state = fields.CharEnumField(DeletionState, max_length=8, default=DeletionState.PENDING)
    requested_at = UtcDatetimeField()
    erases_at = UtcDatetimeField(description="End of the grace period")
    done_at = UtcDatetimeField(null=True, description="When it was canceled or erased")

    class Meta:
        table = "cabinet_deletion"
        indexes = (Index(fields=("state", "erases_at")),)


class ExportState(StrEnum):
    PENDING = "pending"  # waiting for a worker
    SENDING = "sending"  # claimed by a worker until `due_at` (the lease), as the outbox does
    SENT = "sent"  # built; its link went out by mail
    FAILED = "failed"  # building kept failing; `last_error` says why


class DataExport(Model):
    """A copy of a cabinet's data asked for with requestDataExport: a ZIP built in the
    background, its bytes in DataExportContent, downloadable by a signed link until
    `expires_at`. Columns `state`, `due_at`, `claimed_by`, `attempts` make it a work
    queue claimed like the mail outbox (models.sql.claim_due)."""

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="data_exports", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(ExportState, max_length=8, default=ExportState.PENDING)
    attempts = fields.SmallIntField(default=0)
    due_at = UtcDatetimeField(description="PENDING: next attempt, SENDING: end of the lease")
    claimed_by = fields.CharField(max_length=64, null=True)
    last_error = fields.TextField(null=True)
    requested_at = UtcDatetimeField()
    ready_at = UtcDatetimeField(null=True)
    expires_at = UtcDatetimeField(null=True, description="The link and the file end then")
    size = fields.BigIntField(default=0, description="Bytes of the ZIP")

    class Meta:
        table = "data_export"
        indexes = (Index(fields=("cabinet_id", "requested_at")), Index(fields=("state", "due_at")))


class DataExportContent(Model):
    """The ZIP of an export. In the database, as photos are: server processes on several
    hosts share nothing else, and any of them serves the download."""

    id = fields.BigIntField(primary_key=True)
    export = fields.OneToOneField(
        "models.DataExport", related_name="content", on_delete=fields.CASCADE
    )
    data = fields.BinaryField()

    class Meta:
        table = "data_export_content"
