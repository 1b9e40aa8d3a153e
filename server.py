"""kabinet: the Starlette application (`create_app`) and the entry point of the command
line (`kabinet` / `python server.py`, whose commands live in routes/cli.py)."""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from config import Settings, get_settings, online_payments
from mail.worker import running_worker
from models import db
from push.worker import running_push_worker
from resolvers.context import Context
from routes import attachments as attachment_routes
from routes import cli, data_export, ereceipt, health, privacy, receipts, security, web
from routes.middleware import middleware_stack
from routes.payments import payment_routes
from schema.http import GraphQLEndpoint
from schema.root import build_schema
from schema.websocket import SubscriptionServer
from services.core import live, telemetry, tracing
from services.core.background import every, running_loop
from services.ereceipts.dispatch import Dispatcher
from services.ops.check import client_address_warnings
from services.payments.sweeper import running_charger, running_sweeper
from services.readings import reminders as reading_reminders

log = logging.getLogger("kabinet")


async def graphql_context(request: Request, response: Response) -> Context:
    return Context.for_request(request, response, request.app.state.settings)


async def _apply_retention() -> None:
    """Personal data past its retention period goes once an hour in every server process:
    each batch is one statement that re-checks what is due, so processes running it at
    once never remove a row twice (services/privacy/retention.py)."""
    from services.privacy import retention

    removed = await retention.run_round()
    if any(removed.values()):
        log.info("retention: %s", ", ".join(f"{n} {kind}" for kind, n in removed.items() if n))


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


async def _personal_data() -> None:
    """Erasures due and exports asked for (services.privacy.jobs), by every process."""
    from services.privacy import jobs

    await jobs.run_once()


