"""A SERVER span for every HTTP request, continuing the trace of a client's W3C
`traceparent` / `tracestate` (the propagators of OTEL_PROPAGATORS, W3C by default).

In the middleware stack only when tracing is on (services/core/tracing.py), just inside
the proxy headers (so the client address is the true one) and outside the request
context, so that the access log line is written while the span is current and carries
its trace id. Recorded: method, path (never the query string: the links of e-mails carry
their tokens there), route, status, client address, user agent and the request id.
Responses carry no `traceparent`: it is a request header; the `X-Request-ID` every
response has leads to the request's log lines, and they carry the trace id."""

from __future__ import annotations

from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from starlette.middleware import Middleware

from services.core import tracing


def middleware() -> list[Middleware]:
    """The tracing middleware, or none when tracing is off."""
    return [Middleware(TraceRequests)] if tracing.enabled() else []


class _AsgiHeaders(Getter[list[tuple[bytes, bytes]]]):
    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        found = [value.decode("latin-1") for name, value in carrier if name.lower() == wanted]
        return found or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [name.decode("latin-1") for name, _ in carrier]


_GETTER = _AsgiHeaders()


class TraceRequests:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.tracer = trace.get_tracer(tracing.TRACER)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or []
        method = scope["method"]
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
            "network.protocol.version": scope.get("http_version", "1.1"),
        }
        if client := scope.get("client"):
            attributes["client.address"] = client[0]
        if agent := _GETTER.get(headers, "user-agent"):
            attributes["user_agent.original"] = agent[0]
        with self.tracer.start_as_current_span(
            method,
            context=propagate.extract(headers, getter=_GETTER),
            kind=trace.SpanKind.SERVER,
            attributes=attributes,
            record_exception=True,
            set_status_on_exception=True,
        ) as span:

            async def traced_send(message: Any) -> None:
                if message["type"] == "http.response.start":
                    status = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    for name, value in message.get("headers", ()):
                        if name == b"x-request-id":
                            span.set_attribute("kabinet.request_id", value.decode("latin-1"))
                    if status >= 500:
                        span.set_status(trace.StatusCode.ERROR)
                await send(message)

            try:
                await self.app(scope, receive, traced_send)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    span.set_attribute("http.route", route)
                    span.update_name(f"{method} {route}")
