"""Which events a cabinet wants through which channel (me.notificationPreferences,
setNotificationPreferences). Everything is on until the customer turns it off; security
notices cannot be turned off (SECURITY.md 14-15, 21): an opt-out is a row of
notification_opt_out, so the default needs no row and a new event starts on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models import sql
from models.push import NotificationChannel, NotificationOptOut
from services.core.clock import now
from services.core.errors import RuleError, raise_all
from services.notifications.errors import NotificationError
from services.notifications.events import ALWAYS_ON, CHANNELS, EMAIL, PUSH, NotificationEvent


@dataclass(frozen=True)
class Preference:
    event: NotificationEvent
    email: bool | None  # None: the event is never mailed
    push: bool | None
    always_on: bool


@dataclass(frozen=True)
class Change:
    event: NotificationEvent
    email: bool | None  # None: leave as it is
    push: bool | None


async def wants(cabinet_id: int, event: NotificationEvent, channel: NotificationChannel) -> bool:
    """Whether the cabinet wants `event` through `channel`: rules ask before they send."""
    if event in ALWAYS_ON:
        return True
    off = NotificationOptOut.filter(cabinet_id=cabinet_id, event=event.value, channel=channel)
    return not await off.exists()


async def preferences(cabinet_id: int) -> list[Preference]:
    rows = await NotificationOptOut.filter(cabinet_id=cabinet_id).values_list("event", "channel")
    off = {(event, NotificationChannel(channel)) for event, channel in rows}

    def state(event: NotificationEvent, channel: NotificationChannel) -> bool | None:
        if channel not in CHANNELS[event]:
            return None
        return event in ALWAYS_ON or (event.value, channel) not in off

    return [
        Preference(event, state(event, EMAIL), state(event, PUSH), event in ALWAYS_ON)
        for event in NotificationEvent
    ]


def _check(changes: Sequence[Change]) -> None:
    errors: list[RuleError] = []
    for index, change in enumerate(changes):
        for channel, wanted in ((EMAIL, change.email), (PUSH, change.push)):
            field = ("preferences", str(index), channel.value)
            if wanted is None:
                continue
            if channel not in CHANNELS[change.event]:
                errors.append(RuleError(NotificationError.CHANNEL_NOT_AVAILABLE, field))
            elif not wanted and change.event in ALWAYS_ON:
                errors.append(RuleError(NotificationError.ALWAYS_ON, field))
    raise_all(errors)


async def set_preferences(cabinet_id: int, changes: Sequence[Change]) -> list[Preference]:
    """Apply every change or none (a refused one refuses them all, each error named)."""
    _check(changes)
    moment = now()
    async with in_transaction():
        for change in changes:
            for channel, wanted in ((EMAIL, change.email), (PUSH, change.push)):
                if wanted is None:
                    continue
                if wanted:
                    await NotificationOptOut.filter(
                        cabinet_id=cabinet_id, event=change.event.value, channel=channel
                    ).delete()
                    continue
                await sql.execute(
                    sql.connection(),
                    "INSERT INTO notification_opt_out (cabinet_id, event, channel, created_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (cabinet_id, event, channel) DO NOTHING",
                    [cabinet_id, change.event.value, channel.value, moment],
                )
    return await preferences(cabinet_id)