async def _proof_holds() -> None:
    """Held recoveries, links and registrations whose hold ended, by every process."""
    from services.accounts import holds
    from services.recovery import rules

    await rules.complete_due_holds()
    await holds.complete_due()


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
    themselves). Likewise the sweeper of stale payments and autopay's charger
    (`payment_sweeper`), by default when it manages the database and online payments are
    on (PAYMENT_PROVIDER is not none)."""
    settings = settings or get_settings()
    if mail_worker is None:
        mail_worker = manage_db and settings.mail_worker_in_process
    if payment_sweeper is None:  # nothing to sweep when online payments are off
        payment_sweeper = manage_db and online_payments(settings)
    app = Starlette(
        routes=app_routes(settings),
        middleware=middleware_stack(settings),
        lifespan=lifespan(settings, manage_db, mail_worker, payment_sweeper),
    )
    app.state.settings = settings
    app.state.mail_worker = None  # the worker's task while the lifespan runs one
    app.state.ereceipt_dispatcher = None  # likewise, the e-receipt dispatcher's
    app.state.payment_sweeper = None  # likewise the sweeper of stale payments
    return app


def app_routes(settings: Settings) -> list[BaseRoute]:
    schema = build_schema(settings)
    graphql = GraphQLEndpoint(schema, settings, graphql_context)
    return [
        Route("/graphql", graphql.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        # The same path's WebSocket: subscriptions (graphql-transport-ws, schema/websocket.py)
        WebSocketRoute("/graphql", SubscriptionServer(schema, settings).handle),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/receipts/{receipt_id}.pdf", receipts.receipt_pdf, methods=["GET"]),
        Route("/ereceipt/confirm", ereceipt.confirm, methods=["GET", "POST"]),
        Route("/ereceipt/unsubscribe", ereceipt.unsubscribe, methods=["GET", "POST"]),
        Route("/security/cancel-hold", security.cancel_hold, methods=["GET", "POST"]),
        Route("/security/freeze", security.freeze, methods=["GET", "POST"]),
        *payment_routes(settings),
        Route("/privacy", privacy.notice, methods=["GET", "HEAD"]),
        Route("/data-export", data_export.download, methods=["GET"]),
        Route("/attachments", attachment_routes.upload, methods=["POST"]),
        Route("/attachments/{id}", attachment_routes.download, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
        # the web client last: its pages answer only what no route above took
        *web.routes(graphiql=not settings.is_production, public_web_url=settings.public_web_url),
    ]


Lifespan = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]


# CPython's defaults: 700, 10, 10. A young generation of 700 objects fills several times
# in one dashboard request, each collection scanning what the requests in flight still
# hold and moving it on to the older generations, to be scanned again there; with 5000,
# most of a request's objects are freed by their reference counts before a collection
# sees them: the GraphQL server's CPU a 2x12 dashboard request 2.36 -> 2.23 ms under load
# (bench/dashboard.py), a young collection's pause 0.5 ms at most
# (bench/login_under_load.py).
GC_YOUNG, GC_MIDDLE_EVERY, GC_FULL_EVERY = 5000, 3, 3


def lifespan(
    settings: Settings, manage_db: bool, mail_worker: bool, payment_sweeper: bool
) -> Lifespan:
    """What runs beside the requests from startup to shutdown (see `create_app`)."""

    @contextlib.asynccontextmanager
    async def running(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(tracing.flush)  # last: uvicorn's exit skips the SDK's atexit
            if manage_db:
                await db.open_db(settings.database_url, share_across_tasks=True)
                stack.push_async_callback(db.close_db)
                # Subscriptions hear of changes made by every process (LISTEN on PostgreSQL)
                await stack.enter_async_context(live.running_broker(settings.database_url))
            if mail_worker:
                app.state.mail_worker = await stack.enter_async_context(running_worker(settings))
                app.state.push_worker = await stack.enter_async_context(
                    running_push_worker(settings)
                )
                app.state.ereceipt_dispatcher = await stack.enter_async_context(
                    running_loop("ereceipt-dispatcher", Dispatcher(settings).run)
                )
            if payment_sweeper:
                app.state.payment_sweeper = await stack.enter_async_context(
                    running_sweeper(settings)
                )
                await stack.enter_async_context(running_charger(settings))
            if manage_db:
                await stack.enter_async_context(
                    every("attachments cleanup", 3600, _clean_attachments)
                )
                await stack.enter_async_context(every("retention", 3600, _apply_retention))
                await stack.enter_async_context(every("proof holds", 60, _proof_holds))
                await stack.enter_async_context(
                    every(
                        "reading reminders",
                        settings.reading_reminder_poll_seconds,
                        reading_reminders.send_due,
                    )
                )
                await stack.enter_async_context(
                    every("personal data", settings.privacy_job_seconds, _personal_data)
                )
            # Everything loaded so far (modules, the schema, the ORM's metadata) lives as
            # long as the process: keep it out of the collector's sight, so a full
            # collection scans only what requests allocate and never stalls the loop.
            gc.collect()
            gc.freeze()
            # The collector still counts the frozen heap as its long-lived objects and runs
            # a full collection only once a quarter of that many more have piled up: the
            # first, minutes later, stalled the loop 12-38 ms (bench/login_under_load.py).
            # A collection of the now empty oldest generation resets that count.
            gc.collect()
            # Collect the cycles requests leave behind in smaller, more frequent pieces:
            # the middle generation every 3 young collections instead of 10, the oldest
            # every 3 of those. With a dashboard and a login in flight the longest pause
            # went from 8-15 ms to 4 ms (middle) and 9-13 ms to 6-9 ms (full), the
            # collector's total CPU up by about a tenth.
            stack.callback(gc.set_threshold, *gc.get_threshold())
            gc.set_threshold(GC_YOUNG, GC_MIDDLE_EVERY, GC_FULL_EVERY)
            yield

    return running


def app_factory() -> Starlette:
    """Entry for `uvicorn --factory server:app_factory` and each of `serve`'s workers."""
    settings = get_settings()
    telemetry.configure_logging(
        settings.log_level, settings.log_style, production=settings.is_production
    )
    for text in client_address_warnings(settings):
        log.warning("%s", text)
    tracing.configure()  # only with OTEL_EXPORTER_OTLP_ENDPOINT set (docs/operations.md)
    return create_app(settings)


def main(argv: Sequence[str] | None = None) -> int:
    """`kabinet`: runs one command of the command line; returns its exit status."""
    from tortoise.exceptions import DBConnectionError, OperationalError

    try:
        return cli.run(argv)
    except (DBConnectionError, OperationalError, ConnectionError) as exc:
        # An operator's mistake (no database, not migrated), not a bug: say it plainly.
        print(f"database error: {exc}", file=sys.stderr)
        if "no such table" in str(exc) or "does not exist" in str(exc):
            print("is the database migrated? run: kabinet migrate", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
