"""The push outbox: `queue()` writes one row per live device of a cabinet in the caller's
transaction; the worker (`push.worker`) delivers them later. Operators' counts live here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tortoise.functions import Count

from config import get_settings
from models import sql
from models.push import PushDevice, PushMessage, PushState
from push.content import render


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def queue(
    cabinet_id: int,
    event: str,
    *,
    node_id: str,
    context: Mapping[str, Any],
    key: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Queue push `event` (a template of `mail/templates/push/`) to every device of the
    cabinet whose session is live, in each device's language; returns how many.

    Written on Tortoise's current connection: inside `in_transaction()` the rows commit
    or roll back with the change they announce. `node_id` is the `Node` id of what the
    push is about (the app's deep link); `key` (default `event:node_id`) is unique per
    device, so the same change queued twice reaches a device once."""
    now = now or utcnow()
    idle = dt.timedelta(minutes=get_settings().session_idle_minutes)
    conn = sql.connection()
    devices = await sql.fetch(
        conn,
        "SELECT d.id, d.locale FROM push_device d JOIN session s ON s.id = d.session_id "
        "WHERE d.cabinet_id = ? AND s.revoked_at IS NULL AND s.expires_at > ? "
        "AND s.last_used_at > ? ORDER BY d.id",
        [cabinet_id, now, now - idle],
    )
    texts = {locale: render(event, locale, context) for locale in {d["locale"] for d in devices}}
    key = (key or f"{event}:{node_id}")[:128]
    queued = 0
    for device in devices:
        text = texts[device["locale"]]
        queued += await sql.execute(
            conn,
            "INSERT INTO push_outbox (device_id, key, event, title, body, node_id, state, "
            "attempts, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
            "ON CONFLICT (device_id, key) DO NOTHING",
            [device["id"], key, event, text.title, text.body, node_id, now, now],
        )
    return queued


async def counts() -> dict[PushState, int]:
    """Pushes per state (every state, 0 for none), for `kabinet push status`."""
    rows = await PushMessage.annotate(n=Count("id")).group_by("state").values("state", "n")
    found = {PushState(row["state"]): row["n"] for row in rows}
    return {state: found.get(state, 0) for state in PushState}


async def device_count() -> int:
    return await PushDevice.all().count()
