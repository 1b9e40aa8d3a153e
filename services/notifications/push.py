"""The events the apps are told about by push, each with the `Node` id of what it is about
(the app's deep link). Call these inside the transaction of the change they announce: the
pushes are written to the outbox with it (push.outbox), one per device of the cabinet
whose session is live, and delivered by the push worker."""

from __future__ import annotations

from models.push import NotificationChannel
from push.outbox import queue
from services.core.clock import now
from services.notifications.events import NotificationEvent
from services.notifications.preferences import wants


async def announce(
    cabinet_id: int,
    event: NotificationEvent,
    *,
    node_id: str,
    key: str | None = None,
    **context: object,
) -> int:
    """Queue `event` to the cabinet's devices, unless it turned the event's pushes off
    (me.notificationPreferences); returns how many pushes were queued.
    `key` tells apart several pushes of one event about one object (two answers to one
    question); by default the event and the object make it, so a repeat is not sent."""
    if not await wants(cabinet_id, event, NotificationChannel.PUSH):
        return 0
    return await queue(
        cabinet_id, event.value, node_id=node_id, key=key, context=context, now=now()
    )
