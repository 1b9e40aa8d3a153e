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
    HOLD_CANCEL = "hold_cancel"  # "Cancel, this wasn't me": ends a proof hold (ProofHold)
    FREEZE = "freeze"  # "This wasn't me" in a security notice: freezes the cabinet


# Tokens that a later password or e-mail change must not void: they are how the owner
# undoes what someone else did with the cabinet.
LASTING_PURPOSES = (TokenPurpose.HOLD_CANCEL, TokenPurpose.FREEZE)


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
    payment = fields.ForeignKeyField(
        "models.Payment",
        related_name="proof_attempts",
        on_delete=fields.SET_NULL,
        null=True,
        description="The ledger payment whose amount a successful proof matched",
    )
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
    PROOF_HELD = "proof_held"
    PROOF_HOLD_CANCELED = "proof_hold_canceled"
    FROZEN = "frozen"
    UNFROZEN = "unfrozen"
    STAFF_VIEWED = "staff_viewed"


class HoldState(StrEnum):
    HELD = "held"  # waiting for `until`
    CANCELED = "canceled"  # "Cancel, this wasn't me" (or a specialist): nothing happens
    DONE = "done"  # completed by the hold job
    FAILED = "failed"  # the hold ended but the change no longer applies (`outcome` says why)


class ProofHold(Model):
    """A recovery, link or registration proven with a suspicious payment
    (services.accounts.proof.suspicious_payment), waiting PROOF_HOLD_HOURS before it
    takes effect. Completed by the hold job of any process, which claims the row with a
    conditional UPDATE (HELD -> DONE), so it is done exactly once; a cancel makes the same
    UPDATE (HELD -> CANCELED), so a cancel and a completion never both happen."""

    id = fields.BigIntField(primary_key=True)
    purpose = fields.CharEnumField(ProofPurpose, max_length=16)
    state = fields.CharEnumField(HoldState, max_length=16, default=HoldState.HELD)
    cabinet = fields.ForeignKeyField(
        "models.Cabinet",
        related_name="proof_holds",
        on_delete=fields.CASCADE,
        description="The cabinet the change applies to (recovered, linking, registered)",
    )
    account = fields.ForeignKeyField(
        "models.Account", related_name="proof_holds", on_delete=fields.CASCADE
    )
    attempt = fields.ForeignKeyField(
        "models.ProofAttempt", related_name="holds", on_delete=fields.SET_NULL, null=True
    )
    new_email = fields.CharField(max_length=254, default="", description="Recovery: the address")
    password_hash = fields.CharField(max_length=255, default="", description="Recovery")
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=300, default="")
    until = UtcDatetimeField(description="When the change takes effect unless canceled")
    outcome = fields.CharField(max_length=64, default="")
    created_at = UtcDatetimeField()
    done_at = UtcDatetimeField(null=True)

    class Meta:
        table = "proof_hold"
        indexes = (Index(fields=("state", "until")), Index(fields=("account_id", "state")))


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
