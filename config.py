"""Settings of kabinet, read once from the environment (and a `.env` file).

Every setting is a field of `Settings` with its environment name, default and
description; docs/configuration.md is rendered from them (`settings_reference`, at
the end; `make docs`) and a test fails when it falls behind, so the two cannot drift.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path
from typing import Any, get_type_hints

from dotenv import dotenv_values
from dotenv.parser import parse_stream

ROOT = Path(__file__).resolve().parent


class ConfigError(Exception):
    """The configuration cannot be used; the message says which setting and why."""


def setting(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    env: str = setting(
        "development",
        "`development`, `production` or `test`. Production requires `SECRET_KEY` and "
        "serves no GraphiQL.",
    )
    database_url: str = setting(
        "sqlite://var/kabinet.sqlite3",
        "Database. `sqlite://PATH` (relative to the working directory) or "
        "`postgres://user:password@host:port/db` (asyncpg).",
    )
    secret_key: str = setting(
        "",
        "Key that signs tokens and links. Without it a development key is generated once "
        "and kept in `var/secret_key`; in production a missing key is a startup error.",
    )
    public_web_url: str = setting(
        "http://127.0.0.1:8000",
        "Public address of the web app; every link in an e-mail starts with it.",
    )
    host: str = setting("127.0.0.1", "Address `serve` listens on.")
    port: int = setting(8000, "Port `serve` listens on.")
    unix_socket: str = setting(
        "",
        "Path of a Unix socket `serve` listens on instead of HOST and PORT, for a reverse "
        "proxy on this machine. Its peer has no address: set FORWARDED_ALLOW_IPS=* and have "
        "the proxy set X-Forwarded-For, or every client shares one rate-limit budget.",
    )
    timezone: str = setting(
        "Europe/Moscow",
        "Time zone of the company: billing export times without an offset are read in it, "
        "and calendar rules (reading window, months) follow it.",
    )
    var_dir: str = setting(
        "var",
        "Directory for local state: SQLite database, development key, development mail, "
        "uploads in progress.",
    )
    forwarded_allow_ips: str = setting(
        "127.0.0.1",
        "Comma-separated addresses of trusted reverse proxies whose `X-Forwarded-For` is "
        "believed (uvicorn's `forwarded_allow_ips`). Any other peer's header is ignored.",
    )
    log_level: str = setting("info", "Log level: debug, info, warning, error.")
    log_format: str = setting(
        "",
        "`json` (one object a line, with the request id: for log collectors) or `text` (for "
        "reading in a terminal). Empty: `json` when ENV=production, else `text`.",
    )
    max_request_bytes: int = setting(
        1_048_576,
        "Largest request body accepted (413 beyond), on every route but the photo upload, "
        "which has ATTACHMENT_MAX_BYTES.",
    )
    max_query_bytes: int = setting(
        32_768,
        "Longest GraphQL document accepted, in UTF-8 bytes with its comments and whitespace "
        "(413 QUERY_TOO_LARGE beyond), checked before it is parsed, cached or persisted.",
    )
    max_json_depth: int = setting(
        32,
        "Deepest nesting of the JSON of a request's variables and extensions "
        "(400 JSON_TOO_DEEP beyond).",
    )
    graphql_max_depth: int = setting(12, "Deepest selection nesting a query may have.")
    graphql_max_aliases: int = setting(30, "Most aliases one document may use.")
    graphql_max_tokens: int = setting(5000, "Most lexical tokens one document may have.")
    graphql_executor: str = setting(
        "compiled",
        "How documents execute: `compiled` (a plan compiled on a document's first "
        "execution, schema/compiler.py; what a plan does not cover runs on graphql-core), "
        "`graphql-core` (the interpreter for everything), or `differential` (the test "
        "suite's mode: each query through both, any difference an EXECUTOR_MISMATCH error).",
    )
    graphql_max_cost: int = setting(
        5000,
        "Largest query cost: every field costs 1 and a connection multiplies what it selects "
        "by its page size (`first`).",
    )
    apq_max_entries: int = setting(
        10000, "Most persisted queries (APQ) kept; the oldest are forgotten first."
    )
    apq_registrations_per_hour: int = setting(
        100,
        "New persisted queries (APQ) one client address may register per hour (a window "
        "from its first), counted in the database across server processes (429 "
        "TOO_MANY_PERSISTED_QUERIES beyond). 0 refuses every registration.",
    )
    graphql_get_max_age: int = setting(
        0,
        "`max-age` in seconds of `Cache-Control: private` on a persisted query's answer over "
        "GET (with an ETag; If-None-Match gets 304). 0: the client revalidates every time.",
    )
    compress_min_bytes: int = setting(
        1024,
        "Smallest answer compressed (br or gzip, as Accept-Encoding asks): GraphQL answers "
        "and the web client's and GraphiQL's files.",
    )
    rate_limit_per_minute: int = setting(
        600,
        "Requests a client IP may make to each server process in any moving minute; past it "
        "429 with Retry-After. 0 turns it off.",
    )
    metrics_token: str = setting(
        "",
        "Bearer token `/metrics` requires. Empty: `/metrics` is open (keep it off the public "
        "network then).",
    )
    cors_origins: str = setting(
        "",
        "Comma-separated origins (e.g. `https://lk.example.ru`) besides `PUBLIC_WEB_URL`'s "
        "whose pages may call the API with the session cookie.",
    )
    cors_allow_headers: str = setting(
        "",
        "Comma-separated request headers a page of an allowed origin may send, besides the "
        "built-in list (docs/api.md: Authorization, Content-Type, Apollo's and tracing "
        "headers such as `traceparent` and `sentry-trace`).",
    )
    proof_payment_window_days: int = setting(
        365,
        "Ownership of an account is proven by the amount of any payment made to it within "
        "this many days.",
    )
    proof_attempts_per_account: int = setting(
        5,
        "Failed proofs of ownership allowed per account number per day, counted across "
        "registration, linking and recovery.",
    )
    proof_attempts_per_ip: int = setting(
        30, "Failed proofs of ownership allowed per client IP per hour."
    )
    proof_fresh_payment_days: int = setting(
        3,
        "A proof made with a payment younger than this many days (or made as a guest, or "
        "online from another cabinet) is held PROOF_HOLD_HOURS before it hands anything over.",
    )
    proof_hold_hours: int = setting(
        48,
        "How long a recovery, link or registration proven with a suspicious payment waits; the "
        "old address can cancel it meanwhile.",
    )
    freeze_link_days: int = setting(
        30,
        'Lifetime of the "this wasn\'t me" link in security notices, which freezes the cabinet.',
    )
    recovery_minimal_payment: Decimal = setting(  # noqa: RUF009 - Decimal is immutable
        Decimal("10.00"),
        "The payment a customer without recent payments is asked to make before proving ownership.",
    )
    guest_attempts_per_hour: int = setting(
        30,
        "Guest lookups, payments and readings (payableAccount, payAsGuest, "
        "submitGuestMeterReading: no login) allowed per client IP per hour, counted together.",
    )
    guest_attempts_per_account: int = setting(
        20,
        "Guest lookups, payments and readings allowed per account number per hour, counted "
        "together from every client.",
    )
    guest_min_amount: Decimal = setting(  # noqa: RUF009 - Decimal is immutable
        Decimal("0"),
        "The smallest amount payAsGuest takes; 0: RECOVERY_MINIMAL_PAYMENT, the payment a "
        "customer recovering access is asked to make.",
    )
    guest_max_amount: Decimal = setting(  # noqa: RUF009 - Decimal is immutable
        Decimal("100000.00"), "The largest amount one payAsGuest may pay."
    )
    guest_shows_amount_due: bool = setting(
        False,
        "payableAccount shows the amount due to anyone who knows the account number "
        "(printed on the bill); off: only the masked holder and the street.",
    )
    email_link_minutes: int = setting(
        60, "Lifetime of a link sent by e-mail (verification, password reset, recovery)."
    )
    recovery_step_minutes: int = setting(
        15, "Lifetime of the recovery token between the two steps of recovery without e-mail."
    )
    receipt_link_minutes: int = setting(
        10,
        "Lifetime of the signed link to a receipt's PDF that `Receipt.pdfUrl` returns (for "
        "opening the bill in a mobile system viewer without the session).",
    )
    session_idle_minutes: int = setting(
        20160, "A session unused for this long ends (default 14 days)."
    )
    session_absolute_days: int = setting(
        90, "A session ends this many days after the login, used or not."
    )
    subscriptions_per_connection: int = setting(
        20,
        "GraphQL subscriptions one WebSocket may run at once; one more is an `error` "
        "message with `TOO_MANY_SUBSCRIPTIONS` (docs/api.md#subscriptions).",
    )
    sockets_per_session: int = setting(
        5,
        "WebSockets one session (login) may hold open at once on one server process; one "
        "more is closed with 4429 after `connection_init`.",
    )
    socket_init_seconds: float = setting(
        10.0, "A WebSocket that sends no `connection_init` within this long is closed (4408)."
    )
    socket_session_check_seconds: float = setting(
        30.0,
        "How often an open WebSocket checks that its session still lives (besides at once "
        "when a session of its cabinet ends); a dead one is closed with 4401.",
    )
    login_free_failures: int = setting(
        5,
        "Consecutive failed logins of one e-mail from one client (a device the cabinet has "
        "logged in from, else the client IP) before each further attempt has to wait; the "
        "wait starts at 30 s and doubles up to 15 min. Never a permanent lockout.",
    )
    login_free_failures_per_email: int = setting(
        100,
        "Failed logins of one e-mail from devices it never logged in from, all addresses "
        "together, before such attempts have to wait likewise. A known device never waits "
        "for others' failures.",
    )
    login_free_failures_per_ip: int = setting(
        50, "Failed logins from one client IP before its attempts have to wait likewise."
    )
    password_context_words: str = setting(
        "kabinet,энергосбыт,energosbyt,энерго,energo",
        "Comma-separated words (the company's name) a password must not contain.",
    )
    support_phone: str = setting(
        "8 800 100-00-00", "Support phone number printed in notices to customers."
    )
    support_email: str = setting(
        "support@kabinet.example", "Support e-mail address printed in notices to customers."
    )
    mail_from: str = setting(
        "Личный кабинет <noreply@localhost>",
        "`From` of every e-mail, `Name <address>`; its domain also ends each Message-ID.",
    )
    smtp_host: str = setting(
        "",
        "SMTP server that delivers mail. Empty: mail is written to `VAR_DIR/mail/` as "
        "`.eml` files and logged (development).",
    )
    smtp_port: int = setting(587, "Port of the SMTP server.")
    smtp_user: str = setting("", "SMTP login; empty for a server that needs none.")
    smtp_password: str = setting("", "SMTP password.")
    smtp_tls: str = setting(
        "starttls",
        "`none`, `starttls` (upgrade a plain connection, port 587) or `tls` (implicit TLS, "
        "port 465). Certificates are verified.",
    )
    smtp_timeout: float = setting(
        30.0, "Seconds to wait for the SMTP server to connect or answer one command."
    )
    mail_worker_in_process: bool = setting(
        True,
        "Run the outbox worker, the push worker and the e-receipt dispatcher (which "
        "renders queued bills into mail) inside `serve`. Set to false when `kabinet "
        "worker` runs as processes of their own.",
    )
    mail_batch_size: int = setting(
        100, "Messages a worker claims at once and sends over one SMTP connection."
    )
    mail_poll_seconds: float = setting(
        2.0, "Seconds a worker waits before looking again when no message is due."
    )
    mail_lease_seconds: int = setting(
        300,
        "Seconds a claimed message belongs to its worker; after that a worker that died "
        "mid-send is presumed dead and the message is sent again.",
    )
    mail_max_attempts: int = setting(
        20, "Attempts after which a message that keeps failing is marked failed."
    )
    mail_retry_base_seconds: float = setting(
        30.0, "Delay before the first retry; it doubles with each attempt (with jitter)."
    )
    mail_retry_max_seconds: float = setting(3600.0, "Longest delay between two attempts.")
    mail_budget_per_cabinet: int = setting(
        10,
        "Mail-sending requests one cabinet may make per hour (address change, confirmation "
        "links, resent verification, recovery's new address...); past it `TOO_MANY_EMAILS`. "
        "Counted per call, before anything is looked up or queued.",
    )
    ereceipt_batch_size: int = setting(
        20,
        "Receipts a worker renders into e-mails at a time for the electronic receipt; each "
        "batch is claimed for MAIL_LEASE_SECONDS.",
    )

    fcm_credentials_file: str = setting(
        "",
        "Push to Android and web (FCM HTTP v1): path of the Firebase service account's JSON "
        "key; its `project_id` names the project and its `token_uri` issues the access "
        "tokens. Empty: those pushes are written to `VAR_DIR/push/` (development).",
    )
    fcm_api_url: str = setting(
        "https://fcm.googleapis.com", "Base URL of FCM's HTTP v1 API (`/v1/projects/...`)."
    )
    apns_key_file: str = setting(
        "",
        "Push to iOS (APNs, token auth): path of the `.p8` signing key from Apple. Empty: "
        "iOS pushes are written to `VAR_DIR/push/` (development).",
    )
    apns_key_id: str = setting("", "APNs: the 10-character Key ID of APNS_KEY_FILE.")
    apns_team_id: str = setting("", "APNs: the 10-character Team ID of the developer account.")
    apns_topic: str = setting("", "APNs: the app's bundle id (`apns-topic`).")
    apns_api_url: str = setting(
        "https://api.push.apple.com",
        "Base URL of APNs (HTTP/2); `https://api.sandbox.push.apple.com` for development "
        "builds of the app.",
    )
    push_timeout: float = setting(
        10.0, "Seconds to wait for FCM, APNs or the token endpoint to answer one request."
    )
    push_batch_size: int = setting(100, "Pushes a worker claims at once.")
    push_lease_seconds: int = setting(
        120,
        "Seconds a claimed push belongs to its worker; after that a worker that died "
        "mid-send is presumed dead and the push is tried again.",
    )
    push_max_attempts: int = setting(
        10, "Attempts after which a push that keeps failing is marked failed."
    )
    push_retry_base_seconds: float = setting(
        10.0,
        "Delay before the first retry of a push (or what a 429/503 answer's Retry-After "
        "says, if longer); it doubles with each attempt, with jitter.",
    )
    push_retry_max_seconds: float = setting(1800.0, "Longest delay between two push attempts.")

    reading_window_start_day: int = setting(
        15,
        "First day of the month (in `TIMEZONE`) on which customers may submit meter readings.",
    )
    reading_window_end_day: int = setting(
        26,
        "Last day of the month on which readings are accepted (the month's last day when "
        "the month is shorter).",
    )
    reading_reminder_hour: int = setting(
        10,
        "Reading-window reminders to the apps go out from this hour (0-23, in `TIMEZONE`) "
        'of their day on: "the window is open" on its first day, "it closes soon" '
        "`READING_REMINDER_DAYS_BEFORE_CLOSE` days before its last.",
    )
    reading_reminder_days_before_close: int = setting(
        2,
        "Days before the reading window's last day on which an account with nothing "
        'submitted in the window gets the "closes soon" push (0: on the last day).',
    )
    reading_reminder_poll_seconds: float = setting(
        300.0, "How often each server process looks for reading-window reminders that are due."
    )
    reading_max_factor: Decimal = setting(  # noqa: RUF009 - Decimal is immutable
        Decimal("5"),
        "A zone's consumption above this many times its average daily consumption of the "
        "last 12 months (times the days since the previous reading) is IMPLAUSIBLE_VALUE "
        "unless the customer confirms it.",
    )
    reading_max_daily_kwh: Decimal = setting(  # noqa: RUF009 - Decimal is immutable
        Decimal("300"),
        "The absolute cap: a zone's consumption above this many kWh per day since the "
        "previous reading is implausible whatever the history.",
    )
    payment_provider: str = setting(
        "",
        "The acquirer of `payBill`: the name of a module in `payments/providers/`, or `none` "
        "for no online payments (payBill answers PAYMENTS_UNAVAILABLE and the web client says "
        "where else to pay). Empty: `sandbox` outside production; production needs a real "
        "acquirer or `none`.",
    )
    payment_webhook_secret: str = setting(
        "",
        "Key of the HMAC-SHA256 signature of payment notifications (webhooks) of an acquirer "
        "that signs with it (the sandbox; a module of your own using `payments.signing`). "
        "Without it a key is derived from `SECRET_KEY`; in production it is required (32+ "
        "characters), but not with `PAYMENT_PROVIDER=yookassa`, which signs nothing (its "
        "notifications are checked by address and by asking its API), nor with `none`.",
    )
    payment_max_amount: Decimal = setting(  # noqa: RUF009 - Decimal is immutable
        Decimal("100000.00"), "The largest amount one `payBill` may pay."
    )
    payment_pending_timeout_minutes: int = setting(
        30,
        "A payment still PENDING this many minutes after it was created is marked FAILED "
        "(the customer never confirmed it, or the acquirer never told us).",
    )
    payment_sweep_seconds: float = setting(
        60.0, "How often each server process looks for payments stuck in PENDING."
    )
    autopay_charge_hour: int = setting(
        10,
        "Autopay charges a bill on the day after the import that brought it, from this hour "
        "(0-23, in TIMEZONE) on.",
    )
    autopay_poll_seconds: float = setting(
        60.0, "How often each server process looks for autopay charges that are due."
    )
    yookassa_shop_id: str = setting(
        "",
        "PAYMENT_PROVIDER=yookassa: the shop's id (shopId) from the YooKassa cabinet, the user "
        "name of the API's Basic auth. Required with yookassa in production.",
    )
    yookassa_secret_key: str = setting(
        "",
        "PAYMENT_PROVIDER=yookassa: the shop's secret key (the password of the API's Basic "
        "auth). Required with yookassa in production.",
    )
    yookassa_api_url: str = setting(
        "https://api.yookassa.ru/v3", "PAYMENT_PROVIDER=yookassa: the API's base URL."
    )
    yookassa_notification_ips: str = setting(
        "185.71.76.0/27,185.71.77.0/27,77.75.153.0/25,77.75.156.11,77.75.156.35,"
        "77.75.154.128/25,2a02:5180::/32",
        "Comma-separated addresses and networks YooKassa sends notifications from (its "
        "published list); a notification from any other client address is refused. The "
        "client address is the one FORWARDED_ALLOW_IPS gives (the proxy's X-Forwarded-For).",
    )
    yookassa_receipts: bool = setting(
        True,
        "Send a 54-FZ receipt with every YooKassa payment (to the cabinet's e-mail), for a "
        "shop connected to YooKassa's receipts.",
    )
    yookassa_vat_code: int = setting(
        1, "The receipt item's `vat_code` (1: without VAT; see YooKassa's table of codes)."
    )
    yookassa_tax_system_code: int = setting(
        0, "The receipt's `tax_system_code` (1-6); 0: not sent (the shop has one system)."
    )
    yookassa_timeout_seconds: float = setting(
        10.0, "How long one request to the YooKassa API may take before it is retried."
    )
    yookassa_attempts: int = setting(
        3,
        "How many times a request to the YooKassa API is tried (timeouts, 429 and 5xx are "
        "retried with the same Idempotence-Key) before payBill answers PROVIDER_UNAVAILABLE.",
    )
    yookassa_retry_base_seconds: float = setting(
        0.5, "The first pause between two tries of a YooKassa request; it doubles each time."
    )

    question_messages_per_day: int = setting(
        30,
        "Questions and replies one customer cabinet may send per 24 hours "
        "(`TOO_MANY_MESSAGES` beyond).",
    )
    attachment_max_bytes: int = setting(
        5242880,
        "Largest photo a customer may upload, in bytes (5 MiB); a larger body gets 413 and "
        "is not read.",
    )
    attachments_per_message: int = setting(3, "Photos one question or reply may carry.")
    attachment_pending_per_cabinet: int = setting(
        10,
        "Uploaded photos a cabinet may hold that no message uses yet; further uploads get 429.",
    )
    attachment_pending_hours: int = setting(
        24,
        "An uploaded photo no message uses within this many hours is deleted "
        "(`kabinet attachments cleanup`, and hourly inside `serve`).",
    )
    attachment_max_pixels: int = setting(
        12_500_000,
        "Most pixels (width x height) an uploaded photo may have, read from its header before "
        "anything is decoded (12.5 MP: about 50 MB decoded); more gets 413 "
        "ATTACHMENT_TOO_MANY_PIXELS.",
    )
    mail_body_retention_days: int = setting(
        7,
        "A message of the outbox that was not delivered (failed, so kept for `mail retry`), or "
        "one sent before delivery emptied it, loses its content this many days after it was "
        "queued; recipient, subject, Message-ID and times stay. A delivered message loses its "
        "content at once (its links would stay live).",
    )
    session_retention_days: int = setting(
        90, "An ended session (logged out, revoked, expired) is deleted this many days later."
    )
    audit_retention_days: int = setting(
        1095,
        "A cabinet's security log entry is deleted this many days after the event (3 years).",
    )
    unverified_cabinet_retention_days: int = setting(
        7,
        "A customer's cabinet whose e-mail address was never confirmed is deleted this many "
        "days after registration, with its sessions, tokens, log and account links (the "
        "accounts may be registered again); one with payments, readings or questions, or "
        "a closed one, stays.",
    )
    retention_batch_size: int = setting(
        1000,
        "Rows one statement of the retention job deletes or empties; a round repeats until "
        "nothing is due (hourly in every `serve` process, and `kabinet retention`).",
    )
    privacy_notice_version: str = setting(
        "2026-12-01",
        "Version of the personal-data notice (`/privacy`) customers accept at registration; "
        "a new value asks every customer to accept it at their next login.",
    )
    attachment_rejects_per_hour: int = setting(
        20,
        "Refused uploads (too large, not a photo, too many pixels) one cabinet may make per "
        "hour; beyond, every upload gets 429 TOO_MANY_REJECTED_ATTACHMENTS until the hour ends.",
    )
    attachment_decode_queue: int = setting(
        8,
        "Photos one server process checks (decodes) at once or keeps waiting to; an upload "
        "beyond gets 429 ATTACHMENT_QUEUE_FULL and may be sent again shortly.",
    )

    # Personal data: deleting a cabinet, exporting its data (docs/operations.md).
    cabinet_deletion_grace_days: int = setting(
        14,
        "Days between deleteCabinet and the erasure of the cabinet; logging in and "
        "confirming (cancelCabinetDeletion) within them keeps it.",
    )
    data_export_link_hours: int = setting(
        48,
        "Hours the e-mailed link to a data export (requestDataExport) works; the file is "
        "deleted when it ends.",
    )
    privacy_job_seconds: int = setting(
        60,
        "Seconds between rounds of the personal-data job every server process runs: it "
        "erases cabinets whose grace period ended and builds requested data exports.",
    )

    # The company's requisites, printed on every bill and encoded in its payment QR code.
    # The defaults are fictional: a real deployment sets its own.
    company_name: str = setting(
        "АО «Энергосбыт Приволжья»",
        "Company name as the payee (up to 160 characters, the limit of ГОСТ Р 56042-2014).",
    )
    company_inn: str = setting("5260123451", "Company INN: 10 digits with a valid check digit.")
    company_kpp: str = setting("526001001", "Company KPP: 9 characters.")
    company_address: str = setting(
        "603001, г. Нижний Новгород, Нижне-Волжская наб., д. 7",
        "Company address printed in the header of bills.",
    )
    company_phone: str = setting("8 (831) 200-00-00", "Customer service phone printed on bills.")
    company_site: str = setting("energosbyt.example", "Company web site printed on bills.")
    company_bank_name: str = setting(
        "ПАО «Приволжский расчётный банк»",
        "The company's bank (up to 45 characters, the limit of ГОСТ Р 56042-2014).",
    )
    company_bic: str = setting("042202777", "BIC of the company's bank: 9 digits.")
    company_correspondent_account: str = setting(
        "30101810700000000777",
        "Correspondent account of the bank: 20 digits whose check digit matches the BIC.",
    )
    company_settlement_account: str = setting(
        "40702810042000012345",
        "Settlement account of the company: 20 digits whose check digit matches the BIC.",
    )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def log_style(self) -> str:
        """LOG_FORMAT, or what suits the environment when it is not set."""
        return self.log_format or ("json" if self.is_production else "text")

    @property
    def var_path(self) -> Path:
        return Path(self.var_dir)

    @classmethod
    def documented(cls) -> list[tuple[str, Any, str]]:
        """(ENV_NAME, default, description) of every setting, in declaration order."""
        return [
            (f.name.upper(), f.default, f.metadata["doc"])
            for f in dataclasses.fields(cls)
            if "doc" in f.metadata
        ]


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as python-dotenv reads them (`#` comments, `export `, quotes), taken
    literally: no `${VAR}` expansion, so a `$` in a password stays a `$`. A line it cannot
    read stops the start, naming the line: `dotenv_values` alone would skip it with a log
    warning, and a setting lost to a typo must not go unnoticed."""
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    for binding in parse_stream(io.StringIO(text)):
        if binding.error or (binding.key is not None and binding.value is None):
            line = binding.original.string.rstrip("\r\n")
            raise ConfigError(f"{path}:{binding.original.line}: expected KEY=VALUE, got {line!r}")
    values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {key: value for key, value in values.items() if value is not None}


