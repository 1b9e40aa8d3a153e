"""OpenTelemetry tracing, on only when an OTLP endpoint is configured.

`configure()` (called once per server process, server.py) reads the standard OTEL_*
variables of the environment: with `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set it installs the SDK's tracer provider with a
batching OTLP/HTTP exporter, and spans for SQL statements: asyncpg's through
opentelemetry-instrumentation-asyncpg, SQLite's through a small wrapper of aiosqlite's
connection (below). Without it nothing is installed: no middleware, no extension, no
patched driver; the API's tracer stays the no-op it is by default.

The spans of the request and of the GraphQL operation are made where those live
(routes/tracing.py, schema/tracing.py); they ask `enabled()` whether to exist at all.
Statements are recorded as their text, which has placeholders and never the values.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any

from opentelemetry import trace

from models import sql

log = logging.getLogger("kabinet")

_enabled = False
# The name of the tracer of kabinet's own spans (request, operation, SQLite statements).
TRACER = "kabinet"


def enabled() -> bool:
    """Whether this process exports traces (`configure` found an endpoint)."""
    return _enabled


def wanted(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """An OTLP endpoint is set and the SDK is not disabled (OTEL_SDK_DISABLED)."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    )


def configure() -> bool:
    """Install tracing when the environment asks for it; returns whether it is on."""
    global _enabled
    if _enabled or not wanted():
        return _enabled
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "kabinet"}))
    # The sampler, the exporter's endpoint, headers, timeout and compression, and the
    # batching all come from the OTEL_* variables, as the SDK reads them.
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(_requests_only(BatchSpanProcessor(OTLPSpanExporter())))
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)
    _instrument_aiosqlite()
    sql.trips = False  # each statement through the methods just wrapped: a span each
    _enabled = True
    log.info("tracing: spans exported over OTLP/HTTP (%s)", resource.attributes[SERVICE_NAME])
    return True


def flush() -> None:
    """Export the spans still waiting in the batch: at shutdown, since uvicorn ends the
    process by its signal once it has stopped, and the SDK's atexit hook never runs."""
    if _enabled:
        provider = trace.get_tracer_provider()
        provider.force_flush(timeout_millis=5000)  # type: ignore[attr-defined]


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the span in progress, in W3C hex, for the log lines."""
    if not _enabled:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def _requests_only(inner: Any) -> Any:
    """The batch processor, less the statements that no request made: the background
    loops (the mail worker, the sweeper) query every few seconds, and a trace of one
    SELECT each time would bury the requests' traces. Their statements have no parent."""
    from opentelemetry.sdk.trace import SpanProcessor

    class RequestsOnly(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            inner.on_start(span, parent_context=parent_context)

        def on_end(self, span: Any) -> None:
            if span.parent is None and span.kind is trace.SpanKind.CLIENT:
                attributes = span.attributes or {}
                if "db.system" in attributes or "db.system.name" in attributes:
                    return
            inner.on_end(span)

        def shutdown(self) -> None:
            inner.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return inner.force_flush(timeout_millis)

    return RequestsOnly()


# ---------------------------------------------------------------- SQLite statements

_SQLITE_METHODS = ("execute", "executemany", "execute_fetchall", "execute_insert", "executescript")


def _instrument_aiosqlite() -> None:
    """A CLIENT span per statement of every aiosqlite connection, Tortoise's and the plain
    SQL of models/sql.py alike. aiosqlite's methods return an object that is both awaited
    and used with `async with`; the wrapper keeps that, and starts the span when the
    statement runs, as a child of the span in progress (none when there is none)."""
    import aiosqlite
    from aiosqlite.context import Result

    tracer = trace.get_tracer(TRACER)
    for name in _SQLITE_METHODS:
        original = getattr(aiosqlite.Connection, name)
        if getattr(original, "_kabinet_traced", False):
            continue

        def wrapper(self: Any, sql: str, *args: Any, _original: Any = original, **kw: Any):
            return Result(_traced_statement(tracer, _original(self, sql, *args, **kw), sql))

        wrapper._kabinet_traced = True  # type: ignore[attr-defined]
        wrapper.__name__ = name
        wrapper.__doc__ = original.__doc__
        setattr(aiosqlite.Connection, name, wrapper)


async def _traced_statement(tracer: trace.Tracer, statement: Any, sql: str) -> Any:
    if not trace.get_current_span().is_recording():
        return await statement
    with tracer.start_as_current_span(
        _operation(sql),
        kind=trace.SpanKind.CLIENT,
        attributes={"db.system": "sqlite", "db.statement": sql},
    ):
        return await statement


def _operation(sql: str) -> str:
    """The span's name: the statement's first word (SELECT, INSERT, BEGIN...), as the
    asyncpg instrumentation names its spans."""
    words: Iterable[str] = sql.split(None, 1)
    return next(iter(words), "SQL").upper()
