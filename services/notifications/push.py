"""The events the apps are told about by push, each with the `Node` id of what it is about
(the app's deep link). Call these inside the transaction of the change they announce: the
pushes are written to the outbox with it (push.outbox), one per device of the cabinet
whose session is live, and delivered by the push worker."""

from __future__ import annotations

from enum import StrEnum

from push.outbox import queue
from services.core.clock import now


class PushEvent(StrEnum):
    """The events, and the names of their templates in mail/templates/push/."""

    PAYMENT_SUCCEEDED = "payment_succeeded"  # an online payment went through
    PAYMENT_FAILED = "payment_failed"  # it failed or was canceled at the acquirer
    QUESTION_ANSWERED = "question_answered"  # a specialist answered a question
    NEW_LOGIN = "new_login"  # a login from a device the cabinet has not seen (security)
    EMAIL_CHANGED = "email_changed"  # the cabinet moved to another address (security)


async def announce(
    cabinet_id: int, event: PushEvent, *, node_id: str, key: str | None = None, **context: object
) -> int:
    """Queue `event` to the cabinet's devices; returns how many pushes were queued.
    `key` tells apart several pushes of one event about one object (two answers to one
    question); by default the event and the object make it, so a repeat is not sent."""
    return await queue(
        cabinet_id, event.value, node_id=node_id, key=key, context=context, now=now()
    )
