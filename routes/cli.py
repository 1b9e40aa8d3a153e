"""The command line, `kabinet COMMAND`: a Click group, `serve` when no command is given.

Every command gets the settings first (a configuration error exits 2 naming the setting);
those that work on the database run inside `database()`, the one place that opens and
closes it. Database errors an operator causes (no server, not migrated) are worded by
`server.main`, which runs this group.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import inspect
import logging
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from config import ConfigError, Settings, get_settings, use_settings
from models import db
from services.core import telemetry

if TYPE_CHECKING:  # the commands import the rules they use when they run: `serve` starts fast
    from services.core.errors import RuleError


class Choice(click.Choice):
    """A choice refused in the words the command line has always used ("invalid choice")."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        allowed = ", ".join(repr(choice) for choice in self.choices)
        return f"invalid choice: {value!r} (choose from {allowed})"


def load_settings_or_exit() -> Settings:
    try:
        settings = get_settings()
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        raise click.exceptions.Exit(2) from None
    use_settings(settings)
    telemetry.configure_logging(
        settings.log_level, settings.log_style, production=settings.is_production
    )
    # fpdf2's font subsetting logs a few INFO lines for every PDF it renders.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    return settings


def configured(command: Callable[..., Any]) -> Callable[..., int]:
    """The command gets the settings as its first argument; an `async def` command runs in
    an event loop of its own. Settings load only once the arguments parsed, so `--help`
    and usage errors need no working configuration."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> int:
        result = command(load_settings_or_exit(), *args, **kwargs)
        return asyncio.run(result) if inspect.iscoroutine(result) else result

    return run


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    """The database open for the length of a command, closed however the command ends."""
    await db.open_db(settings.database_url)
    try:
        yield
    finally:
        await db.close_db()


def with_database(command: Callable[..., Any]) -> Callable[..., Any]:
    """An `async def command(settings, ...)` that runs inside `database(settings)`."""

    @functools.wraps(command)
    async def run(settings: Settings, *args: Any, **kwargs: Any) -> int:
        async with database(settings):
            return await command(settings, *args, **kwargs)

    return run


class InDeclarationOrder(click.Group):
    """`--help` lists the commands as they are declared here, `serve` first, not A to Z."""

    group_class = type  # the subgroups (mail, staff, ...) list theirs likewise

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(
    name="kabinet",
    cls=InDeclarationOrder,
    help="kabinet: the customer cabinet API server",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.pass_context
def kabinet(ctx: click.Context) -> int | None:
    if ctx.invoked_subcommand is None:
        return ctx.invoke(serve)
    return None


def run(argv: Sequence[str] | None = None) -> int:
    """Runs one command; returns its exit status (2 for a usage error)."""
    try:
        status = kabinet.main(args=argv, prog_name="kabinet", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 1
    return status or 0


# ---------------------------------------------------------------- serving


@kabinet.command(help="serve the API (the default command)")
@click.option("--host", help="address to listen on (default: HOST)")
@click.option("--port", type=int, help="port to listen on (default: PORT)")
@click.option("--workers", type=int, default=1, help="worker processes (default: 1)")
@configured
def serve(settings: Settings, host: str | None, port: int | None, workers: int) -> int:
    import dataclasses

    import uvicorn

    # Where it listens, for every worker's start-up check of the client address (server.py
    # app_factory): this process's settings, and the environment the other workers inherit.
    settings = dataclasses.replace(settings, host=host or settings.host, port=port or settings.port)
    use_settings(settings)
    os.environ["HOST"], os.environ["PORT"] = settings.host, str(settings.port)

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
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
        host=settings.host,
        port=settings.port,
        uds=settings.unix_socket or None,
        workers=workers,
        proxy_headers=False,  # the app applies FORWARDED_ALLOW_IPS itself (create_app)
        log_level=settings.log_level,
        log_config=None,  # keep kabinet's JSON logging (app_factory configures it)
        access_log=False,  # RequestContext logs each request, with its id
        timeout_graceful_shutdown=15,
        server_header=False,
    )
    return 0


# ---------------------------------------------------------------- the database and its data


@kabinet.command(help="apply database migrations")
@configured
async def migrate(settings: Settings) -> int:
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")
            click.echo(f"applied {app_label}.{name}")

    if await db.ensure_database(settings.database_url):
        click.echo("created the database")
    await db.apply_migrations(settings.database_url, progress=progress)
    await db.close_db()
    click.echo(f"database is up to date ({len(applied)} migration(s) applied)")
    return 0


def _existing_file(_ctx: click.Context, _param: click.Parameter, path: Path) -> Path:
    if not path.is_file():
        raise click.BadParameter(f"{path} is not a file")
    return path


@contextlib.contextmanager
def import_progress(label: str, file: Path) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr while `file` is read, and the rows so far; nothing when
    stderr is not a terminal (a log file, a pipe), so logs get no bar drawings."""
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
    )
    total = max(file.stat().st_size, 1)
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=total, rows=0)
        yield lambda done_bytes, rows: bar.update(task, completed=min(done_bytes, total), rows=rows)


