"""The transactional outbox: `send()` writes a rendered message in the caller's transaction;
the worker (`mail.worker`) delivers it later. Operators' queries live here too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.functions import Count

from config import Settings, get_settings
from mail.compose import Attachment, MailError, compose, render
from models.mail import MailLane, MailState, OutboxMessage

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def send(
    template: str,
    *,
    to: str,
    context: Mapping[str, Any] | None = None,
    language: str = "ru",
    attachments: Sequence[Attachment] = (),
    headers: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    clock: Clock = utcnow,
    lane: MailLane = MailLane.ROUTINE,
) -> OutboxMessage:
    """Render message `template` for `to` and put it in the outbox.

    The row is written on Tortoise's current connection: inside `in_transaction()` it
    commits or rolls back with the caller's change, so a message exists if and only if
    the change it announces was committed. Raises `MailError` on bad input (unknown
    template, missing context variable, malformed address, header or attachment).
    `lane`: SECURITY for links to act on and security notices, which workers claim
    before any ROUTINE mail.
    """
    settings = settings or get_settings()
    if context is not None and not isinstance(context, Mapping):
        raise MailError("context: expected a mapping of template variables")
    rendered = render(template, context or {}, language, settings.public_web_url)
    now = clock()
    message = compose(
        rendered,
        sender=settings.mail_from,
        to=to,
        date=now,
        attachments=attachments,
        headers=headers,
    )
    return await OutboxMessage.create(
        message_id=message.message_id,
        template=template,
        language=message.language,
        recipient=message.recipient,
        subject=message.subject[:255],
        content=message.content,
        state=MailState.PENDING,
        lane=lane,
        due_at=now,
        created_at=now,
    )


# ---------------------------------------------------------------- operators


@dataclass(frozen=True)
class QueueStatus:
    counts: dict[MailState, int]
    oldest_unsent: OutboxMessage | None

    def lines(self, now: dt.datetime) -> list[str]:
        lines = [f"{state.value:<8} {self.counts.get(state, 0):>9,}" for state in MailState]
        oldest = self.oldest_unsent
        if oldest is None:
            lines.append("nothing waiting to be sent")
            return lines
        age = format_age(now - oldest.created_at)
        lines.append(
            f"oldest unsent: #{oldest.id} to {oldest.recipient}, {age} old, "
            f"{oldest.state.value}, {oldest.attempts} attempt(s)"
            + (f", last error: {oldest.last_error}" if oldest.last_error else "")
        )
        return lines


def format_age(age: dt.timedelta) -> str:
    seconds = max(int(age.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


async def queue_status() -> QueueStatus:
    """Messages per state and the oldest one not yet sent (pending or being sent)."""
    rows = await OutboxMessage.annotate(n=Count("id")).group_by("state").values("state", "n")
    counts = {MailState(row["state"]): row["n"] for row in rows}
    unsent = OutboxMessage.filter(state__in=[MailState.PENDING, MailState.SENDING])
    return QueueStatus(counts, await unsent.order_by("id").first())


class RequeueRefused(Exception):
    """A message that `mail retry` cannot requeue: the text says why."""


async def requeue(message_id: int, clock: Clock = utcnow) -> None:
    """Make a failed (or waiting) message due now, with a fresh allowance of attempts."""
    message = await OutboxMessage.get_or_none(id=message_id)
    if message is None:
        raise RequeueRefused(f"no message #{message_id} in the outbox")
    if message.state not in (MailState.FAILED, MailState.PENDING):
        raise RequeueRefused(
            f"message #{message_id} is {message.state.value}, only failed or pending "
            "messages are requeued"
        )
    if not message.content:
        raise RequeueRefused(
            f"message #{message_id} is older than MAIL_BODY_RETENTION_DAYS: its content was "
            "emptied, there is nothing left to send"
        )
    await (
        OutboxMessage.filter(id=message_id, state__in=[MailState.FAILED, MailState.PENDING])
        .exclude(content=b"")
        .update(state=MailState.PENDING, due_at=clock(), attempts=0)
    )


async def requeue_failed(clock: Clock = utcnow) -> int:
    """Requeue every failed message that still has its content (the retention job empties
    it after MAIL_BODY_RETENTION_DAYS); returns how many."""
    return (
        await OutboxMessage.filter(state=MailState.FAILED)
        .exclude(content=b"")
        .update(state=MailState.PENDING, due_at=clock(), attempts=0)
    )
