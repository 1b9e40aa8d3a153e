"""`kabinet check`: is this configuration fit to face the internet?

Problems make the command fail (exit 1); warnings are worth reading. The checks cover
what a wrong default would silently do in production: mail written to files instead of
sent, links pointing at a development address, fictional bank details on bills, clients
choosing their own IP address, all clients sharing one, a schema behind the database, the
demo cabinets (whose password README.md prints) in a real database, an acquirer set up
half-way (YooKassa: the shop, its API, the notification addresses, the 54-FZ receipts; with
`--live`, what YooKassa's `GET /me` says of the shop). Notes say what is configured."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from config import ConfigError, Settings, online_payments, payment_provider_name, yookassa_networks
from models import db
from services.core.clock import now


@dataclass
class Findings:
    problems: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)  # what is configured

    def note(self, text: str) -> None:
        self.notes.append(text)

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
    if "*" in trusted and not settings.unix_socket:
        found.problem("FORWARDED_ALLOW_IPS is *: any client could choose its own IP for the limits")
    for text in client_address_warnings(settings):
        found.warning(text)
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
    if not online_payments(settings):
        found.warning(
            "PAYMENT_PROVIDER is none: online payments are off (payBill answers "
            "PAYMENTS_UNAVAILABLE; customers are sent to the bank details on their bills)"
        )
    for name, platforms in (("fcm_credentials_file", "Android and web"), ("apns_key_file", "iOS")):
        path = getattr(settings, name)
        if not path:
            found.warning(
                f"{name.upper()} is empty: pushes to {platforms} would be written to files"
            )
        elif not Path(path).is_file() or not os.access(path, os.R_OK):
            found.problem(f"{name.upper()} {path!r} is not a readable file: pushes would wait")
    if not settings.mail_worker_in_process:
        found.warning("MAIL_WORKER_IN_PROCESS is false: make sure `kabinet worker` runs")
    if _provider(settings) == "yookassa":
        check_yookassa(settings, found)
    return found


def _provider(settings: Settings) -> str:
    try:
        return payment_provider_name(settings)
    except ConfigError:  # load_settings has refused it already
        return ""


# YooKassa's codes of the receipt (yookassa.ru/developers/54fz/parameters-values).
VAT_CODES = {
    1: "without VAT",
    2: "VAT 0%",
    3: "VAT 10%",
    4: "VAT 20%",
    5: "VAT 10/110",
    6: "VAT 20/120",
    7: "VAT 5%",
    8: "VAT 7%",
    9: "VAT 5/105",
    10: "VAT 7/107",
    11: "VAT 22%",
    12: "VAT 22/122",
}
VAT_RAISED = {4: 11, 6: 12}  # the 20% rates, 22% from 1 January 2026
VAT_RAISED_ON = dt.date(2026, 1, 1)
TAX_SYSTEMS = {
    1: "general (ОСН)",
    2: "simplified, income (УСН доходы)",
    3: "simplified, income minus expenses (УСН доходы минус расходы)",
    4: "imputed income (ЕНВД)",
    5: "unified agricultural (ЕСХН)",
    6: "patent (ПСН)",
}
SHOP_METHODS = {"bank_card": "cards", "sbp": "SBP", "sberbank": "SberPay"}  # payBill's methods


def check_yookassa(settings: Settings, found: Findings) -> None:
    """PAYMENT_PROVIDER=yookassa: the shop, its API, who may notify, the 54-FZ receipts."""
    defaults = Settings()
    shop, key, url = (
        settings.yookassa_shop_id,
        settings.yookassa_secret_key,
        settings.yookassa_api_url,
    )
    if not shop or not key:
        found.problem(
            "YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY are needed with PAYMENT_PROVIDER=yookassa "
            "(the shop's id and a secret key issued in YooKassa's cabinet)"
        )
    else:
        kind = "set (a test shop's: test_...)" if key.startswith("test_") else "set"
        found.note(f"YooKassa: shop {shop}, secret key {kind}, API {url}")
    if key.startswith("test_"):
        found.warning("YOOKASSA_SECRET_KEY is a test shop's key (test_...): payments take no money")
    if not url.startswith("https://"):
        found.problem(
            f"YOOKASSA_API_URL {url!r} is not https: the secret key would travel in clear"
        )
    elif url.rstrip("/") != defaults.yookassa_api_url:
        found.warning(f"YOOKASSA_API_URL is {url}, not YooKassa's {defaults.yookassa_api_url}")
    _check_notification_ips(settings, defaults, found)
    if settings.yookassa_receipts:
        vat, tax = settings.yookassa_vat_code, settings.yookassa_tax_system_code
        system = f"tax_system_code {tax}, {TAX_SYSTEMS[tax]}" if tax else "no tax_system_code"
        found.note(f"YooKassa: 54-FZ receipts on: vat_code {vat} ({VAT_CODES[vat]}), {system}")
        if vat in VAT_RAISED and now().date() >= VAT_RAISED_ON:
            found.warning(
                f"YOOKASSA_VAT_CODE is {vat} ({VAT_CODES[vat]}): since 1 January 2026 that rate "
                f"is 22%, code {VAT_RAISED[vat]} ({VAT_CODES[VAT_RAISED[vat]]})"
            )
        if tax == 4:
            found.warning("YOOKASSA_TAX_SYSTEM_CODE is 4 (ЕНВД), a tax system abolished in 2021")
    else:
        found.note("YooKassa: 54-FZ receipts off (YOOKASSA_RECEIPTS=false)")
        if settings.is_production:
            found.warning(
                "YOOKASSA_RECEIPTS is false: 54-FZ requires a fiscal receipt for every online "
                "payment; make sure the company's own online till issues them"
            )


def _check_notification_ips(settings: Settings, defaults: Settings, found: Findings) -> None:
    networks, published = yookassa_networks(settings), yookassa_networks(defaults)

    def within(network, among) -> bool:
        return any(network.version == other.version and network.subnet_of(other) for other in among)

    shown = ", ".join(str(n) for n in networks) or "nowhere"
    found.note(f"YooKassa: notifications accepted from {shown}")
    if extra := [str(n) for n in networks if not within(n, published)]:
        found.warning(
            f"YOOKASSA_NOTIFICATION_IPS trusts {', '.join(extra)} beyond YooKassa's published "
            "list (each notification is still checked with YooKassa's API)"
        )
    if missing := [str(n) for n in published if not within(n, networks)]:
        found.warning(
            f"YOOKASSA_NOTIFICATION_IPS lacks {', '.join(missing)} of YooKassa's published "
            "list: notifications from there are refused (the sweeper still asks the API)"
        )


async def check_live(settings: Settings, found: Findings) -> None:
    """`kabinet check --live`: ask the acquirer itself, when it can be asked."""
    name = _provider(settings)
    if name == "yookassa":
        await check_yookassa_live(settings, found)
    else:
        found.note(f"--live: nothing to ask of PAYMENT_PROVIDER {name or '?'}")


async def check_yookassa_live(settings: Settings, found: Findings) -> None:
    """`kabinet check --live`: YooKassa's word on the shop (`GET /me`)."""
    from payments.providers import ProviderRefused, ProviderUnavailable
    from payments.providers.yookassa import YooKassaProvider

    try:
        info = await YooKassaProvider(settings).shop_info()
    except ProviderRefused as exc:
        found.problem(
            f"YooKassa refused GET /me ({exc}): check YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY"
        )
        return
    except ProviderUnavailable as exc:
        found.problem(f"YooKassa's API {settings.yookassa_api_url} cannot be reached: {exc}")
        return
    account, status = str(info.get("account_id", "")), str(info.get("status", ""))
    fiscalization = info.get("fiscalization")
    receipts = (
        fiscalization.get("enabled")
        if isinstance(fiscalization, dict)
        else info.get("fiscalization_enabled")
    )
    methods = info.get("payment_methods")
    found.note(
        f"YooKassa says: shop {account}, {status}, {'test' if info.get('test') else 'live'}, "
        f"receipts {'on' if receipts else 'off'}, methods {', '.join(methods or []) or '?'}"
    )
    if account != settings.yookassa_shop_id:
        found.problem(
            f"YooKassa's shop is {account}, not YOOKASSA_SHOP_ID {settings.yookassa_shop_id}"
        )
    if status != "enabled":
        found.problem(f"the shop is {status or 'not enabled'} in YooKassa: it takes no payments")
    if info.get("test"):
        found.warning("YooKassa says the shop is a test shop: payments take no money")
    if settings.yookassa_receipts and receipts is False:
        found.problem(
            "YOOKASSA_RECEIPTS is true, but the shop has no receipts connected in YooKassa: "
            "connect Чеки от ЮKassa or an online till, or set YOOKASSA_RECEIPTS=false"
        )
    if not settings.yookassa_receipts and receipts:
        found.problem(
            "the shop has receipts connected in YooKassa, which then refuses a payment "
            "without one: set YOOKASSA_RECEIPTS=true"
        )
    lacking = [name for kind, name in SHOP_METHODS.items() if kind not in (methods or [])]
    if isinstance(methods, list) and lacking:
        found.warning(
            f"the shop cannot take {', '.join(lacking)}: the web client offers them and "
            "YooKassa would refuse such a payment"
        )


