"""The cabinet's security log (`me.securityEvents`)."""

from __future__ import annotations

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
