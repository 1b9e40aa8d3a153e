"""What operators see: JSON log lines carrying the request id (and the trace and span ids
while tracing is on, services/core/tracing.py), with secrets kept out, and
Prometheus metrics (prometheus_client: the exposition format, histograms and the
multi-process mode that several uvicorn workers need are its job, not ours)."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import secrets
import time
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from models import db
from services.core import tracing

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def new_request_id(incoming: str | None) -> str:
    """The caller's X-Request-ID when it looks like one (a proxy's), else a fresh one."""
    if incoming and _REQUEST_ID.fullmatch(incoming):
        return incoming
    return secrets.token_hex(8)


# ---------------------------------------------------------------- logs

# Whatever a careless log call might carry: bearer tokens, passwords in JSON or forms,
# password hashes, and the tokens of e-mailed links.
_SECRETS = (
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    (
        re.compile(
            r'(?i)("?(?:password|newPassword|currentPassword|token|recoveryToken|secret)'
            r'"?\s*[:=]\s*)("[^"]*"|[^\s,&}]+)'
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"\$argon2id\$[^\s\"']+"), "[redacted-hash]"),
)
_LINK_TOKENS = (re.compile(r"(?i)([?&]token=)[^&\s\"']+"), r"\1[redacted]")


def redact(text: str, *, link_tokens: bool = True) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    if link_tokens:
        text = _LINK_TOKENS[0].sub(_LINK_TOKENS[1], text)
    return text


class RedactingFilter(logging.Filter):
    """Last line of defence: secrets are never logged on purpose, and never by accident.
    Outside production the links of the development mailbox keep their tokens: following
    them from the log is how a developer walks through the flows (docs/operations.md, "Mail")."""

    def __init__(self, production: bool) -> None:
        super().__init__()
        self.production = production

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        keep_links = not self.production and record.name == "kabinet.mail"
        cleaned = redact(message, link_tokens=not keep_links)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class OutageFilter(logging.Filter):
    """A database that is away is an expected, passing condition, logged as one line: a
    record carrying such an exception (asyncpg's pool retrying its connections, say) gets
    the exception's first line instead of its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and (cause := db.outage_cause(record.exc_info[1])) is not None:
            record.msg, record.args = f"{record.getMessage()}: {db.describe_outage(cause)}", ()
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        if ids := tracing.current_ids():
            entry["trace_id"], entry["span_id"] = ids
        for key in ("method", "path", "status", "duration_ms", "client", "operation", "outcome"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = request_id.get()
        ids = tracing.current_ids()
        tags = ([rid] if rid else []) + ([f"trace_id={ids[0]} span_id={ids[1]}"] if ids else [])
        return f"{line} [{' '.join(tags)}]" if tags else line


def configure_logging(level: str, fmt: str, *, production: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(OutageFilter())
    handler.addFilter(RedactingFilter(production))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The ORM logs every query with its parameters at DEBUG: hashes, e-mails, tokens.
    logging.getLogger("tortoise.db_client").setLevel(logging.INFO)
    # uvicorn's own access log says less than ours (no request id, no operation).
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


# ---------------------------------------------------------------- metrics

REQUESTS = Counter(
    "kabinet_http_requests_total",
    "HTTP requests by route, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "kabinet_http_request_seconds",
    "HTTP request duration by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OPERATIONS = Counter(
    "kabinet_graphql_operations_total",
    "GraphQL operations by name, type and outcome (ok, user_error, error, rejected).",
    ["operation", "type", "outcome"],
)
GRAPHQL_EXECUTIONS = Counter(
    "kabinet_graphql_executions_total",
    "GraphQL executions by executor: `compiled` (a plan, schema/compiler.py) or "
    "`graphql-core` with the reason a plan did not cover it (subscription, "
    "compile_error, ...; `setting` when GRAPHQL_EXECUTOR turns plans off).",
    ["executor", "reason"],
)
OPERATION_LATENCY = Histogram(
    "kabinet_graphql_operation_seconds",
    "GraphQL operation duration by name.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LOGINS = Counter("kabinet_logins_total", "Login attempts by outcome.", ["outcome"])
RECOVERIES = Counter(
    "kabinet_recovery_steps_total",
    "Recovery without e-mail by step and outcome.",
    ["step", "outcome"],
)
RATE_LIMITED = Counter("kabinet_rate_limited_total", "Requests refused with 429.")
# Read from the database when /metrics is scraped, by whichever worker answers: the most
# recent reading is the true one.
OUTBOX_DEPTH = Gauge(
    "kabinet_outbox_messages",
    "Outbox messages by state.",
    ["state"],
    multiprocess_mode="livemostrecent",
)
OUTBOX_AGE = Gauge(
    "kabinet_outbox_oldest_unsent_seconds",
    "Age of the oldest message not yet sent.",
    multiprocess_mode="livemostrecent",
)
# Each process refreshes its own every few seconds (server.py); /metrics sums the live ones.
DB_POOL = Gauge(
    "kabinet_db_pool_connections",
    "Database connections of the server's processes by state (open, idle).",
    ["state"],
    multiprocess_mode="livesum",
)


def render_metrics() -> bytes:
    """The exposition text: this process's registry, or every worker's when uvicorn
    runs several (PROMETHEUS_MULTIPROC_DIR)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()
