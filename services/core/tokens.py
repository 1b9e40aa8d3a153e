"""Signed, purpose-bound, single-use tokens (SECURITY.md 6-7).

A token is an itsdangerous signature, with a salt of its own per purpose, over the
id of an `ActionToken` row, the cabinet and the address it is bound to. The row makes
it single-use (consumed with one atomic UPDATE ... WHERE used_at IS NULL) and lets a
password or e-mail change void every outstanding token of the cabinet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from config import get_settings
from models import sql
from models.auth import LASTING_PURPOSES, ActionToken, TokenPurpose
from services.core.clock import now
from services.core.errors import CoreError, RuleError


class ClockSigner(TimestampSigner):
    """Signs and checks ages with the rules' clock, so tests can move time."""

    def get_timestamp(self) -> int:
        return int(now().timestamp())


def _serializer(purpose: TokenPurpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        get_settings().secret_key, salt=f"kabinet.{purpose.value}", signer=ClockSigner
    )


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: dt.datetime
    row: ActionToken


async def issue(
    cabinet_id: int,
    purpose: TokenPurpose,
    ttl: dt.timedelta,
    *,
    email: str = "",
    recovery_id: int | None = None,
) -> Issued:
    """Create a token; call inside the transaction of the change it belongs to."""
    moment = now()
    row = await ActionToken.create(
        cabinet_id=cabinet_id,
        purpose=purpose,
        email=email,
        recovery_id=recovery_id,
        created_at=moment,
        expires_at=moment + ttl,
    )
    token = _serializer(purpose).dumps({"t": row.id, "c": cabinet_id, "e": email})
    return Issued(token, row.expires_at, row)


async def issue_if_cabinet(
    cabinet_id: int, purpose: TokenPurpose, ttl: dt.timedelta, *, email: str
) -> Issued | None:
    """As `issue`, in one INSERT ... SELECT that writes nothing when there is no cabinet
    `cabinet_id` (pass 0 for none): a rule that must do the same work whether or not an
    address has a cabinet runs the very same statement either way (password reset)."""
    moment = now()
    expires_at = moment + ttl
    rows = await sql.fetch(
        sql.connection(),
        "INSERT INTO action_token (cabinet_id, purpose, email, created_at, expires_at) "
        "SELECT id, ?, ?, ?, ? FROM cabinet WHERE id = ? RETURNING id",
        [purpose.value, email, _db_time(moment), _db_time(expires_at), cabinet_id],
    )
    if not rows:
        return None
    row = ActionToken(
        id=rows[0]["id"],
        cabinet_id=cabinet_id,
        purpose=purpose,
        email=email,
        created_at=moment,
        expires_at=expires_at,
    )
    token = _serializer(purpose).dumps({"t": row.id, "c": cabinet_id, "e": email})
    return Issued(token, expires_at, row)


def _db_time(moment: dt.datetime) -> object:
    """A datetime as the ORM writes it to this database (SQLite keeps ISO text)."""
    field = ActionToken._meta.fields_map["created_at"]
    return field.to_db_value(moment, None)


def _signature_max_age(purpose: TokenPurpose) -> int:
    """Seconds a signature of `purpose` may be old: a day, or the lifetime of the
    purposes whose links live longer (the freeze link, the hold's cancel link)."""
    settings = get_settings()
    if purpose == TokenPurpose.FREEZE:
        return (settings.freeze_link_days + 1) * 24 * 3600
    if purpose == TokenPurpose.HOLD_CANCEL:
        return (settings.proof_hold_hours + 24) * 3600
    return 24 * 3600


def _read(token: str, purpose: TokenPurpose, field: str) -> dict:
    if not token or len(token) > 1000:
        raise RuleError(CoreError.INVALID_TOKEN, field)
    try:
        # The row's expires_at is the real limit; the signature's own age check is a
        # second lock on the same door (a day, for links whose rows were purged).
        data = _serializer(purpose).loads(token, max_age=_signature_max_age(purpose))
    except SignatureExpired:
        raise RuleError(CoreError.EXPIRED_TOKEN, field) from None
    except BadSignature:
        raise RuleError(CoreError.INVALID_TOKEN, field) from None
    if not isinstance(data, dict) or not {"t", "c", "e"} <= data.keys():
        raise RuleError(CoreError.INVALID_TOKEN, field)
    return data


async def peek(token: str, purposes: tuple[TokenPurpose, ...], field: str = "token") -> ActionToken:
    """The live row behind a token of one of `purposes`, without using it up."""
    last_error: RuleError | None = None
    for purpose in purposes:
        try:
            data = _read(token, purpose, field)
        except RuleError as error:
            if error.code == CoreError.EXPIRED_TOKEN:
                raise
            last_error = error
            continue
        row = await ActionToken.filter(id=data["t"], purpose=purpose).first()
        if row is None or row.cabinet_id != data["c"] or row.email != data["e"]:  # type: ignore[attr-defined]
            raise RuleError(CoreError.INVALID_TOKEN, field)
        if row.used_at is not None or row.voided_at is not None:
            raise RuleError(CoreError.INVALID_TOKEN, field)
        if row.expires_at <= now():
            raise RuleError(CoreError.EXPIRED_TOKEN, field)
        return row
    raise last_error or RuleError(CoreError.INVALID_TOKEN, field)


async def consume(
    token: str, purposes: tuple[TokenPurpose, ...], field: str = "token"
) -> ActionToken:
    """Use a token up, atomically: of two requests with the same token, one wins."""
    row = await peek(token, purposes, field)
    moment = now()
    used = await ActionToken.filter(
        id=row.id, used_at__isnull=True, voided_at__isnull=True, expires_at__gt=moment
    ).update(used_at=moment)
    if used != 1:
        raise RuleError(CoreError.INVALID_TOKEN, field)
    row.used_at = moment
    return row


async def void_outstanding(
    cabinet_id: int,
    purposes: tuple[TokenPurpose, ...] | None = None,
    *,
    keep: int | None = None,
) -> int:
    """Void the cabinet's unused tokens (all purposes but the lasting ones unless given),
    except `keep`. The "this wasn't me" links outlive the changes they report: a change
    made by an intruder must not void the owner's way to undo it."""
    query = ActionToken.filter(cabinet_id=cabinet_id, used_at__isnull=True, voided_at__isnull=True)
    if purposes is not None:
        query = query.filter(purpose__in=list(purposes))
    else:
        query = query.exclude(purpose__in=list(LASTING_PURPOSES))
    if keep is not None:
        query = query.exclude(id=keep)
    return await query.update(voided_at=now())
