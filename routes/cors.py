"""The request headers a page of an allowed origin may send to the API (CORS): what the
preflight (`OPTIONS` with `Access-Control-Request-Headers`) answers. A browser refuses the
whole request when one header it is about to send is not listed, so the list holds what
common GraphQL clients and tracing libraries add on their own; CORS_ALLOW_HEADERS adds
more. docs/api.md lists them (tests/api/test_cors.py keeps the two in step)."""

from __future__ import annotations

from config import Settings

CORS_ALLOW_HEADERS = (
    # the API's own
    "Accept",
    "Accept-Language",
    "Authorization",
    "Content-Type",
    "X-Request-ID",
    # Apollo Client and Apollo's tooling
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    # tracing: W3C Trace Context and Baggage (OpenTelemetry), Sentry, correlation ids
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
    "X-Correlation-ID",
    "X-Requested-With",
)


def allowed_headers(settings: Settings) -> list[str]:
    """CORS_ALLOW_HEADERS after the built-in list, each name once."""
    names = list(CORS_ALLOW_HEADERS)
    seen = {name.lower() for name in names}
    for name in (n.strip() for n in settings.cors_allow_headers.split(",")):
        if name and name.lower() not in seen:
            names.append(name)
            seen.add(name.lower())
    return names