@kabinet.command("import", help="import a CSV export of the billing system")
@click.argument("kind", type=Choice(["accounts", "meters", "readings", "payments", "receipts"]))
@click.argument("file", type=click.Path(path_type=Path), callback=_existing_file)
@configured
@with_database
async def import_(settings: Settings, kind: str, file: Path) -> int:
    from services.billing import importer as billing_import

    try:
        with import_progress(kind, file) as progress:
            summary = await billing_import.import_file(
                kind, file, tz=ZoneInfo(settings.timezone), progress=progress
            )
    except billing_import.ImportFailed as failure:
        click.echo(f"{file}: rejected, nothing was imported", err=True)
        for error in failure.errors:
            click.echo(f"{file}:{error.line}: {error.message}", err=True)
        return 1
    click.echo(summary.line())
    return 0


def _date(_ctx: click.Context, _param: click.Parameter, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date YYYY-MM-DD") from None


@kabinet.command(
    short_help="export data for the billing system (CSV)",
    help="export data for the billing system (CSV); FILE: the CSV file to write "
    "(`-`: standard output)",
)
@click.argument("kind", type=Choice(["readings"]))
@click.option(
    "--since",
    required=True,
    callback=_date,
    metavar="DATE",
    help="readings taken on or after this date (YYYY-MM-DD)",
)
@click.argument("file", type=click.Path(path_type=Path))
@configured
@with_database
async def export(settings: Settings, kind: str, since: dt.date, file: Path) -> int:
    from services.readings.rules import export_customer_readings

    if str(file) == "-":
        count = await export_customer_readings(since, sys.stdout)
    else:
        # The file is written as rows stream in; the CLI does nothing else meanwhile.
        with open(file, "w", encoding="utf-8", newline="") as out:  # noqa: ASYNC230
            count = await export_customer_readings(since, out)
    where = "standard output" if str(file) == "-" else str(file)
    click.echo(
        f"readings: {count} rows taken since {since.isoformat()} written to {where}", err=True
    )
    return 0


@kabinet.command("seed-demo", help="load the demo accounts (idempotent)")
@click.option("--if-empty", is_flag=True, help="do nothing when the database has accounts")
@configured
@with_database
async def seed_demo(settings: Settings, if_empty: bool) -> int:
    from models.accounts import Account
    from services.ops import demo

    if settings.is_production:
        # The demo cabinets, a specialist among them, log in with the password README.md prints.
        click.echo(
            "seed-demo refuses to run with ENV=production: the demo cabinets and the demo "
            "specialist log in with the password printed in README.md",
            err=True,
        )
        return 1
    if if_empty and await Account.exists():
        click.echo("the database holds accounts already; demo data not loaded")
        return 0
    zone = ZoneInfo(settings.timezone)
    for summary in await demo.seed(dt.datetime.now(zone).date(), zone):
        click.echo(summary.line())
    for email in await demo.seed_cabinets():
        click.echo(f"cabinet {email} created (password {demo.DEMO_PASSWORD})")
    if specialist := await demo.seed_specialist():
        click.echo(f"specialist {specialist} created (password {demo.DEMO_PASSWORD})")
    click.echo("\nDemo accounts (number, holder, proof of ownership, cabinet):")
    for number, holder, proof, cabinet in demo.describe():
        click.echo(f"  {number}  {holder:<30} {proof:<40} {cabinet}")
    click.echo(f"\nDemo cabinets log in with the password {demo.DEMO_PASSWORD}")
    return 0


# ---------------------------------------------------------------- mail


@kabinet.command(help="deliver the outbox's mail, pushes and e-receipts until stopped (SIGTERM)")
@configured
async def worker(settings: Settings) -> int:
    import signal

    from mail.worker import MailWorker
    from push.worker import PushWorker
    from services.ereceipts.dispatch import Dispatcher

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Before the database opens: a SIGTERM meanwhile stops the worker cleanly too.
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with database(settings):
        # The e-receipt dispatcher fills the outbox with rendered bills; the mail
        # worker empties it. Both stop at SIGTERM after the batch in hand.
        await asyncio.gather(
            MailWorker(settings).run(stop),
            Dispatcher(settings).run(stop),
            PushWorker(settings).run(stop),
        )
    return 0


@kabinet.group(help="look at and requeue outgoing mail")
def mail() -> None:
    pass


@mail.command("status", help="messages per state, the oldest unsent one")
@configured
@with_database
async def mail_status(_settings: Settings) -> int:
    from mail import outbox

    status = await outbox.queue_status()
    click.echo("\n".join(status.lines(outbox.utcnow())))
    return 0


@mail.command(
    "retry",
    short_help="requeue failed messages",
    help="requeue failed messages: those with the outbox ids ID, or every one (--failed)",
)
@click.argument("ids", nargs=-1, type=int, metavar="[ID]...")
@click.option("--failed", is_flag=True, help="every failed message")
def mail_retry(ids: tuple[int, ...], failed: bool) -> int:
    if not ids and not failed:
        raise click.UsageError("one of the arguments ID --failed is required")
    if ids and failed:
        raise click.UsageError("argument --failed: not allowed with argument ID")
    return requeue(ids=ids, failed=failed)


@configured
@with_database
async def requeue(_settings: Settings, ids: tuple[int, ...], failed: bool) -> int:
    from mail import outbox

    try:
        if failed:
            click.echo(f"requeued {await outbox.requeue_failed()} failed message(s)")
        for message_id in ids:
            await outbox.requeue(message_id)
            click.echo(f"requeued #{message_id}")
    except outbox.RequeueRefused as refused:
        click.echo(f"error: {refused}", err=True)
        return 1
    return 0


@kabinet.group(help="look at the push notifications' outbox")
def push() -> None:
    pass


@push.command("status", help="pushes per state, and the registered devices")
@configured
@with_database
async def push_status(_settings: Settings) -> int:
    from push import outbox

    counts = await outbox.counts()
    for state, count in counts.items():
        click.echo(f"{state.value:<8} {count:>9,}")
    click.echo(f"devices  {await outbox.device_count():>9,}")
    return 0


# ---------------------------------------------------------------- staff and support


@kabinet.group(help="the company's specialists who answer questions")
def staff() -> None:
    pass


def _print_refusal(refused: RuleError, email: str) -> None:
    from services.core.messages import message_for

    if refused.code == "SPECIALIST_NOT_FOUND":
        click.echo(f"error: {email} is not a specialist", err=True)
    elif refused.code == "EMAIL_TAKEN":
        click.echo(
            f"error: {email} belongs to a customer's cabinet; a specialist needs "
            "an address of their own",
            err=True,
        )
    else:
        click.echo(f"error: {message_for(refused, 'en')}", err=True)


@staff.command(
    "add",
    short_help="create a specialist (or renew one's link) and print a set-password link",
    help="create a specialist (or renew one's link) and print a set-password link; "
    "EMAIL: the specialist's login",
)
@click.argument("email")
@click.option("--name", help="the display name customers see, e.g. 'Ольга Смирнова'")
@configured
@with_database
async def staff_add(settings: Settings, email: str, name: str | None) -> int:
    from services.core.errors import RuleError
    from services.staff import specialists

    try:
        invited = await specialists.add(email, name)
    except RuleError as refused:
        _print_refusal(refused, email)
        return 1
    cabinet = invited.cabinet
    what = "created" if invited.created else "exists; a new link replaces earlier ones"
    click.echo(f"specialist {cabinet.email} ({cabinet.display_name or 'no display name'}) {what}")
    until = invited.expires_at.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")
    click.echo(f"set-password link, single use, valid until {until}:")
    click.echo(invited.link)
    return 0


@staff.command(
    "remove",
    short_help="close a specialist's cabinet",
    help="close a specialist's cabinet: sessions end, login fails, questions go back "
    "to the queue (`staff add` brings them back); EMAIL: the specialist's login",
)
@click.argument("email")
@configured
@with_database
async def staff_remove(_settings: Settings, email: str) -> int:
    from services.core.errors import RuleError
    from services.staff import specialists

    try:
        gone = await specialists.remove(email)
    except RuleError as refused:
        _print_refusal(refused, email)
        return 1
    click.echo(
        f"specialist {gone.cabinet.email} removed: {gone.sessions_ended} "
        f"session(s) ended, {gone.questions_returned} question(s) back in the queue"
    )
    return 0


@staff.command("list", help="every specialist, removed ones marked")
@configured
@with_database
async def staff_list(_settings: Settings) -> int:
    from services.staff import specialists

    for cabinet in await specialists.specialists(removed_too=True):
        removed = "  (removed)" if cabinet.disabled_at else ""
        click.echo(f"{cabinet.email:<40} {cabinet.display_name}{removed}")
    return 0


@kabinet.group(help="customers' uploaded photos")
def attachments() -> None:
    pass


@attachments.command(
    "cleanup", help="delete uploads no message used within ATTACHMENT_PENDING_HOURS"
)
@configured
@with_database
async def attachments_cleanup(_settings: Settings) -> int:
    from services.questions import attachments as uploads

    cleaned = await uploads.cleanup()
    click.echo(
        f"deleted {cleaned.uploads} unused upload(s) and "
        f"{cleaned.temporary_files} unfinished temporary file(s)"
    )
    return 0


@kabinet.group(help="online payments made in the cabinet")
def payments() -> None:
    pass


@payments.command(
    "refund",
    short_help="refund a succeeded online payment through its acquirer",
    help="refund a succeeded online payment through its acquirer (PAYMENT_PROVIDER); "
    "PAYMENT_ID: the payment's id as the API shows it, or its number (as in the receipt "
    "mail); AMOUNT: roubles, e.g. 500 or 1234,50 (default: all that is left to refund). "
    "Running it again after a failure finishes the same refund: it never refunds twice.",
)
@click.argument("payment_id")
@click.argument("amount", required=False)
@configured
@with_database
async def payments_refund(settings: Settings, payment_id: str, amount: str | None) -> int:
    from payments.providers import ProviderError, provider_for
    from services.payments import refunds

    try:
        provider = provider_for(settings)
    except ProviderError as exc:
        click.echo(f"error: no acquirer to refund through: {exc}", err=True)
        return 2
    if not hasattr(provider, "refund"):
        click.echo(f"error: {provider.name} cannot refund", err=True)
        return 2
    try:
        done = await refunds.refund_payment(payment_id, amount, provider, provider.name)  # type: ignore[arg-type]
    except refunds.RefundRefused as refused:
        click.echo(f"error: {refused}", err=True)
        return 1
    except refunds.RefundFailed as failed:
        click.echo(f"error: {failed}", err=True)
        return 1
    refund, payment = done.refund, done.payment
    what = "finished earlier refund" if done.resumed else "refund"
    click.echo(
        f"{what} {refund.id} of {refund.amount:.2f} RUB from payment {payment.id}: "
        f"{refund.status.value} ({provider.name} {refund.external_id}); refunded "
        f"{refunds.refunded(payment):.2f} of {payment.amount:.2f} RUB, "
        f"payment {payment.status.value}"
    )
    if refund.status.value == "pending":
        click.echo("the acquirer has not finished it yet; its notification will confirm it")
    return 0 if refund.status.value != "canceled" else 1


# ---------------------------------------------------------------- operations


@kabinet.command(help="validate the configuration of a production deployment")
@click.option(
    "--live",
    is_flag=True,
    help="also ask the acquirer about the shop (YooKassa: GET /me); needs the internet",
)
@configured
async def check(settings: Settings, live: bool) -> int:
    from services.ops import check as readiness

    found = readiness.check_settings(settings)
    await readiness.check_database(settings, found)
    if live:
        await readiness.check_live(settings, found)
    for text in found.notes:
        click.echo(f"info: {text}")
    for text in found.problems:
        click.echo(f"problem: {text}")
    for text in found.warnings:
        click.echo(f"warning: {text}")
    if found.problems:
        click.echo(f"{len(found.problems)} problem(s): not ready for production")
        return 1
    warned = f" ({len(found.warnings)} warning(s))" if found.warnings else ""
    click.echo("ready for production" + warned)
    return 0


@kabinet.command(
    short_help="remove personal data past its retention period now",
    help="remove personal data past its retention period now, as every `serve` process does "
    "hourly: mail contents (MAIL_BODY_RETENTION_DAYS), ended sessions (SESSION_RETENTION_DAYS), "
    "security log entries (AUDIT_RETENTION_DAYS), unconfirmed cabinets "
    "(UNVERIFIED_CABINET_RETENTION_DAYS). Safe to run at any time, beside running servers.",
)
@click.option("--dry-run", is_flag=True, help="only print what would go, per kind; change nothing")
@configured
@with_database
async def retention(settings: Settings, dry_run: bool) -> int:
    from services.privacy import retention as rules

    if not dry_run:
        removed = await rules.run_round()
        for kind, count in removed.items():
            click.echo(f"{kind:<20} {count:>9,} removed")
        return 0
    zone = ZoneInfo(settings.timezone)
    for due in await rules.due():
        oldest = f", oldest from {due.oldest.astimezone(zone):%Y-%m-%d %H:%M}" if due.oldest else ""
        click.echo(f"{due.kind:<20} {due.count:>9,} due ({due.what}){oldest}")
        if due.kept:
            click.echo(
                f"{'':<20} {due.kept:>9,} as old kept: closed, or payments, readings or "
                "questions hang on them"
            )
    click.echo("dry run: nothing was changed")
    return 0


@kabinet.command(help="print the GraphQL schema (SDL), as schema.graphql holds it")
@configured
def schema(_settings: Settings) -> int:
    from schema.root import schema as graphql_schema

    sys.stdout.write(str(graphql_schema) + "\n")
    return 0


@kabinet.group(help="support staff's view of recoveries")
def recovery() -> None:
    pass


@recovery.command(
    "log",
    short_help="every proof attempt on an account and what recoveries did",
    help="every proof attempt on an account and what recoveries did; ACCOUNT: account number",
)
@click.argument("account")
@configured
@with_database
async def recovery_log(settings: Settings, account: str) -> int:
    from services.core.errors import RuleError
    from services.recovery import rules as recoveries

    try:
        entries = await recoveries.audit_log(account)
    except RuleError:
        click.echo(f"error: {account!r} is not an account number", err=True)
        return 2
    zone = ZoneInfo(settings.timezone)
    if not entries:
        click.echo(f"no attempts on account {account}")
    for entry in entries:
        when = entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(
            f"{when}  {entry.what:<30} {entry.outcome:<42} {entry.ip:<15} {entry.user_agent}"
        )
    return 0


@kabinet.group(help="customers' cabinets")
def cabinet() -> None:
    pass


@cabinet.command(
    "unfreeze",
    short_help='lift the freeze of a cabinet whose owner said "this wasn\'t me"',
    help='lift the freeze of a cabinet whose owner said "this wasn\'t me" in a security '
    "notice, once a specialist has checked it: login and recovery work again; "
    "EMAIL: the cabinet's address",
)
@click.argument("email")
@configured
@with_database
async def cabinet_unfreeze(_settings: Settings, email: str) -> int:
    from services.core.errors import RuleError
    from services.security import freeze
    from services.security.sessions import Client

    try:
        done = await freeze.unfreeze_by_email(email, Client(user_agent="kabinet cabinet unfreeze"))
    except RuleError:
        click.echo(f"error: no customer's cabinet has the address {email!r}", err=True)
        return 1
    click.echo(f"cabinet {done.email} is not frozen: login and recovery work again")
    return 0