def _parse(name: str, kind: Any, raw: str) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Decimal:
            return Decimal(raw)
        return raw
    except (ValueError, InvalidOperation):
        raise ConfigError(f"{name}: cannot read {raw!r} as {kind.__name__}") from None


def _development_secret(var_path: Path) -> str:
    path = var_path / "secret_key"
    if path.is_file():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    var_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


_INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = ((7, 1, 3) * 8)[:23]  # 3 digits from the BIC, then the account


def inn_is_valid(inn: str) -> bool:
    """A legal entity's INN: 10 digits, the last one the check digit of the other nine."""
    if len(inn) != 10 or not inn.isascii() or not inn.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(inn[:9], _INN_WEIGHTS, strict=True))
    return total % 11 % 10 == int(inn[9])


def account_key_is_valid(account: str, bic: str, *, correspondent: bool) -> bool:
    """The Bank of Russia's check of a 20-digit account against its bank's BIC.

    A settlement account is checked after the last three digits of the BIC, a
    correspondent account after "0" and the fifth and sixth digits of the BIC.
    """
    if len(account) != 20 or not account.isascii() or not account.isdigit():
        return False
    prefix = "0" + bic[4:6] if correspondent else bic[-3:]
    digits = prefix + account
    return sum(int(d) * w for d, w in zip(digits, _ACCOUNT_WEIGHTS, strict=True)) % 10 == 0


