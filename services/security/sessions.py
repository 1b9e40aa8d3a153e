"""Server-side sessions (SECURITY.md 12): 256-bit tokens, stored hashed, listable, revocable."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from tortoise.transactions import in_transaction

from config import get_settings
from models import sql
from models.auth import Session
from models.cabinets import Cabinet
from models.push import PushDevice
from services.core import live
from services.core.clock import now
from services.core.throttle import client_key

TOUCH_EVERY = dt.timedelta(minutes=1)  # last-use writes at most once a minute per session


@dataclass(frozen=True)
class Client:
    """Who is asking: the socket peer (or a trusted proxy's X-Forwarded-For) and agent.
    `limit_key` is what every per-client throttle counts under (`client_key`: an IPv6
    client by its /64); `ip` is the address itself, for audits and session lists."""

    ip: str = ""
    user_agent: str = ""
    limit_key: str = ""

    def __post_init__(self) -> None:
        if not self.limit_key:
            object.__setattr__(self, "limit_key", client_key(self.ip))


class Dead(StrEnum):
    """Why a presented token is no live session (`extensions.reason` of UNAUTHENTICATED)."""

    EXPIRED = "EXPIRED"  # its idle or absolute time ran out
    REVOKED = "REVOKED"  # ended: logout, "end this session", a new password, a frozen cabinet
    INVALID = "INVALID"  # no session ever had it: damaged, made up, or long deleted


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create(cabinet: Cabinet, client: Client) -> tuple[str, Session]:
    settings = get_settings()
    token = secrets.token_urlsafe(32)
    moment = now()
    session = await Session.create(
        cabinet=cabinet,
        token_hash=hash_token(token),
        created_at=moment,
        last_used_at=moment,
        expires_at=moment + dt.timedelta(days=settings.session_absolute_days),
        ip=client.ip[:64],
        user_agent=client.user_agent[:300],
    )
    return token, session


def idle_deadline(session: Session) -> dt.datetime:
    return session.last_used_at + dt.timedelta(minutes=get_settings().session_idle_minutes)


def expires_at(session: Session) -> dt.datetime:
    """When the session ends if unused: the sooner of the idle and the absolute limit."""
    return min(idle_deadline(session), session.expires_at)


async def authenticate(token: str) -> Session | None:
    """The live session behind a token, with its cabinet loaded; touches last use."""
    found = await check(token)
    return found if isinstance(found, Session) else None


@functools.cache
def _check_query() -> str:
    """`check`'s statement, written once, not on every request."""
    session_columns = sql.columns(Session, "s", "s_")[0]
    cabinet_columns = sql.columns(Cabinet, "c", "c_")[0]
    return (
        f"SELECT {session_columns}, {cabinet_columns} "  # noqa: S608 - the models' columns
        "FROM session s JOIN cabinet c ON c.id = s.cabinet_id WHERE s.token_hash = ?"
    )


async def check(token: str) -> Session | Dead:
    """The live session behind a token, with its cabinet loaded (and its last use
    touched), or why there is none.

    Every request with a token runs this, so it is one plain query building both
    objects, without the ORM's query construction."""
    if not token or len(token) > 200:
        return Dead.INVALID
    row = await sql.fetch_one(sql.connection(), _check_query(), [hash_token(token)])
    if row is None:
        return Dead.INVALID
    session = sql.instance_of(Session, row, "s_")
    session.cabinet = sql.instance_of(Cabinet, row, "c_")
    if session.revoked_at is not None or session.cabinet.disabled_at is not None:
        return Dead.REVOKED
    moment = now()
    if session.expires_at <= moment or idle_deadline(session) <= moment:
        return Dead.EXPIRED
    if moment - session.last_used_at >= TOUCH_EVERY:
        session.last_used_at = moment
        await Session.filter(id=session.id).update(last_used_at=moment)
    return session


async def active(cabinet_id: int) -> list[Session]:
    moment = now()
    idle = dt.timedelta(minutes=get_settings().session_idle_minutes)
    return (
        await Session.filter(
            cabinet_id=cabinet_id,
            revoked_at__isnull=True,
            expires_at__gt=moment,
            last_used_at__gt=moment - idle,
        )
        .order_by("-last_used_at")
        .all()
    )


async def revoke(cabinet_id: int, session_id: int) -> bool:
    """End one session, and with it the push devices it registered. Every path that ends
    sessions comes through here or `revoke_all`, so none leaves a device behind."""
    async with in_transaction():
        await PushDevice.filter(cabinet_id=cabinet_id, session_id=session_id).delete()
        updated = await Session.filter(
            id=session_id, cabinet_id=cabinet_id, revoked_at__isnull=True
        ).update(revoked_at=now())
        await live.publish("cabinet", cabinet_id)  # its open sockets check their session
    return updated == 1


async def revoke_all(cabinet_id: int, *, keep: int | None = None) -> int:
    """End every session of the cabinet (but `keep`), and their push devices."""
    query = Session.filter(cabinet_id=cabinet_id, revoked_at__isnull=True)
    devices = PushDevice.filter(cabinet_id=cabinet_id)
    if keep is not None:
        query = query.exclude(id=keep)
        devices = devices.exclude(session_id=keep)
    async with in_transaction():
        await devices.delete()
        await live.publish("cabinet", cabinet_id)  # its open sockets check their session
        return await query.update(revoked_at=now())


async def still_live(session_id: int) -> Dead | None:
    """Why a session that was live has ended since (None while it lives), without
    touching its last use: an open WebSocket checks with this, and a socket left open is
    no use of the session that would keep it from ending idle."""
    session = await Session.get_or_none(id=session_id).select_related("cabinet")
    if session is None or session.revoked_at is not None:
        return Dead.REVOKED
    if session.cabinet.disabled_at is not None:
        return Dead.REVOKED
    moment = now()
    if session.expires_at <= moment or idle_deadline(session) <= moment:
        return Dead.EXPIRED
    return None