_ONE_BUDGET = (
    "every client shares one budget of the rate limit, the login backoff and the proofs of "
    "ownership, and one attacker can spend it for all (docs/security.md)"
)


def _trusts(trusted: str, address: str) -> bool:
    """Whether FORWARDED_ALLOW_IPS (addresses, networks, *) believes a peer at `address`."""
    entries = [entry.strip() for entry in trusted.split(",") if entry.strip()]
    if "*" in entries:
        return True
    peer = ipaddress.ip_address(address)
    for entry in entries:
        try:
            if peer in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a name: uvicorn compares it as text with the peer, never an address
    return False


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def client_address_warnings(settings: Settings) -> list[str]:
    """Setups in which the client address the limits count by is the proxy's, the same for
    every client. `kabinet check` reports them, and every server process logs them as it
    starts; what only requests show, routes/client_address.py logs when it sees it."""
    trusted = settings.forwarded_allow_ips
    if settings.unix_socket:
        if trusted.strip() != "*":
            return [
                f"UNIX_SOCKET is set and FORWARDED_ALLOW_IPS is {trusted!r}: a Unix socket's "
                "peer has no address and only * makes it trusted, so " + _ONE_BUDGET + ". Set "
                "FORWARDED_ALLOW_IPS=* and have the proxy set X-Forwarded-For"
            ]
        return []
    if _loopback(settings.host):
        peer = "::1" if settings.host == "::1" else "127.0.0.1"
        if not _trusts(trusted, peer):
            return [
                f"HOST is {settings.host}: only a proxy on this machine reaches kabinet, and "
                f"FORWARDED_ALLOW_IPS ({trusted!r}) does not trust {peer}, so " + _ONE_BUDGET
            ]
        return []
    remote_proxy_trusted = any(
        entry.strip() == "*" or (entry.strip() and not _loopback(entry.strip().split("/")[0]))
        for entry in trusted.split(",")
    )
    if not remote_proxy_trusted:
        return [
            f"HOST is {settings.host} and FORWARDED_ALLOW_IPS ({trusted!r}) trusts no proxy "
            "elsewhere: if a reverse proxy on another machine or container forwards the "
            "requests (it terminates TLS: kabinet serves none), " + _ONE_BUDGET + ". List the "
            "proxy's address in FORWARDED_ALLOW_IPS"
        ]
    return []


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
