"""The cabinet's security log (`me.securityEvents`)."""

from __future__ import annotations

from models import sql
from models.auth import SecurityEvent, SecurityEventKind
from services.core.clock import now
from services.security.sessions import Client


async def record(
    cabinet_id: int, kind: SecurityEventKind, client: Client, detail: str = ""
) -> SecurityEvent:
    return await SecurityEvent.create(
        cabinet_id=cabinet_id,
        kind=kind,
        ip=client.ip[:64],
        user_agent=client.user_agent[:300],
        detail=detail[:300],
        created_at=now(),
    )


async def record_if_cabinet(
    cabinet_id: int, kind: SecurityEventKind, client: Client, detail: str = ""
) -> None:
    """As `record`, in one INSERT ... SELECT that writes nothing when there is no cabinet
    `cabinet_id` (0 for none): the same statement whether or not an address has one."""
    created_at = SecurityEvent._meta.fields_map["created_at"].to_db_value(now(), None)
    await sql.execute(
        sql.connection(),
        "INSERT INTO security_event (cabinet_id, kind, ip, user_agent, detail, created_at) "
        "SELECT id, ?, ?, ?, ?, ? FROM cabinet WHERE id = ?",
        [kind.value, client.ip[:64], client.user_agent[:300], detail[:300], created_at, cabinet_id],
    )
