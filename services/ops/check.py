"""`kabinet check`: is this configuration fit to face the internet?

Problems make the command fail (exit 1); warnings are worth reading. The checks cover
what a wrong default would silently do in production: mail written to files instead of
sent, links pointing at a development address, fictional bank details on bills, clients
choosing their own IP address, a schema behind the database, the demo cabinets (whose
password README.md prints) in a real database."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from urllib.parse import urlsplit

from config import Settings
from models import db


@dataclass
class Findings:
    problems: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def warning(self, text: str) -> None:
        self.warnings.append(text)


_COMPANY = (
    "company_name",
    "company_inn",
    "company_kpp",
    "company_address",
    "company_phone",
    "company_site",
    "company_bank_name",
    "company_bic",
    "company_correspondent_account",
    "company_settlement_account",
    "support_phone",
    "support_email",
)


def check_settings(settings: Settings) -> Findings:
    found = Findings()
    defaults = Settings()
    if not settings.is_production:
        found.problem(
            f"ENV is {settings.env!r}: set ENV=production (no GraphiQL, no introspection)"
        )
    if not settings.public_web_url.startswith("https://"):
        found.problem(
            f"PUBLIC_WEB_URL {settings.public_web_url!r} is not https: links in mail would be"
        )
    host = urlsplit(settings.public_web_url).hostname or ""
    if host in {"127.0.0.1", "localhost", "::1"}:
        found.problem("PUBLIC_WEB_URL points at this machine: customers could not follow links")
    if db.dialect_of(settings.database_url) != "postgres":
        found.problem("DATABASE_URL is SQLite: production runs on PostgreSQL (several processes)")
    if len(settings.secret_key) < 32:
        found.problem("SECRET_KEY is shorter than 32 characters")
    if not settings.smtp_host:
        found.problem("SMTP_HOST is empty: mail would be written to files, not sent")
    elif settings.smtp_tls == "none" and settings.smtp_host not in {
        "127.0.0.1",
        "localhost",
        "::1",
    }:
        found.problem(
            f"SMTP_TLS is none for the remote server {settings.smtp_host}: use starttls or tls"
        )
    sender_domain = settings.mail_from.rsplit("@", 1)[-1].strip(" >").lower()
    if sender_domain in {"localhost", "example.com", "kabinet.example"} or not sender_domain:
        found.problem(f"MAIL_FROM {settings.mail_from!r} is not the company's address")
    trusted = {ip.strip() for ip in settings.forwarded_allow_ips.split(",")}
    if "*" in trusted:
        found.problem("FORWARDED_ALLOW_IPS is *: any client could choose its own IP for the limits")
    for origin in filter(None, (o.strip() for o in settings.cors_origins.split(","))):
        if not origin.startswith("https://"):
            found.problem(f"CORS_ORIGINS has {origin!r}: cookies travel only to https origins")
    for name in _COMPANY:
        if getattr(settings, name) == getattr(defaults, name):
            found.problem(f"{name.upper()} is the fictional default: set the company's own")
    if not settings.metrics_token:
        found.warning("METRICS_TOKEN is empty: keep /metrics unreachable from the internet")
    if settings.rate_limit_per_minute <= 0:
        found.warning("RATE_LIMIT_PER_MINUTE is 0: no per-IP request limit")
    if not settings.mail_worker_in_process:
        found.warning("MAIL_WORKER_IN_PROCESS is false: make sure `kabinet worker` runs")
    return found


async def check_database(settings: Settings, found: Findings) -> None:
    """The database answers and has every committed migration."""
    from tortoise.context import TortoiseContext
    from tortoise.migrations.executor import MigrationExecutor

    from models import sql

    try:
        with TortoiseContext() as ctx:
            await db.open_db(settings.database_url)
            try:
                await sql.fetch(sql.connection(), "SELECT 1 AS ok")
                config = db.tortoise_config(settings.database_url)
                executor = MigrationExecutor(sql.connection(), config["apps"])
                pending = [step for step in await executor.plan() if not step.backward]
                if pending:
                    names = ", ".join(step.migration.name for step in pending)
                    found.problem(f"the database lacks migrations {names}: run kabinet migrate")
                else:
                    await check_demo_cabinets(found)
            finally:
                await ctx.close_connections()
    except Exception as exc:
        found.problem(f"the database cannot be reached: {type(exc).__name__}: {exc}")


async def check_demo_cabinets(found: Findings) -> None:
    """Cabinets anyone who read the README can log in to: the demo e-mails, and any
    specialist whose password is the demo one (specialists read every question). Flagged
    in every environment: a staging database copied from production counts too."""
    from models.cabinets import Cabinet, Role
    from services.ops import demo
    from services.security.passwords import verify_password

    emails = [email for email, _language, _numbers in demo.DEMO_CABINETS]
    emails.append(demo.DEMO_SPECIALIST[0])
    for cabinet in await Cabinet.filter(email__in=emails).order_by("email"):
        found.problem(
            f"the demo cabinet {cabinet.email} exists: its password is in README.md; "
            "delete it or set another password"
        )
    staff = await Cabinet.filter(role=Role.STAFF).exclude(email__in=emails).order_by("email")
    for cabinet in staff:  # a few rows: checking each password costs one hash
        matches, _ = await verify_password(cabinet.password_hash, demo.DEMO_PASSWORD)
        if matches:
            found.problem(
                f"the specialist {cabinet.email} has the demo password of README.md: "
                "set another password"
            )
