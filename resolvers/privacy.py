"""Resolvers of the personal-data notice and the cabinet's personal-data requests: thin calls
into services.privacy."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.context import Context
from services.auth import consent
from services.privacy import deletion, export

Info = strawberry.Info[Context]


async def current_notice(info: Info) -> consent.Notice:
    """The notice as the viewer stands with it; nobody logged in has accepted nothing."""
    viewer = await info.context.viewer()
    found = consent.notice(viewer) if viewer is not None else None
    return found or consent.Notice(consent.current_version(), consent.notice_url(), None, None)


async def privacy_notice(info: Info, cabinet_pk: int) -> consent.Notice | None:
    """The notice as the viewer (who must be the cabinet `cabinet_pk`) stands with it."""
    viewer = await info.context.require_viewer()
    if viewer.id != cabinet_pk:
        return None
    return consent.notice(viewer)


async def accept_privacy_notice(info: Info, input: Any) -> consent.Notice | None:
    ctx = info.context
    cabinet = await ctx.require_viewer()
    await consent.accept(cabinet, input.version, ctx.client)
    return consent.notice(cabinet)


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
