"""Resolvers of push devices: thin calls into services.notifications.devices."""

from __future__ import annotations

from typing import Any

import strawberry

from models.push import PushDevice
from resolvers.context import Context
from services.core.ids import decode_id
from services.notifications import devices as device_rules
from services.notifications import preferences as preference_rules
from services.notifications.events import NotificationEvent

Info = strawberry.Info[Context]


async def devices(cabinet_pk: int) -> list[PushDevice]:
    return await device_rules.devices(cabinet_pk)


async def register_push_device(info: Info, input: Any) -> PushDevice:
    """The device, bound to the session making the request."""
    session = await info.context.require_session()
    registration = device_rules.read_registration(
        input.platform, input.token, input.app_version, input.locale
    )
    return await device_rules.register(session, registration)


async def unregister_push_device(info: Info, input: Any) -> None:
    cabinet = await info.context.require_viewer()
    device_id = None
    if input.id is not None:
        device_id = decode_id("PushDevice", input.id) or -1
    await device_rules.unregister(cabinet.id, device_id=device_id, token=input.token)


async def notification_preferences(cabinet_pk: int) -> list[preference_rules.Preference]:
    return await preference_rules.preferences(cabinet_pk)


async def set_notification_preferences(info: Info, input: Any) -> list[preference_rules.Preference]:
    cabinet = await info.context.require_viewer()
    changes = [
        preference_rules.Change(NotificationEvent(p.event), p.email, p.push)
        for p in input.preferences
    ]
    return await preference_rules.set_preferences(cabinet.id, changes)
