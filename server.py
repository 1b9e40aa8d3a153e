"""kabinet: the Starlette application and the command line (`kabinet` / `python server.py`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import hmac
import logging
import os
import shutil
import sys
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from config import ConfigError, Settings, get_settings, use_settings
from mail.worker import running_worker
from models import db, sql
from payments.providers import ProviderError, provider_for
from payments.webhook import webhook_endpoint
from routes import attachments as attachment_routes
from routes import ereceipt, receipts, web
from schema.context import Context
from schema.http import GraphQLEndpoint, unavailable_response
from schema.root import build_schema
from services.core import telemetry
from services.core.background import every, running_loop
from services.ereceipts.dispatch import Dispatcher
from services.payments.sweeper import running_sweeper

log = logging.getLogger("kabinet")
access = logging.getLogger("kabinet.access")
# Routes that stream their body and cut it at a limit of their own (a photo: to disk, at
# ATTACHMENT_MAX_BYTES, with a typed 413 of its own): MAX_REQUEST_BYTES is not theirs.
OWN_BODY_LIMIT = ("/attachments",)
CLIENT_CLOSED_REQUEST = 499  # what the access log and the metrics say of a client that left


# ---------------------------------------------------------------- the web application


async def graphql_context(request: Request, response: Response) -> Context:
    return Context.for_request(request, response, request.app.state.settings)


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


class RateLimit:
    """A token bucket per client IP in each process: RATE_LIMIT_PER_MINUTE requests,
    refilled evenly; past it 429 with Retry-After. Every answer carries the RateLimit-*
    headers, and `rateLimit` in the API reads the same bucket."""

    EXEMPT = ("/healthz", "/readyz", "/metrics")
    MAX_CLIENTS = 100_000

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.limit = settings.rate_limit_per_minute
        self.per_second = self.limit / 60
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str, now: float) -> tuple[bool, float]:
        """(allowed, tokens left) after taking one for `client`."""
        tokens, last = self.buckets.pop(client, (float(self.limit), now))
        tokens = min(float(self.limit), tokens + (now - last) * self.per_second)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self.buckets[client] = (tokens, now)
        if len(self.buckets) > self.MAX_CLIENTS:
            self.buckets.popitem(last=False)
        return allowed, tokens

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.limit <= 0 or scope["path"] in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        allowed, tokens = self.take((scope.get("client") or ("", 0))[0], now)
        full_in = (self.limit - tokens) / self.per_second
        state = {
            "limit": self.limit,
            "remaining": int(tokens),
            "reset_at": dt.datetime.now(dt.UTC) + dt.timedelta(seconds=full_in),
        }
        scope.setdefault("state", {})["rate_limit"] = state
        headers = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(int(tokens)).encode()),
            (b"ratelimit-reset", str(int(full_in + 0.999)).encode()),
        ]
        if not allowed:
            telemetry.RATE_LIMITED.inc()
            wait = int((1 - tokens) / self.per_second + 0.999) or 1
            response = JSONResponse(
                {
                    "errors": [
                        {
                            "message": "Too many requests: slow down and retry later.",
                            "extensions": {"code": "RATE_LIMITED", "retryAfter": wait},
                        }
                    ]
                },
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
            response.raw_headers.extend(headers)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


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


def payment_routes(settings: Settings) -> list[Route]:
    """The acquirers' webhook, and the pages the configured acquirer serves (the sandbox's)."""
    routes = [Route("/payments/webhook/{provider}", webhook_endpoint(settings), methods=["POST"])]
    try:
        routes += provider_for(settings).routes()
    except ProviderError as exc:  # settings built by hand; load_settings refuses this
        log.warning("payments are off: %s", exc)
    return routes


async def _clean_attachments() -> None:
    """Uploads no message used are deleted once an hour by every server process (the
    deletion is idempotent); `kabinet attachments cleanup` does the same on demand."""
    from services.questions import attachments

    cleaned = await attachments.cleanup()
    if cleaned.uploads or cleaned.temporary_files:
        log.info(
            "attachments cleanup: %d upload(s), %d temporary file(s) deleted",
            cleaned.uploads,
            cleaned.temporary_files,
        )


def create_app(
    settings: Settings | None = None,
    *,
    manage_db: bool = True,
    mail_worker: bool | None = None,
    payment_sweeper: bool | None = None,
) -> Starlette:
    """The ASGI app. With `manage_db` the lifespan opens and closes the database;
    tests that already hold a connection pass False. The lifespan also runs the outbox
    worker and the e-receipt dispatcher when `mail_worker` says so; by default when it
    manages the database and MAIL_WORKER_IN_PROCESS is true (tests drive delivery
    themselves). Likewise the sweeper of stale payments (`payment_sweeper`), by default
    when it manages the database."""
    settings = settings or get_settings()
    if mail_worker is None:
        mail_worker = manage_db and settings.mail_worker_in_process
    if payment_sweeper is None:
        payment_sweeper = manage_db

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if manage_db:
                await db.open_db(settings.database_url, share_across_tasks=True)
                stack.push_async_callback(db.close_db)
            if mail_worker:
                app.state.mail_worker = await stack.enter_async_context(running_worker(settings))
                app.state.ereceipt_dispatcher = await stack.enter_async_context(
                    running_loop("ereceipt-dispatcher", Dispatcher(settings).run)
                )
            if payment_sweeper:
                app.state.payment_sweeper = await stack.enter_async_context(
                    running_sweeper(settings)
                )
            if manage_db:
                await stack.enter_async_context(
                    every("attachments cleanup", 3600, _clean_attachments)
                )
            # Everything loaded so far (modules, the schema, the ORM's metadata) lives as
            # long as the process: keep it out of the collector's sight, so a full
            # collection scans only what requests allocate and never stalls the loop.
            gc.collect()
            gc.freeze()
            yield

    graphql = GraphQLEndpoint(build_schema(settings), settings, graphql_context)
    cors_origins = [settings.public_web_url.rstrip("/")] + [
        o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()
    ]
    app = Starlette(
        routes=[
            Route("/graphql", graphql.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/receipts/{receipt_id}.pdf", receipts.receipt_pdf, methods=["GET"]),
            Route("/ereceipt/confirm", ereceipt.confirm, methods=["GET", "POST"]),
            Route("/ereceipt/unsubscribe", ereceipt.unsubscribe, methods=["GET", "POST"]),
            *payment_routes(settings),
            Route("/attachments", attachment_routes.upload, methods=["POST"]),
            Route("/attachments/{id}", attachment_routes.download, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            # the web client last: its pages answer only what no route above took
            *web.routes(),
        ],
        middleware=[
            # The client address that limits and audits use: the socket peer, or the
            # X-Forwarded-For a *trusted* proxy sets - never one a client picks itself.
            Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips),
            Middleware(RequestContext, settings=settings),
            Middleware(
                CORSMiddleware,
                allow_origins=cors_origins,
                allow_credentials=True,
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type", "Authorization", "X-Request-ID"],
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
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.mail_worker = None  # the worker's task while the lifespan runs one
    app.state.ereceipt_dispatcher = None  # likewise, the e-receipt dispatcher's
    app.state.payment_sweeper = None  # likewise the sweeper of stale payments
    return app


def app_factory() -> Starlette:
    """Entry for `uvicorn --factory server:app_factory` and each of `serve`'s workers."""
    settings = get_settings()
    telemetry.configure_logging(
        settings.log_level, settings.log_style, production=settings.is_production
    )
    return create_app(settings)


