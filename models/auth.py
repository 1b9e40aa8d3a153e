"""Sessions, single-use tokens, attempt counters and the audit trails of the cabinet."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.base import UtcDatetimeField


class Session(Model):
    """A login on one device. Only the SHA-256 of the bearer/cookie token is stored."""

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="sessions", on_delete=fields.CASCADE, db_index=True
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = UtcDatetimeField()
    last_used_at = UtcDatetimeField()
    expires_at = UtcDatetimeField(description="Absolute end, whatever the activity")
    revoked_at = UtcDatetimeField(null=True)
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=300, default="")

    class Meta:
        table = "session"


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    CHANGE_EMAIL = "change_email"
    RESET_PASSWORD = "reset_password"
    RECOVERY = "recovery"  # the step between startRecoveryWithoutEmail and confirmNewEmail
    RECOVERY_LINK = "recovery_link"  # the link mailed to the new address
    ERECEIPT_EMAIL = "ereceipt_email"  # confirms an address for the electronic receipt


class ActionToken(Model):
    """The server-side half of a signed, single-use, time-limited token.

    The signed string handed out carries this row's id; the row makes the token
    single-use (`used_at`, set atomically) and voidable (`voided_at`) when the
    password or e-mail changes by another route.
    """

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="tokens", on_delete=fields.CASCADE, db_index=True
    )
    purpose = fields.CharEnumField(TokenPurpose, max_length=24)
    email = fields.CharField(max_length=254, default="", description="Address it is bound to")
    recovery = fields.ForeignKeyField(
        "models.ProofAttempt", related_name="tokens", on_delete=fields.SET_NULL, null=True
    )
    created_at = UtcDatetimeField()
    expires_at = UtcDatetimeField()
    used_at = UtcDatetimeField(null=True)
    voided_at = UtcDatetimeField(null=True)

    class Meta:
        table = "action_token"


class RateCounter(Model):
    """A fixed-window attempt counter (proof of ownership, login), updated atomically."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=300, unique=True)
    count = fields.IntField(default=0)
    window_start = UtcDatetimeField()
    blocked_until = UtcDatetimeField(null=True)

    class Meta:
        table = "rate_counter"


class ProofPurpose(StrEnum):
    REGISTER = "register"
    LINK = "link"
    RECOVERY = "recovery"


class ProofOutcome(StrEnum):
    PENDING = "pending"
    SUCCESS = "success"
    INVALID_PROOF = "invalid_proof"
    NO_RECENT_PAYMENTS = "no_recent_payments"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    NO_CABINET = "no_cabinet"


class ProofAttempt(Model):
    """Every attempt to prove ownership of an account, kept for support staff."""

    id = fields.BigIntField(primary_key=True)
    purpose = fields.CharEnumField(ProofPurpose, max_length=16)
    account_number = fields.CharField(max_length=64)
    outcome = fields.CharEnumField(ProofOutcome, max_length=24, default=ProofOutcome.PENDING)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="proof_attempts", on_delete=fields.SET_NULL, null=True
    )
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=300, default="")
    created_at = UtcDatetimeField()

    class Meta:
        table = "proof_attempt"
        indexes = (Index(fields=("account_number", "created_at")),)


class SecurityEventKind(StrEnum):
    REGISTERED = "registered"
    EMAIL_VERIFIED = "email_verified"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    LOGOUT_EVERYWHERE = "logout_everywhere"
    SESSION_REVOKED = "session_revoked"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_CHANGED = "password_changed"
    EMAIL_CHANGE_REQUESTED = "email_change_requested"
    EMAIL_CHANGED = "email_changed"
    ACCOUNT_LINKED = "account_linked"
    ACCOUNT_UNLINKED = "account_unlinked"
    RECOVERY_STARTED = "recovery_started"
    RECOVERY_EMAIL_REQUESTED = "recovery_email_requested"
    RECOVERY_COMPLETED = "recovery_completed"
    PRIVACY_NOTICE_ACCEPTED = "privacy_notice_accepted"
    STAFF_VIEWED = "staff_viewed"


class SecurityEvent(Model):
    """The cabinet's own log of security-relevant events, shown to its owner."""

    id = fields.BigIntField(primary_key=True)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet", related_name="security_events", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(SecurityEventKind, max_length=32)
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=300, default="")
    detail = fields.CharField(max_length=300, default="")
    created_at = UtcDatetimeField()

    class Meta:
        table = "security_event"
        indexes = (Index(fields=("cabinet_id", "created_at")),)
