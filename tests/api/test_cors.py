"""A page of an allowed origin may send the headers common clients add (issue 18, item 6):
Apollo's client awareness, W3C trace context, Sentry. Preflights as a browser sends them."""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest

from config import ROOT
from routes.cors import CORS_ALLOW_HEADERS
from server import create_app

APP = "https://app.example.ru"


def app_client(settings, **changes) -> httpx.AsyncClient:
    settings = dataclasses.replace(settings, cors_origins=APP, **changes)
    transport = httpx.ASGITransport(app=create_app(settings, manage_db=False))
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


async def preflight(http: httpx.AsyncClient, headers: str, origin: str = APP) -> httpx.Response:
    return await http.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )


def allowed(response: httpx.Response) -> set[str]:
    value = response.headers.get("access-control-allow-headers", "")
    return {name.strip().lower() for name in value.split(",")}


async def test_what_apollo_and_tracing_send_passes_the_preflight(settings) -> None:
    # What Apollo Client 3 with OpenTelemetry's and Sentry's fetch instrumentation asks
    # for at once (browsers send the names lowercased, sorted, comma-separated).
    apollo = (
        "apollographql-client-name,apollographql-client-version,baggage,content-type,"
        "sentry-trace,traceparent,tracestate,x-request-id"
    )
    async with app_client(settings) as http:
        response = await preflight(http, apollo)
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == APP
        assert response.headers["access-control-allow-credentials"] == "true"
        assert set(apollo.split(",")) <= allowed(response)
        for name in CORS_ALLOW_HEADERS:  # and each documented header on its own
            one = await preflight(http, name.lower())
            assert one.status_code == 200, (name, one.text)


async def test_other_headers_and_other_origins_are_still_refused(settings) -> None:
    async with app_client(settings) as http:
        unknown = await preflight(http, "content-type,x-something-else")
        assert unknown.status_code == 400
        assert "x-something-else" not in allowed(unknown)
        stranger = await preflight(http, "traceparent", origin="https://evil.example.com")
        assert stranger.status_code == 400
        assert "access-control-allow-origin" not in stranger.headers


@pytest.mark.parametrize("extra", ["X-App-Build", "x-app-build, X-Tenant"])
async def test_operators_add_headers(settings, extra: str) -> None:
    async with app_client(settings, cors_allow_headers=extra) as http:
        response = await preflight(http, "content-type,x-app-build")
        assert response.status_code == 200, response.text
        assert "x-app-build" in allowed(response)
        assert (await preflight(http, "x-not-added")).status_code == 400


def test_the_list_is_documented() -> None:
    api = (ROOT / "docs" / "api.md").read_text()
    section = api.split("### From a web page on another origin (CORS)")[1].split("\n### ")[0]
    documented = {name.lower() for name in re.findall(r"`([A-Za-z-]+)`", section)}
    assert {name.lower() for name in CORS_ALLOW_HEADERS} <= documented
