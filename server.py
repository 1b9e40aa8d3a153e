"""kabinet: the Starlette application and the command line (`kabinet` / `python server.py`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import logging
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config import ConfigError, Settings, get_settings, use_settings
from mail.worker import running_worker
from models import db
from routes import attachments as attachment_routes
from routes import ereceipt, health, receipts, web
from routes.middleware import middleware_stack
from routes.payments import payment_routes
from schema.context import Context
from schema.http import GraphQLEndpoint
from schema.root import build_schema
from services.core import telemetry
from services.core.background import every, running_loop
from services.ereceipts.dispatch import Dispatcher
from services.payments.sweeper import running_sweeper

log = logging.getLogger("kabinet")


async def graphql_context(request: Request, response: Response) -> Context:
    return Context.for_request(request, response, request.app.state.settings)


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


def app_routes(settings: Settings) -> list[Route]:
    graphql = GraphQLEndpoint(build_schema(settings), settings, graphql_context)
    return [
        Route("/graphql", graphql.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/receipts/{receipt_id}.pdf", receipts.receipt_pdf, methods=["GET"]),
        Route("/ereceipt/confirm", ereceipt.confirm, methods=["GET", "POST"]),
        Route("/ereceipt/unsubscribe", ereceipt.unsubscribe, methods=["GET", "POST"]),
        *payment_routes(settings),
        Route("/attachments", attachment_routes.upload, methods=["POST"]),
        Route("/attachments/{id}", attachment_routes.download, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
        # the web client last: its pages answer only what no route above took
        *web.routes(),
    ]


Lifespan = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]


def lifespan(
    settings: Settings, manage_db: bool, mail_worker: bool, payment_sweeper: bool
) -> Lifespan:
    """What runs beside the requests from startup to shutdown (see `create_app`)."""

    @contextlib.asynccontextmanager
    async def running(app: Starlette) -> AsyncIterator[None]:
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

    return running


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
