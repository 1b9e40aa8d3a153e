"""Push notifications: the app installations that receive them, and their outbox."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.base import UtcDatetimeField


class PushPlatform(StrEnum):
    IOS = "ios"  # APNs
    ANDROID = "android"  # FCM
    WEB = "web"  # FCM's web registration tokens


class PushState(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt at `due_at`
    SENDING = "sending"  # claimed by a worker until `due_at` (the lease)
    SENT = "sent"  # accepted by FCM or APNs (or written to `VAR_DIR/push/`)
    FAILED = "failed"  # rejected for good, or out of attempts


class PushDevice(Model):
    """One app installation's push token, bound to the session that registered it: when
    that session ends (logout, "end sessions", a new password, recovery, a frozen
    cabinet), the device goes with it (services.security.sessions)."""

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="push_devices", on_delete=fields.CASCADE
    )
    session = fields.ForeignKeyField(
        "models.Session", related_name="push_devices", on_delete=fields.CASCADE, db_index=True
    )
    platform = fields.CharEnumField(PushPlatform, max_length=8)
    token = fields.CharField(max_length=4096, description="FCM registration token, APNs token")
    token_hash = fields.CharField(max_length=64, unique=True, description="SHA-256 of the token")
    app_version = fields.CharField(max_length=32, default="")
    locale = fields.CharField(max_length=2, default="ru", description="ru or en: the texts")
    created_at = UtcDatetimeField()
    last_seen_at = UtcDatetimeField(description="Last registration of the token")

    class Meta:
        table = "push_device"
        indexes = (Index(fields=("cabinet_id", "created_at")),)


class PushMessage(Model):
    """One push to one device, rendered when queued, written in the transaction of the
    change it announces. `key` names the event and what it is about; (device, key) is
    unique, so one change is never announced twice to one device."""

    id = fields.BigIntField(primary_key=True)
    device = fields.ForeignKeyField(
        "models.PushDevice", related_name="messages", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=128, description="event:NodeId, unique per device")
    event = fields.CharField(max_length=32)
    title = fields.CharField(max_length=255)
    body = fields.TextField()
    node_id = fields.CharField(max_length=128, default="", description="Node id for a deep link")
    state = fields.CharEnumField(PushState, max_length=8, default=PushState.PENDING)
    attempts = fields.SmallIntField(default=0, description="Claims so far, crashed ones too")
    due_at = UtcDatetimeField(description="PENDING: next attempt, SENDING: end of the lease")
    claimed_by = fields.CharField(max_length=64, null=True, description="Claim of the worker")
    last_error = fields.TextField(null=True)
    created_at = UtcDatetimeField()
    sent_at = UtcDatetimeField(null=True)

    class Meta:
        table = "push_outbox"
        unique_together = (("device", "key"),)
        indexes = (Index(fields=("state", "due_at")),)


class NotificationChannel(StrEnum):
    EMAIL = "email"
    PUSH = "push"


class NotificationOptOut(Model):
    """A cabinet does not want `event` through `channel` (me.notificationPreferences):
    without a row, it does. Security notices are never opted out of."""

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="notification_opt_outs", on_delete=fields.CASCADE
    )
    event = fields.CharField(
        max_length=32, description="services.notifications.events.NotificationEvent"
    )
    channel = fields.CharEnumField(NotificationChannel, max_length=8)
    created_at = UtcDatetimeField()

    class Meta:
        table = "notification_opt_out"
        unique_together = (("cabinet", "event", "channel"),)


class ReminderKind(StrEnum):
    OPEN = "open"  # the reading window opened
    CLOSING = "closing"  # it closes soon and nothing was submitted for the account


class ReadingReminder(Model):
    """A reading-window reminder sent for an account: (account, window, kind) is unique,
    and the row is inserted in the transaction that queues the reminder's pushes, so of
    several processes (or rounds) only the one whose insert went in sends it."""

    id = fields.BigIntField(primary_key=True)
    account = fields.ForeignKeyField(
        "models.Account", related_name="reading_reminders", on_delete=fields.CASCADE
    )
    window_start = fields.DateField(description="First day of the window, in TIMEZONE")
    kind = fields.CharEnumField(ReminderKind, max_length=8)
    pushed = fields.IntField(default=0, description="Pushes queued with it")
    created_at = UtcDatetimeField()

    class Meta:
        table = "reading_reminder"
        unique_together = (("account", "window_start", "kind"),)
