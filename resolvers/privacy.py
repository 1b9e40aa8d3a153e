"""Resolvers of the cabinet's personal-data requests: thin calls into services.privacy."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.context import Context
from services.privacy import deletion, export

Info = strawberry.Info[Context]


async def pending_deletion(cabinet_pk: int) -> deletion.PendingDeletion | None:
    return await deletion.pending(cabinet_pk)


async def delete_cabinet(info: Info, input: Any) -> deletion.PendingDeletion:
    """Every session of the cabinet has ended, this one too: its cookie goes."""
    ctx = info.context
    cabinet = await ctx.require_viewer()
    pending = await deletion.request(cabinet, input.password, ctx.client, ctx.device())
    ctx.end_session_cookie()
    return pending


async def cancel_cabinet_deletion(info: Info) -> Any:
    """The cabinet, kept."""
    cabinet = await info.context.require_viewer()
    await deletion.cancel(cabinet)
    return cabinet


async def request_data_export(info: Info) -> export.Requested:
    cabinet = await info.context.require_viewer()
    return await export.request(cabinet)
