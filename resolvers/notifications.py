"""Resolvers of push devices: thin calls into services.notifications.devices."""

from __future__ import annotations

from typing import Any

import strawberry

from models.push import PushDevice
from resolvers.context import Context
from services.core.ids import decode_id
from services.notifications import devices as device_rules

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