# ---------------------------------------------------------------- the command line


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts in files of its own there and /metrics sums them all; the
        # directory must start empty, and must be set before the workers import the
        # metrics (they inherit the environment).
        shared = settings.var_path / "metrics"
        shutil.rmtree(shared, ignore_errors=True)
        shared.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared)

    uvicorn.run(
        "server:app_factory",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        proxy_headers=False,  # the app applies FORWARDED_ALLOW_IPS itself (create_app)
        log_level=settings.log_level,
        log_config=None,  # keep kabinet's JSON logging (app_factory configures it)
        access_log=False,  # RequestContext logs each request, with its id
        timeout_graceful_shutdown=15,
        server_header=False,
    )
    return 0


async def _migrate(settings: Settings) -> int:
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")
            print(f"applied {app_label}.{name}")

    if await db.ensure_database(settings.database_url):
        print("created the database")
    await db.apply_migrations(settings.database_url, progress=progress)
    await db.close_db()
    print(f"database is up to date ({len(applied)} migration(s) applied)")
    return 0


class ProgressBar:
    """A one-line progress bar on a terminal; silent when stderr is not a terminal."""

    def __init__(self, total_bytes: int, label: str) -> None:
        self.total = max(total_bytes, 1)
        self.label = label
        self.enabled = sys.stderr.isatty()

    def __call__(self, done_bytes: int, rows: int) -> None:
        if not self.enabled:
            return
        share = min(done_bytes / self.total, 1.0)
        filled = int(share * 30)
        sys.stderr.write(
            f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {share:6.1%} {rows:,} rows"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


async def _import(settings: Settings, kind: str, path: Path, size: int) -> int:
    from services.billing import importer as billing_import

    bar = ProgressBar(size, kind)
    await db.open_db(settings.database_url)
    try:
        summary = await billing_import.import_file(
            kind, path, tz=ZoneInfo(settings.timezone), progress=bar
        )
    except billing_import.ImportFailed as failure:
        bar.close()
        print(f"{path}: rejected, nothing was imported", file=sys.stderr)
        for error in failure.errors:
            print(f"{path}:{error.line}: {error.message}", file=sys.stderr)
        return 1
    finally:
        await db.close_db()
    bar.close()
    print(summary.line())
    return 0


async def _seed_demo(settings: Settings, if_empty: bool) -> int:
    from models.accounts import Account
    from services.ops import demo

    await db.open_db(settings.database_url)
    try:
        if if_empty and await Account.exists():
            print("the database holds accounts already; demo data not loaded")
            return 0
        today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
        for summary in await demo.seed(today, ZoneInfo(settings.timezone)):
            print(summary.line())
        for email in await demo.seed_cabinets():
            print(f"cabinet {email} created (password {demo.DEMO_PASSWORD})")
        if specialist := await demo.seed_specialist():
            print(f"specialist {specialist} created (password {demo.DEMO_PASSWORD})")
    finally:
        await db.close_db()
    print("\nDemo accounts (number, holder, proof of ownership, cabinet):")
    for number, holder, proof, cabinet in demo.describe():
        print(f"  {number}  {holder:<30} {proof:<40} {cabinet}")
    print(f"\nDemo cabinets log in with the password {demo.DEMO_PASSWORD}")
    return 0


async def _worker(settings: Settings) -> int:
    import signal

    from mail.worker import MailWorker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await db.open_db(settings.database_url)
    try:
        # The e-receipt dispatcher fills the outbox with rendered bills; the mail
        # worker empties it. Both stop at SIGTERM after the batch in hand.
        await asyncio.gather(MailWorker(settings).run(stop), Dispatcher(settings).run(stop))
    finally:
        await db.close_db()
    return 0


async def _mail(settings: Settings, args: argparse.Namespace) -> int:
    from mail import outbox

    await db.open_db(settings.database_url)
    try:
        if args.mail_command == "status":
            status = await outbox.queue_status()
            print("\n".join(status.lines(outbox.utcnow())))
            return 0
        if args.failed:
            print(f"requeued {await outbox.requeue_failed()} failed message(s)")
            return 0
        for message_id in args.ids:
            await outbox.requeue(message_id)
            print(f"requeued #{message_id}")
        return 0
    except outbox.RequeueRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 1
    finally:
        await db.close_db()


def _date_argument(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


async def _export(settings: Settings, since: dt.date, path: Path) -> int:
    from services.readings.rules import export_customer_readings

    await db.open_db(settings.database_url)
    try:
        if str(path) == "-":
            count = await export_customer_readings(since, sys.stdout)
        else:
            # The file is written as rows stream in; the CLI does nothing else meanwhile.
            with open(path, "w", encoding="utf-8", newline="") as out:  # noqa: ASYNC230
                count = await export_customer_readings(since, out)
    finally:
        await db.close_db()
    where = "standard output" if str(path) == "-" else str(path)
    print(
        f"readings: {count} rows taken since {since.isoformat()} written to {where}",
        file=sys.stderr,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kabinet", description="kabinet: the customer cabinet API server"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the API (the default command)")
    serve.add_argument("--host", help="address to listen on (default: HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")

    commands.add_parser("migrate", help="apply database migrations")

    imp = commands.add_parser("import", help="import a CSV export of the billing system")
    imp.add_argument("kind", choices=["accounts", "meters", "readings", "payments", "receipts"])
    imp.add_argument("file", type=Path)

    export = commands.add_parser("export", help="export data for the billing system (CSV)")
    export.add_argument("kind", choices=["readings"])
    export.add_argument(
        "--since",
        required=True,
        type=_date_argument,
        metavar="DATE",
        help="readings taken on or after this date (YYYY-MM-DD)",
    )
    export.add_argument("file", type=Path, help="CSV file to write (`-`: standard output)")

    seed = commands.add_parser("seed-demo", help="load the demo accounts (idempotent)")
    seed.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database has accounts"
    )

    commands.add_parser(
        "worker", help="deliver the outbox's mail and the e-receipts until stopped (SIGTERM)"
    )

    mail = commands.add_parser("mail", help="look at and requeue outgoing mail")
    mail_commands = mail.add_subparsers(dest="mail_command", metavar="ACTION", required=True)
    mail_commands.add_parser("status", help="messages per state, the oldest unsent one")
    retry = mail_commands.add_parser("retry", help="requeue failed messages")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("ids", nargs="*", type=int, default=[], metavar="ID", help="outbox ids")
    which.add_argument("--failed", action="store_true", help="every failed message")

    staff = commands.add_parser("staff", help="the company's specialists who answer questions")
    staff_commands = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    add = staff_commands.add_parser(
        "add", help="create a specialist (or renew one's link) and print a set-password link"
    )
    add.add_argument("email", help="the specialist's login")
    add.add_argument("--name", help="the display name customers see, e.g. 'Ольга Смирнова'")
    remove = staff_commands.add_parser(
        "remove",
        help="close a specialist's cabinet: sessions end, login fails, questions go back "
        "to the queue (`staff add` brings them back)",
    )
    remove.add_argument("email", help="the specialist's login")
    staff_commands.add_parser("list", help="every specialist, removed ones marked")

    attachments = commands.add_parser("attachments", help="customers' uploaded photos")
    attachment_commands = attachments.add_subparsers(
        dest="attachments_command", metavar="ACTION", required=True
    )
    attachment_commands.add_parser(
        "cleanup", help="delete uploads no message used within ATTACHMENT_PENDING_HOURS"
    )
    commands.add_parser("check", help="validate the configuration of a production deployment")
    commands.add_parser("schema", help="print the GraphQL schema (SDL), as schema.graphql holds it")

    recovery = commands.add_parser("recovery", help="support staff's view of recoveries")
    recovery_commands = recovery.add_subparsers(dest="recovery_command", required=True)
    log = recovery_commands.add_parser(
        "log", help="every proof attempt on an account and what recoveries did"
    )
    log.add_argument("account", help="account number")
    return parser


async def _check(settings: Settings) -> int:
    from services.ops import check

    found = check.check_settings(settings)
    await check.check_database(settings, found)
    for text in found.problems:
        print(f"problem: {text}")
    for text in found.warnings:
        print(f"warning: {text}")
    if found.problems:
        print(f"{len(found.problems)} problem(s): not ready for production")
        return 1
    print(
        "ready for production" + (f" ({len(found.warnings)} warning(s))" if found.warnings else "")
    )
    return 0


def _print_schema() -> int:
    from schema.root import schema

    sys.stdout.write(str(schema) + "\n")
    return 0


async def _recovery_log(settings: Settings, account: str) -> int:
    from services.core.errors import RuleError
    from services.recovery import rules as recovery

    await db.open_db(settings.database_url)
    try:
        entries = await recovery.audit_log(account)
    except RuleError:
        print(f"error: {account!r} is not an account number", file=sys.stderr)
        return 2
    finally:
        await db.close_db()
    zone = ZoneInfo(settings.timezone)
    if not entries:
        print(f"no attempts on account {account}")
    for entry in entries:
        when = entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{when}  {entry.what:<30} {entry.outcome:<42} {entry.ip:<15} {entry.user_agent}")
    return 0


async def _staff(settings: Settings, args: argparse.Namespace) -> int:
    from services.core.errors import RuleError
    from services.core.messages import message_for
    from services.staff import specialists as staff

    await db.open_db(settings.database_url)
    try:
        if args.staff_command == "list":
            for cabinet in await staff.specialists(removed_too=True):
                removed = "  (removed)" if cabinet.disabled_at else ""
                print(f"{cabinet.email:<40} {cabinet.display_name}{removed}")
            return 0
        try:
            if args.staff_command == "remove":
                gone = await staff.remove(args.email)
                print(
                    f"specialist {gone.cabinet.email} removed: {gone.sessions_ended} "
                    f"session(s) ended, {gone.questions_returned} question(s) back in the queue"
                )
                return 0
            invited = await staff.add(args.email, args.name)
        except RuleError as refused:
            if refused.code == "SPECIALIST_NOT_FOUND":
                print(f"error: {args.email} is not a specialist", file=sys.stderr)
            elif refused.code == "EMAIL_TAKEN":
                print(
                    f"error: {args.email} belongs to a customer's cabinet; a specialist needs "
                    "an address of their own",
                    file=sys.stderr,
                )
            else:
                print(f"error: {message_for(refused, 'en')}", file=sys.stderr)
            return 1
    finally:
        await db.close_db()
    cabinet = invited.cabinet
    what = "created" if invited.created else "exists; a new link replaces earlier ones"
    print(f"specialist {cabinet.email} ({cabinet.display_name or 'no display name'}) {what}")
    zone = ZoneInfo(settings.timezone)
    until = invited.expires_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    print(f"set-password link, single use, valid until {until}:")
    print(invited.link)
    return 0


async def _attachments_cleanup(settings: Settings) -> int:
    from services.questions import attachments

    await db.open_db(settings.database_url)
    try:
        cleaned = await attachments.cleanup()
    finally:
        await db.close_db()
    print(
        f"deleted {cleaned.uploads} unused upload(s) and "
        f"{cleaned.temporary_files} unfinished temporary file(s)"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from tortoise.exceptions import DBConnectionError, OperationalError

    try:
        return _run(argv)
    except (DBConnectionError, OperationalError, ConnectionError) as exc:
        # An operator's mistake (no database, not migrated), not a bug: say it plainly.
        print(f"database error: {exc}", file=sys.stderr)
        if "no such table" in str(exc) or "does not exist" in str(exc):
            print("is the database migrated? run: kabinet migrate", file=sys.stderr)
        return 1


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    use_settings(settings)
    telemetry.configure_logging(
        settings.log_level, settings.log_style, production=settings.is_production
    )
    # fpdf2's font subsetting logs a few INFO lines for every PDF it renders.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    command = args.command or "serve"
    if command == "serve":
        if not hasattr(args, "host"):
            args = build_parser().parse_args(["serve"])
        return _serve(settings, args)
    if command == "migrate":
        return asyncio.run(_migrate(settings))
    if command == "import":
        if not args.file.is_file():
            print(f"error: {args.file} is not a file", file=sys.stderr)
            return 2
        return asyncio.run(_import(settings, args.kind, args.file, args.file.stat().st_size))
    if command == "export":
        return asyncio.run(_export(settings, args.since, args.file))
    if command == "seed-demo":
        return asyncio.run(_seed_demo(settings, args.if_empty))
    if command == "worker":
        return asyncio.run(_worker(settings))
    if command == "mail":
        return asyncio.run(_mail(settings, args))
    if command == "recovery":
        return asyncio.run(_recovery_log(settings, args.account))
    if command == "staff":
        return asyncio.run(_staff(settings, args))
    if command == "attachments":
        return asyncio.run(_attachments_cleanup(settings))
    if command == "check":
        return asyncio.run(_check(settings))
    if command == "schema":
        return _print_schema()
    raise AssertionError(command)


if __name__ == "__main__":
    sys.exit(main())
