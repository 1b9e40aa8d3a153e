"""The probes a load balancer asks (`/healthz`, `/readyz`) and Prometheus' `/metrics`."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models import sql
from services.core import telemetry

log = logging.getLogger("kabinet")


async def metrics(request: Request) -> Response:
    """Prometheus metrics; with METRICS_TOKEN set, only for `Authorization: Bearer` it."""
    settings = request.app.state.settings
    if settings.metrics_token:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(presented.encode(), settings.metrics_token.encode()):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    await _refresh_gauges()
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(telemetry.render_metrics(), media_type=CONTENT_TYPE_LATEST)


async def _refresh_gauges() -> None:
    from mail import outbox
    from models.mail import MailState

    try:
        status = await outbox.queue_status()
    except Exception:
        return
    for state in MailState:
        telemetry.OUTBOX_DEPTH.labels(state.value).set(status.counts.get(state, 0))
    oldest = status.oldest_unsent
    age = (dt.datetime.now(dt.UTC) - oldest.created_at).total_seconds() if oldest else 0
    telemetry.OUTBOX_AGE.set(max(age, 0))
    await _pool_gauges()


async def _pool_gauges() -> None:
    """This process's database pool (PostgreSQL; SQLite has one connection, no pool)."""
    pool = getattr(sql.connection(), "_pool", None)
    if pool is not None:
        telemetry.DB_POOL.labels("open").set(pool.get_size())
        telemetry.DB_POOL.labels("idle").set(pool.get_idle_size())


async def healthz(_request: Request) -> Response:
    """The process is alive and serving."""
    return JSONResponse({"status": "ok"})


async def readyz(_request: Request) -> Response:
    """The process can reach its database; a load balancer sends traffic only then."""
    try:
        async with asyncio.timeout(2):
            await sql.fetch(sql.connection(), "SELECT 1 AS ok")
    except Exception as exc:
        log.warning("readiness check failed: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ok", "database": "ok"})
