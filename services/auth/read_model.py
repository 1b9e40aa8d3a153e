"""Reading the cabinet's security log for the API, paged in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models import sql
from services.core.paging import PageArgs, count, rows_in_order


async def security_events(cabinet_id: int, args: PageArgs) -> list[dict[str, Any]]:
    """Up to `first + 1` events, newest first (the extra one tells a page follows)."""
    clauses, params = ["cabinet_id = ?"], [cabinet_id]
    if args.after is not None:
        clauses.append("(created_at, id) < (?, ?)")
        params.extend(args.after)
    rows = await sql.fetch(
        sql.connection(),
        "SELECT id, kind, ip, user_agent, detail, created_at FROM security_event "  # noqa: S608
        f"WHERE {' AND '.join(clauses)} ORDER BY created_at DESC, id DESC LIMIT ?",
        [*params, args.first + 1],
    )
    return [_event(row) for row in rows]


async def count_security_events(cabinet_id: int) -> int:
    return await count(
        "SELECT count(*) AS n FROM security_event WHERE cabinet_id = ?", [cabinet_id]
    )


async def security_events_by_id(event_ids: Sequence[int]) -> list[dict[str, Any] | None]:
    """Events by id with their `cabinet_id` (the caller shows a cabinet only its own)."""
    return await rows_in_order(
        "SELECT id, cabinet_id, kind, ip, user_agent, detail, created_at "
        "FROM security_event WHERE id IN",
        event_ids,
        _event,
    )


def _event(row: dict[str, Any]) -> dict[str, Any]:
    row["created_at"] = sql.as_datetime(row["created_at"])
    return row