def check_company_requisites(settings: Settings) -> None:
    """Refuse requisites a bank would refuse: a typo here makes every bill unpayable."""
    if not 0 < len(settings.company_name) <= 160:
        raise ConfigError("COMPANY_NAME: required, at most 160 characters")
    if not 0 < len(settings.company_bank_name) <= 45:
        raise ConfigError("COMPANY_BANK_NAME: required, at most 45 characters")
    if not inn_is_valid(settings.company_inn):
        raise ConfigError("COMPANY_INN: expected 10 digits with a valid check digit")
    if len(settings.company_kpp) != 9 or not settings.company_kpp.isalnum():
        raise ConfigError("COMPANY_KPP: expected 9 characters")
    bic = settings.company_bic
    if len(bic) != 9 or not bic.isascii() or not bic.isdigit():
        raise ConfigError("COMPANY_BIC: expected 9 digits")
    if not account_key_is_valid(settings.company_correspondent_account, bic, correspondent=True):
        raise ConfigError(
            "COMPANY_CORRESPONDENT_ACCOUNT: expected 20 digits whose check digit matches "
            "COMPANY_BIC"
        )
    if not account_key_is_valid(settings.company_settlement_account, bic, correspondent=False):
        raise ConfigError(
            "COMPANY_SETTLEMENT_ACCOUNT: expected 20 digits whose check digit matches COMPANY_BIC"
        )


