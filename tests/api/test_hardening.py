"""The GraphQL surface against hostile input, and what production turns off
(SECURITY.md 16-17)."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re

import httpx
import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from models.db import tortoise_config
from server import create_app
from services.core import telemetry
from tests.support import PASSWORD, Api

pytestmark = pytest.mark.usefixtures("demo_data")


def app_client(settings, **changes) -> httpx.AsyncClient:
    app = create_app(dataclasses.replace(settings, **changes), manage_db=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


def codes(body: dict) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


async def test_depth_limit(client) -> None:
    nest = "meter { lastReading { " * 8
    deep = "{ me { accounts { readings { nodes { " + nest + "id" + " } }" * 8 + " } } } } }"
    body = (await client.post("/graphql", json={"query": deep})).json()
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert codes(body) == ["QUERY_TOO_DEEP"]
    assert "data" not in body or body["data"] is None


async def test_alias_and_token_limits(client) -> None:
    aliases = " ".join(f"a{i}: version" for i in range(31))
    body = (await client.post("/graphql", json={"query": f"{{ {aliases} }}"})).json()
    assert "aliases" in body["errors"][0]["message"]
    assert codes(body) == ["TOO_MANY_ALIASES"]
    tokens = "{ " + " ".join("v" for _ in range(6000)) + " }"  # under MAX_QUERY_BYTES
    body = (await client.post("/graphql", json={"query": tokens})).json()
    assert "token" in body["errors"][0]["message"].lower()
    assert codes(body) == ["QUERY_TOO_LARGE"]


async def test_query_cost_limit(client) -> None:
    page = "me { securityEvents(first: 100) { nodes { id kind at ip device detail } } }"
    costly = "{ " + " ".join(f"a{i}: {page}" for i in range(10)) + " }"
    body = (await client.post("/graphql", json={"query": costly})).json()
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["extensions"]["cost"] > 5000
    cheap = "{ " + " ".join(f"a{i}: {page}" for i in range(2)) + " }"
    assert "errors" not in (await client.post("/graphql", json={"query": cheap})).json()
    with_variable = "query($n: Int) { " + page.replace("first: 100", "first: $n") + " }"
    assert "errors" not in (await client.post("/graphql", json={"query": with_variable})).json()


async def test_query_cost_counts_the_variables_the_request_sends(client) -> None:
    """Issue 17, item 5: a page size in a variable counted as its declared default, so a
    document declaring `$n: Int = 1` and sent with n=100 passed as cheap and fetched 100
    times more. The cost now counts what the request sends."""
    page = "me { securityEvents(first: $n) { nodes { id kind at ip device detail } } }"
    aliased = " ".join(f"a{i}: {page}" for i in range(10))
    graphql_response = {"Accept": "application/graphql-response+json"}
    for declared in ("$n: Int = 1", "$n: Int"):
        document = f"query Dodge({declared}) {{ {aliased} }}"
        dodge = await client.post(
            "/graphql", json={"query": document, "variables": {"n": 100}}, headers=graphql_response
        )
        assert dodge.status_code == 400, dodge.text
        assert codes(dodge.json()) == ["QUERY_TOO_COMPLEX"]
        assert dodge.json()["errors"][0]["extensions"]["cost"] > 5000
        assert "data" not in dodge.json()
        for honest in ({}, {"n": 5}):  # the default (or the field's own), a small page
            answer = await client.post(
                "/graphql", json={"query": document, "variables": honest}, headers=graphql_response
            )
            assert answer.status_code == 200 and "errors" not in answer.json(), answer.text


async def test_production_hides_the_schema(settings) -> None:
    async with app_client(settings, env="production") as http:
        introspection = await http.post(
            "/graphql", json={"query": "{ __schema { types { name } } }"}
        )
        assert "introspection" in introspection.json()["errors"][0]["message"].lower()
        typo = await http.post("/graphql", json={"query": "{ versio }"})
        message = typo.json()["errors"][0]["message"]
        assert "Did you mean" not in message and "version" not in message
        ide = await http.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 404 and "graphiql" not in ide.text.lower()
    async with app_client(settings) as http:  # development keeps them
        typo = await http.post("/graphql", json={"query": "{ versio }"})
        assert "Did you mean" in typo.json()["errors"][0]["message"]


async def test_a_database_error_leaks_nothing(settings) -> None:
    """A database that is away: the client sees no SQL, no path, no exception, only that
    the service is unavailable for now (tests/api/test_http.py has the 503 in full)."""
    unreachable = "postgres://postgres@127.0.0.1:1/nowhere"
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(unreachable), init_connections=False)
        async with app_client(settings, database_url=unreachable, env="production") as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ me { email } }"},
                headers={"Authorization": "Bearer some-token"},
            )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert (
        "extensions" not in body["errors"][0] or "exception" not in body["errors"][0]["extensions"]
    )
    for leak in ("Traceback", "asyncpg", "SELECT", "127.0.0.1", "File "):
        assert leak not in response.text


async def test_security_headers_everywhere(client, settings) -> None:
    for path in ("/graphql", "/healthz", "/readyz", "/nowhere"):
        response = await client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert len(response.headers["x-request-id"]) >= 8


async def test_request_ids(client) -> None:
    mine = await client.get("/healthz", headers={"X-Request-ID": "lb-1234567890abcdef"})
    assert mine.headers["x-request-id"] == "lb-1234567890abcdef"
    bad = await client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert bad.headers["x-request-id"] != "<script>"


async def test_cors_only_for_configured_origins(settings) -> None:
    async with app_client(settings, cors_origins="https://app.example.ru") as http:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        allowed = await http.options(
            "/graphql", headers={"Origin": "https://app.example.ru", **preflight}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.ru"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        own = await http.options(
            "/graphql", headers={"Origin": "https://lk.example.ru", **preflight}
        )
        assert own.headers["access-control-allow-origin"] == "https://lk.example.ru"
        other = await http.options(
            "/graphql", headers={"Origin": "https://evil.example.com", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers


async def test_request_body_limits(settings) -> None:
    async with app_client(settings, max_request_bytes=2000) as http:
        big = json.dumps({"query": "{ version }", "variables": {"x": "y" * 3000}})
        response = await http.post(
            "/graphql", content=big, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413

        async def endless():
            for _ in range(2000):  # no Content-Length: the stream is cut as it arrives
                yield b"x" * 4096

        response = await http.post(
            "/graphql", content=endless(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413


async def test_rate_limit(settings) -> None:
    async with app_client(settings, rate_limit_per_minute=5) as http:
        statuses = []
        for _ in range(6):
            response = await http.post(
                "/graphql", json={"query": "{ rateLimit { limit remaining resetAt } }"}
            )
            statuses.append(response.status_code)
        assert statuses == [200] * 5 + [429]
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        health = await http.get("/healthz")  # probes are never limited
        assert health.status_code == 200
    async with app_client(settings, rate_limit_per_minute=100) as http:
        first = (
            await http.post("/graphql", json={"query": "{ rateLimit { limit remaining resetAt } }"})
        ).json()
        assert first["data"]["rateLimit"]["limit"] == 100
        assert first["data"]["rateLimit"]["remaining"] == 99
    async with app_client(settings, rate_limit_per_minute=0) as http:
        off = (await http.post("/graphql", json={"query": "{ rateLimit { limit } }"})).json()
        assert off["data"]["rateLimit"] is None


async def test_logs_are_json_with_request_ids_and_no_secrets(api: Api, settings) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(telemetry.JsonFormatter())
    handler.addFilter(telemetry.RedactingFilter(production=True))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("tortoise.db_client").setLevel(logging.INFO)
    try:
        user = await api.signed_up()
        await api.login("ivanova@mail.ru", "wrong-guess-password")
        await user.data("{ me { email } }")
        logging.getLogger("kabinet").info(
            "careless: Authorization: Bearer abc.def password=%s link https://x/set-password?token=SECRET",
            PASSWORD,
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines
    text = stream.getvalue()
    for secret in (PASSWORD, "wrong-guess-password", user.token, "SECRET", "abc.def", "$argon2id$"):
        assert secret not in text, secret
    access = [line for line in lines if line["logger"] == "kabinet.access"]
    assert access and all(line["request_id"] for line in access)


async def test_metrics(client, settings) -> None:
    await client.post("/graphql", json={"query": "{ version }"})
    await client.post(
        "/graphql",
        json={
            "query": 'mutation { login(input: {email: "a@mail.ru", password: "whatever-it-is"}) { token } }'
        },
    )
    text = (await client.get("/metrics")).text
    assert 'kabinet_http_requests_total{method="POST",route="/graphql",status="200"}' in text
    assert 'kabinet_graphql_operations_total{operation="version",outcome="ok",type="query"}' in text
    assert 'kabinet_logins_total{outcome="invalid_credentials"}' in text
    assert "kabinet_http_request_seconds_bucket" in text
    assert 'kabinet_outbox_messages{state="pending"}' in text
    assert "kabinet_outbox_oldest_unsent_seconds" in text
    async with app_client(settings, metrics_token="m" * 32) as http:
        assert (await http.get("/metrics")).status_code == 401
        ok = await http.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
        assert ok.status_code == 200


@pytest.mark.parametrize(
    ("bad", "in_literal"),
    [
        ("a\x00b@example.ru", "BAD_USER_INPUT"),
        ("a\ud800b@example.ru", "GRAPHQL_PARSE_FAILED"),  # the lexer refuses the escape
    ],
)
async def test_text_that_cannot_be_stored_is_bad_input(client, bad: str, in_literal: str) -> None:
    """Found by the fuzzer: a NUL (or a lone surrogate) reached PostgreSQL and failed the
    query mid-resolver. Now it is refused up front, in a variable or in a literal."""
    mutation = (
        'mutation($e: String!) { login(input: {email: $e, password: "x"}) { user { email } } }'
    )
    raw = json.dumps({"query": mutation, "variables": {"e": bad}})  # \\u escapes, valid JSON
    response = await client.post(
        "/graphql", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200 and codes(response.json()) == ["BAD_USER_INPUT"]

    literal = 'mutation { register(input: {accountNumber: "1", paymentAmount: "1", email: %s, password: "x"}) { user { email } } }'
    response = await client.post("/graphql", json={"query": literal % json.dumps(bad)})
    body = response.json()
    assert codes(body) == [in_literal], body
    assert body["data"] is None


async def test_graphiql_gets_a_policy_that_lets_it_run(client) -> None:
    """The API's `default-src 'none'` would blank GraphiQL: its page has its own policy,
    as strict as the web client's (all its files are ours: tests/web/test_graphiql.py)."""
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', page.text)
    assert sources and all(src.startswith("/static/graphiql/") for src in sources)
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-eval'" not in policy and "'unsafe-inline'" not in policy


async def test_a_document_is_validated_once(client) -> None:
    """The limits' rules are made once per schema: a limiter made per request made new
    rule classes, which the validation cache keys its entries by, so every request was
    validated again - half the server's CPU on the dashboard query."""
    from schema.limits import DOCUMENTS  # the cache build_schema's DocumentLimits uses

    query = {"query": "query Twice { version rateLimit { limit } }"}
    assert (await client.post("/graphql", json=query)).status_code == 200
    before = (DOCUMENTS.hits, DOCUMENTS.misses)
    assert (await client.post("/graphql", json=query)).status_code == 200
    assert (DOCUMENTS.hits, DOCUMENTS.misses) == (before[0] + 1, before[1])
