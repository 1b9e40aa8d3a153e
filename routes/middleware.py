"""The ASGI middlewares every request passes through, outermost first (`middleware_stack`):
the trusted proxy's client address, the request context (id, security headers, access log,
metrics), CORS, the rate limit, the body size limit and the answer when the database is
away."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse

from config import Settings
from models import db
from routes import cors
from routes.client_address import ClientAddress
from routes.compression import Compression
from routes.rate_limit import RateLimit
from routes.tracing import middleware as tracing_middleware
from schema.http import unavailable_response
from services.core import telemetry

log = logging.getLogger("kabinet")
access = logging.getLogger("kabinet.access")
CLIENT_CLOSED_REQUEST = 499  # what the access log and the metrics say of a client that left
# Routes that stream their body and cut it at a limit of their own (a photo: to disk, at
# ATTACHMENT_MAX_BYTES, with a typed 413 of its own): MAX_REQUEST_BYTES is not theirs.
OWN_BODY_LIMIT = ("/attachments",)


def middleware_stack(settings: Settings) -> list[Middleware]:
    """Every middleware of the app, the outermost first."""
    cors_origins = [settings.public_web_url.rstrip("/")] + [
        o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()
    ]
    return [
        # The client address that limits and audits use: the socket peer, or the
        # X-Forwarded-For a *trusted* proxy sets - never one a client picks itself.
        Middleware(ClientAddress, trusted_hosts=settings.forwarded_allow_ips),
        *tracing_middleware(),  # a span per request, when tracing is on (routes/tracing.py)
        Middleware(RequestContext, settings=settings),
        Middleware(Compression, settings=settings),  # br/gzip of every answer within
        Middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=cors.allowed_headers(settings),
            expose_headers=[
                "X-Request-ID",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "Retry-After",
            ],
            max_age=600,
        ),
        Middleware(RateLimit, settings=settings),
        Middleware(BodyLimit, limit=settings.max_request_bytes, exempt=OWN_BODY_LIMIT),
        Middleware(DatabaseAway),
    ]


class RequestContext:
    """Outermost middleware: a request id (X-Request-ID, also in every log line), the
    security headers every response carries, an access log line and the HTTP metrics."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        hsts = settings.public_web_url.startswith("https://")
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-site"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if hsts:
            self.headers.append(
                (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
            )
        self.default_csp = (
            b"content-security-policy",
            b"default-src 'none'; frame-ancestors 'none'",
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = telemetry.new_request_id(incoming)
        token = telemetry.request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in self.headers if n not in present]
                if self.default_csp[0] not in present:
                    headers.append(self.default_csp)
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except ClientDisconnect:
            # The client left before it had sent its request (it gave up waiting, the app
            # was closed): nobody to answer, and nothing went wrong here. 499 as nginx says.
            status = CLIENT_CLOSED_REQUEST
        finally:
            elapsed = time.perf_counter() - started
            route = "/" + scope["path"].strip("/").split("/", 1)[0]
            telemetry.REQUESTS.labels(route, scope["method"], str(status)).inc()
            telemetry.LATENCY.labels(route).observe(elapsed)
            access.info(
                "%s %s %s %.1f ms",
                scope["method"],
                scope["path"],
                status,
                elapsed * 1000,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
            telemetry.request_id.reset(token)


class BodyLimit:
    """No request body larger than `limit` bytes reaches a route (413), whatever its
    Content-Length claims: the stream is cut as it arrives, never read whole first."""

    def __init__(self, app: Any, limit: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        response = JSONResponse(
            {
                "errors": [
                    {
                        "message": f"The request body is larger than {self.limit} bytes.",
                        "extensions": {"code": "TOO_LARGE"},
                    }
                ]
            },
            status_code=413,
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class DatabaseAway:
    """A request that finds the database unreachable (a restart, a failover, no
    connections left) answers 503 with Retry-After - on every route, the GraphQL
    endpoint's own work before and after execution included - never a 500 with a
    traceback. Nothing needs restarting afterwards: the pool reconnects on its own."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            cause = db.outage_cause(exc)
            if cause is None or started:
                raise
            log.warning("database unavailable: %s", db.describe_outage(cause))
            await unavailable_response()(scope, receive, send)