def load_settings(
    environ: dict[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Build settings from `.env` overlaid by the environment (the environment wins)."""
    merged: dict[str, str] = {}
    if env_file is not None:
        merged.update(read_env_file(env_file))
    merged.update(os.environ if environ is None else environ)

    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        env_name = f.name.upper()
        if env_name in merged:
            values[f.name] = _parse(env_name, hints[f.name], merged[env_name])
    settings = Settings(**values)

    if settings.env not in {"development", "production", "test"}:
        raise ConfigError(f"ENV: expected development, production or test, got {settings.env!r}")
    if not settings.public_web_url.startswith(("http://", "https://")):
        raise ConfigError("PUBLIC_WEB_URL: must start with http:// or https://")
    if settings.log_format not in {"", "json", "text"}:
        raise ConfigError(f"LOG_FORMAT: expected json or text, got {settings.log_format!r}")
    if settings.log_level.lower() not in {"debug", "info", "warning", "error", "critical"}:
        raise ConfigError(
            f"LOG_LEVEL: expected debug, info, warning or error, got {settings.log_level!r}"
        )
    if settings.graphql_executor not in GRAPHQL_EXECUTORS:
        raise ConfigError(
            f"GRAPHQL_EXECUTOR: expected {', '.join(GRAPHQL_EXECUTORS)},"
            f" got {settings.graphql_executor!r}"
        )
    check_company_requisites(settings)
    _check_mail(settings)
    _check_questions(settings)
    _check_privacy(settings)
    if not settings.secret_key:
        if settings.is_production:
            raise ConfigError("SECRET_KEY: required when ENV=production")
        settings = dataclasses.replace(settings, secret_key=_development_secret(settings.var_path))
    elif settings.is_production and len(settings.secret_key) < 32:
        raise ConfigError("SECRET_KEY: use at least 32 random characters in production")
    _check_readings(settings)
    _check_payments(settings)
    return dataclasses.replace(settings, public_web_url=settings.public_web_url.rstrip("/"))


SMTP_TLS_MODES = ("none", "starttls", "tls")
GRAPHQL_EXECUTORS = ("compiled", "graphql-core", "differential")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_mailbox(value: str, what: str = "address") -> Address:
    """One mailbox, `a@b.ru` or `Name <a@b.ru>`; an internationalised domain is converted
    to its ASCII form so the message needs no SMTPUTF8."""
    if not isinstance(value, str) or not value.strip() or _CONTROL.search(value):
        raise ValueError(f"{what}: expected an e-mail address, got {value!r}")
    try:
        header = policy.default.header_factory("To", value)
        addresses = header.addresses
    except (HeaderParseError, IndexError, ValueError):
        raise ValueError(f"{what}: {value!r} is not an e-mail address") from None
    if len(addresses) != 1:
        raise ValueError(f"{what}: {value!r} is not exactly one e-mail address")
    address = addresses[0]
    if not address.username.isascii():
        raise ValueError(f"{what}: {value!r} needs an ASCII local part (before the @)")
    if header.defects or not address.username or not address.domain:
        raise ValueError(f"{what}: {value!r} is not an e-mail address")
    try:
        domain = address.domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{what}: {value!r} has an invalid domain") from None
    return Address(display_name=address.display_name, username=address.username, domain=domain)


def _check_mail(settings: Settings) -> None:
    try:
        parse_mailbox(settings.mail_from, "MAIL_FROM")
    except ValueError as exc:
        raise ConfigError(f"{exc} (expected `Name <address>`)") from None
    if settings.smtp_tls not in SMTP_TLS_MODES:
        raise ConfigError(f"SMTP_TLS: expected none, starttls or tls, got {settings.smtp_tls!r}")
    if not 0 < settings.smtp_port < 65536:
        raise ConfigError(f"SMTP_PORT: {settings.smtp_port} is not a port")
    positive = ("smtp_timeout", "mail_batch_size", "mail_poll_seconds", "mail_lease_seconds")
    positive += ("mail_max_attempts", "mail_retry_base_seconds", "mail_retry_max_seconds")
    positive += ("ereceipt_batch_size", "receipt_link_minutes")
    positive += ("push_timeout", "push_batch_size", "push_lease_seconds", "push_max_attempts")
    positive += ("push_retry_base_seconds", "push_retry_max_seconds")
    for name in ("fcm_api_url", "apns_api_url"):
        if not getattr(settings, name).startswith(("https://", "http://")):
            raise ConfigError(f"{name.upper()}: expected an http(s) URL")
    if settings.apns_key_file and not (
        settings.apns_key_id and settings.apns_team_id and settings.apns_topic
    ):
        raise ConfigError("APNS_KEY_FILE needs APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC")
    _require_positive(settings, positive)


def _require_positive(settings: Settings, names: tuple[str, ...]) -> None:
    for name in names:
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name.upper()}: must be greater than zero")


def _check_readings(settings: Settings) -> None:
    start, end = settings.reading_window_start_day, settings.reading_window_end_day
    if not 1 <= start <= end <= 31:
        raise ConfigError(
            "READING_WINDOW_START_DAY, READING_WINDOW_END_DAY: expected days of the month "
            f"with 1 <= start <= end <= 31, got {start} and {end}"
        )
    if not 0 <= settings.reading_reminder_hour <= 23:
        raise ConfigError("READING_REMINDER_HOUR: expected an hour from 0 to 23")
    if settings.reading_reminder_days_before_close < 0:
        raise ConfigError("READING_REMINDER_DAYS_BEFORE_CLOSE: must not be negative")
    if settings.reading_reminder_poll_seconds <= 0:
        raise ConfigError("READING_REMINDER_POLL_SECONDS: must be greater than zero")
    if settings.reading_max_factor <= 0 or settings.reading_max_daily_kwh <= 0:
        raise ConfigError("READING_MAX_FACTOR, READING_MAX_DAILY_KWH: must be greater than zero")


SANDBOX_PROVIDER = "sandbox"
NO_PAYMENTS = "none"  # PAYMENT_PROVIDER=none: no online payments at all
# Acquirers whose notifications carry no signature of PAYMENT_WEBHOOK_SECRET: YooKassa signs
# nothing, so its module checks the sender's address and asks its own API instead.
UNSIGNED_PROVIDERS = frozenset({"yookassa"})
_PROVIDERS_DIR = Path(__file__).resolve().parent / "payments" / "providers"


def provider_module(name: str) -> str | None:
    """The module of an acquirer: `payments/providers/<name>.py`, or a dotted module path."""
    if "." not in name:
        found = name.isidentifier() and (_PROVIDERS_DIR / f"{name}.py").is_file()
        return f"payments.providers.{name}" if found else None
    try:
        return name if importlib.util.find_spec(name) is not None else None
    except (ImportError, ValueError):
        return None


def payment_provider_name(settings: Settings) -> str:
    """The acquirer `payBill` uses: the sandbox by default, never in production; `none`
    when online payments are off."""
    name = settings.payment_provider.strip()
    if not name:
        if settings.is_production:
            raise ConfigError(
                "PAYMENT_PROVIDER: required when ENV=production (the sandbox takes no money): "
                "name a real acquirer (e.g. yookassa), or set PAYMENT_PROVIDER=none to run "
                "without online payments"
            )
        return SANDBOX_PROVIDER
    if name == NO_PAYMENTS:
        return NO_PAYMENTS
    if name == SANDBOX_PROVIDER and settings.is_production:
        raise ConfigError("PAYMENT_PROVIDER: the sandbox takes no money; not in production")
    if provider_module(name) is None:
        raise ConfigError(
            f"PAYMENT_PROVIDER: no acquirer module {name!r} (payments/providers/{name}.py "
            "or a dotted module path)"
        )
    return name


def online_payments(settings: Settings) -> bool:
    """Whether `payBill` takes payments: false with PAYMENT_PROVIDER=none. Never raises, so
    settings made by hand without an acquirer keep the app starting (payBill then answers
    PROVIDER_UNAVAILABLE)."""
    return settings.payment_provider.strip() != NO_PAYMENTS


def _check_payments(settings: Settings) -> None:
    payment_provider_name(settings)
    if settings.payment_max_amount <= 0:
        raise ConfigError("PAYMENT_MAX_AMOUNT: must be greater than zero")
    if settings.guest_min_amount < 0 or settings.guest_max_amount <= 0:
        raise ConfigError("GUEST_MIN_AMOUNT, GUEST_MAX_AMOUNT: must not be negative, above zero")
    if settings.guest_attempts_per_hour <= 0 or settings.guest_attempts_per_account <= 0:
        raise ConfigError(
            "GUEST_ATTEMPTS_PER_HOUR, GUEST_ATTEMPTS_PER_ACCOUNT: must be greater than zero"
        )
    if settings.payment_pending_timeout_minutes <= 0 or settings.payment_sweep_seconds <= 0:
        raise ConfigError(
            "PAYMENT_PENDING_TIMEOUT_MINUTES, PAYMENT_SWEEP_SECONDS: must be greater than zero"
        )
    if not 0 <= settings.autopay_charge_hour <= 23 or settings.autopay_poll_seconds <= 0:
        raise ConfigError(
            "AUTOPAY_CHARGE_HOUR: 0 to 23; AUTOPAY_POLL_SECONDS: must be greater than zero"
        )
    if payment_provider_name(settings) == "yookassa":
        _check_yookassa(settings)
    secret_needed = settings.is_production and needs_webhook_secret(settings)
    if secret_needed and len(settings.payment_webhook_secret) < 32:
        raise ConfigError(
            "PAYMENT_WEBHOOK_SECRET: required when ENV=production with an acquirer that "
            "signs its notifications with it, at least 32 random characters"
        )


def needs_webhook_secret(settings: Settings) -> bool:
    """Whether the configured acquirer's notifications are signed with
    PAYMENT_WEBHOOK_SECRET: not with `none` (no notifications) nor an unsigned acquirer."""
    name = payment_provider_name(settings)
    return name != NO_PAYMENTS and name not in UNSIGNED_PROVIDERS


def yookassa_networks(settings: Settings) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """YOOKASSA_NOTIFICATION_IPS as networks (a single address is a /32 or /128)."""
    items = [item.strip() for item in settings.yookassa_notification_ips.split(",")]
    return [ipaddress.ip_network(item, strict=False) for item in items if item]


def _check_yookassa(settings: Settings) -> None:
    if settings.is_production and not (settings.yookassa_shop_id and settings.yookassa_secret_key):
        raise ConfigError(
            "YOOKASSA_SHOP_ID, YOOKASSA_SECRET_KEY: required with PAYMENT_PROVIDER=yookassa "
            "when ENV=production (the shop's id and secret key from the YooKassa cabinet)"
        )
    try:
        yookassa_networks(settings)
    except ValueError as exc:
        raise ConfigError(f"YOOKASSA_NOTIFICATION_IPS: {exc}") from None
    if not settings.yookassa_api_url.startswith(("https://", "http://")):
        raise ConfigError("YOOKASSA_API_URL: expected an http(s) URL")
    if settings.yookassa_tax_system_code not in range(7):
        raise ConfigError("YOOKASSA_TAX_SYSTEM_CODE: expected 1-6, or 0 for none")
    if settings.yookassa_vat_code not in range(1, 13):
        raise ConfigError("YOOKASSA_VAT_CODE: expected one of YooKassa's codes, 1-12")
    _require_positive(
        settings,
        ("yookassa_timeout_seconds", "yookassa_attempts", "yookassa_retry_base_seconds"),
    )


def _check_questions(settings: Settings) -> None:
    positive = ("question_messages_per_day", "attachment_max_bytes", "attachments_per_message")
    positive += ("attachment_pending_per_cabinet", "attachment_pending_hours")
    positive += ("attachment_max_pixels", "attachment_rejects_per_hour", "attachment_decode_queue")
    _require_positive(settings, positive)
    _require_positive(
        settings,
        ("cabinet_deletion_grace_days", "data_export_link_hours", "privacy_job_seconds"),
    )


def _check_privacy(settings: Settings) -> None:
    retention = ("mail_body_retention_days", "session_retention_days", "audit_retention_days")
    retention += ("unverified_cabinet_retention_days", "retention_batch_size")
    _require_positive(settings, retention)
    version = settings.privacy_notice_version
    if not version.strip() or len(version) > 32 or version != version.strip():
        raise ConfigError(
            "PRIVACY_NOTICE_VERSION: expected 1 to 32 characters without surrounding "
            f"spaces (e.g. a date, 2026-12-01), got {version!r}"
        )


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def use_settings(settings: Settings | None) -> None:
    """Replace the process-wide settings (tests, or a CLI flag); None reloads on next use."""
    global _current
    _current = settings


# The configuration reference, docs/configuration.md, is rendered from the definitions above
# (`make docs`, or `python -m config`), and tests/ops/test_docs.py fails when the file falls behind.
# A section starts at the setting named here and runs to the next section's first setting, so
# a new setting declared among its neighbours lands in their section without a word here.
REFERENCE_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("The server", "env", ""),
    ("Logs", "log_level", ""),
    (
        "Requests and their limits",
        "max_request_bytes",
        "What one request may ask of a server process; the API guide's "
        "[limits](api.md#limits) give the error code a client sees for each.",
    ),
    ("Metrics and CORS", "metrics_token", ""),
    (
        "Proof of ownership",
        "proof_payment_window_days",
        "Registration, linking an account and recovery without e-mail all ask for the same proof: "
        "the account number and the amount of a recent payment.",
    ),
    ("Links and sessions", "email_link_minutes", ""),
    ("Logins and passwords", "login_free_failures", ""),
    ("Support contacts", "support_phone", ""),
    ("Mail", "mail_from", "How the outbox and its workers use these: [Mail](operations.md#mail)."),
    (
        "Push notifications",
        "fcm_credentials_file",
        "The push outbox and its workers: [Push](operations.md#push-notifications).",
    ),
    ("Meter readings", "reading_window_start_day", ""),
    (
        "Online payments",
        "payment_provider",
        "The acquirer and its webhook: [Payments](operations.md#payments-and-the-acquirer).",
    ),
    ("Questions and photos", "question_messages_per_day", ""),
    (
        "Personal data",
        "cabinet_deletion_grace_days",
        "Deleting a cabinet and exporting its data: [Personal data](operations.md#personal-data).",
    ),
    (
        "Company requisites",
        "company_name",
        "Printed on every bill and encoded in its payment QR code. The defaults are fictional "
        "(their check digits are right, so the demo's QR codes scan); a deployment sets its own. "
        "They are checked at start-up: a wrong INN, BIC or account check digit is a startup "
        "error naming the setting, since a typo there would make every bill unpayable.",
    ),
)

_TYPE_NAMES = {str: "text", int: "integer", float: "number", Decimal: "decimal", bool: "boolean"}


def _reference_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _reference_default(value: Any) -> str:
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`"


def settings_reference() -> str:
    """docs/configuration.md: every setting of `Settings` with its type, default and meaning,
    in declaration order, under the headings of REFERENCE_SECTIONS."""
    hints = get_type_hints(Settings)
    names = [f.name for f in dataclasses.fields(Settings) if "doc" in f.metadata]
    starts = {first: (title, intro) for title, first, intro in REFERENCE_SECTIONS}
    if unknown := set(starts) - set(names):
        raise ValueError(f"REFERENCE_SECTIONS names no setting: {sorted(unknown)}")
    if names[0] not in starts:
        raise ValueError(f"REFERENCE_SECTIONS must start at the first setting, {names[0]!r}")
    if [n for n in names if n in starts] != [first for _t, first, _i in REFERENCE_SECTIONS]:
        raise ValueError("REFERENCE_SECTIONS must follow the order of the settings")
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from config.py by `make docs` (`python -m config`): edit the settings",
        "     there, not this file. tests/ops/test_docs.py fails when the two differ. -->",
        "",
        "Settings are read once at start-up from the environment; a `.env` file in the working",
        "directory is read too (the environment wins). Each setting's name is its environment",
        "variable. A value that cannot be used (a wrong type, a day out of range, a production",
        "deployment without `SECRET_KEY`) stops the server at start-up with a message naming the",
        "setting; `kabinet check` goes further and reports what would hurt in production",
        "([Running in production](operations.md#running-in-production)).",
        "",
        "A boolean is `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).",
    ]
    fields_by_name = {f.name: f for f in dataclasses.fields(Settings)}
    for name in names:
        if name in starts:
            title, intro = starts[name]
            lines += ["", f"## {title}", ""]
            if intro:
                lines += [intro, ""]
            lines += ["| Setting | Type | Default | Meaning |", "|---|---|---|---|"]
        f = fields_by_name[name]
        kind = _TYPE_NAMES.get(hints[name], getattr(hints[name], "__name__", str(hints[name])))
        cells = (f"`{name.upper()}`", kind, _reference_default(f.default), f.metadata["doc"])
        lines.append("| " + " | ".join(_reference_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_reference(), end="")
