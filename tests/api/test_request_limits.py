"""What one request may cost before anything of it runs (SECURITY.md 23; issue 17 items 1
and 10): the length of the document, persisted-query registrations, the nesting of JSON.
Each test is the attack through real HTTP."""

from __future__ import annotations

import hashlib
import json

import httpx

from models.persisted import PersistedQuery
from schema.limits import DOCUMENTS
from server import create_app
from services.core import persisted_queries
from services.core.clock import clock
from tests.conftest import with_settings

GQL = "application/graphql-response+json"
JSON = "application/json"


def app_client(settings, address: str = "198.51.100.4", **changes) -> httpx.AsyncClient:
    """A client at `address` of an app with these settings (which the rules read too)."""
    app = create_app(with_settings(settings, **changes), manage_db=False)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


def padded(query: str, size: int) -> str:
    """A valid document of `size` characters with a handful of tokens: the rest comments."""
    line = "#" + "x" * 99 + "\n"
    return line * ((size - len(query)) // len(line)) + query


def apq(query: str) -> dict:
    sha = hashlib.sha256(query.encode()).hexdigest()
    return {"query": query, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}


def cache_sizes() -> tuple[int, int, int]:
    """Documents parsed, verdicts of validation kept (schema/limits.py), persisted queries."""
    return (*DOCUMENTS.sizes(), len(persisted_queries._LOCAL))


def error(response: httpx.Response) -> dict:
    body = response.json()
    assert "data" not in body, body
    [only] = body["errors"]
    return only


async def test_a_megabyte_of_comments_is_refused_before_parsing(client) -> None:
    huge = padded("{ version }", 1_000_000)
    before = cache_sizes()
    for accept in (GQL, JSON):
        plain = await client.post("/graphql", json={"query": huge}, headers={"Accept": accept})
        assert plain.status_code == 413, plain.text
        assert error(plain)["extensions"]["code"] == "QUERY_TOO_LARGE"
        persisted = await client.post("/graphql", json=apq(huge), headers={"Accept": accept})
        assert persisted.status_code == 413
        assert error(persisted)["extensions"]["code"] == "QUERY_TOO_LARGE"
    over_get = await client.get("/graphql", params={"query": padded("{ version }", 40_000)})
    assert over_get.status_code == 413
    assert error(over_get)["extensions"]["code"] == "QUERY_TOO_LARGE"
    assert cache_sizes() == before
    assert await PersistedQuery.all().count() == 0


async def test_a_document_stored_before_the_limit_is_not_run(client) -> None:
    huge = padded("query Old { version }", 100_000)
    sha = hashlib.sha256(huge.encode()).hexdigest()
    await PersistedQuery.create(sha256=sha, query=huge, created_at=clock.now())
    hashed = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    before = cache_sizes()
    response = await client.post("/graphql", json=hashed)
    assert response.status_code == 413
    assert error(response)["extensions"]["code"] == "QUERY_TOO_LARGE"
    assert cache_sizes() == before


async def test_the_limit_counts_bytes_and_says_so(client, settings) -> None:
    fits = padded("{ version }", 32_000)
    assert (await client.post("/graphql", json={"query": fits})).json()["data"]["version"]
    # 11,000 Cyrillic letters are 22,000 bytes: over a limit of 16 KiB
    cyrillic = "# " + "я" * 11_000 + "\n{ version }"
    async with app_client(settings, max_query_bytes=16_384) as http:
        response = await http.post(
            "/graphql", json={"query": cyrillic}, headers={"Accept-Language": "en"}
        )
    assert response.status_code == 413
    assert error(response)["message"] == "The query is too long: at most 16384 bytes."


async def test_registrations_beyond_the_budget_are_refused(settings) -> None:
    async with app_client(settings, apq_registrations_per_hour=3) as http:
        for n in range(3):
            registered = await http.post("/graphql", json=apq(f"query Q{n} {{ version }}"))
            assert registered.status_code == 200 and registered.json()["data"]["version"]
        flood = await http.post(
            "/graphql", json=apq("query Q3 { version }"), headers={"Accept": GQL}
        )
        assert flood.status_code == 429
        refused = error(flood)
        assert refused["extensions"]["code"] == "TOO_MANY_PERSISTED_QUERIES"
        assert int(flood.headers["retry-after"]) == refused["extensions"]["retryAfter"] > 0
        # Known documents still run by their hash and may be sent again with it.
        again = await http.post("/graphql", json=apq("query Q0 { version }"))
        assert again.status_code == 200 and again.json()["data"]["version"]
        # The same document without `persistedQuery` is an ordinary query.
        plain = await http.post("/graphql", json={"query": "query Q3 { version }"})
        assert plain.json()["data"]["version"]
    assert await PersistedQuery.all().count() == 3
    # Another client has its own budget.
    async with app_client(settings, "198.51.100.5", apq_registrations_per_hour=3) as http:
        response = await http.post("/graphql", json=apq("query Q3 { version }"))
        assert response.json()["data"]["version"]
    assert await PersistedQuery.all().count() == 4


async def test_invalid_documents_count_against_the_budget(settings) -> None:
    async with app_client(settings, apq_registrations_per_hour=2) as http:
        for n in range(2):
            await http.post("/graphql", json=apq(f"query J{n} {{ notAField }}"))
        refused = await http.post("/graphql", json=apq("query Fine { version }"))
        assert error(refused)["extensions"]["code"] == "TOO_MANY_PERSISTED_QUERIES"
    assert await PersistedQuery.all().count() == 0


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_deeply_nested_json_is_a_400_not_a_500(client) -> None:
    for accept in (GQL, JSON):
        body = '{"query": "{ version }", "variables": {"v": ' + deep_json(100_000) + "}}"
        response = await client.post(
            "/graphql", content=body, headers={"Content-Type": JSON, "Accept": accept}
        )
        assert response.status_code == 400, response.text
        assert error(response)["extensions"]["code"] == "JSON_TOO_DEEP"
        whole = await client.post(
            "/graphql", content=deep_json(100_000), headers={"Content-Type": JSON}
        )
        assert whole.status_code == 400
        assert error(whole)["extensions"]["code"] == "JSON_TOO_DEEP"
    over_get = await client.get(
        "/graphql", params={"query": "{ version }", "variables": '{"v":' + deep_json(3000) + "}"}
    )
    assert over_get.status_code == 400
    assert error(over_get)["extensions"]["code"] == "JSON_TOO_DEEP"


async def test_json_depth_follows_its_setting(client) -> None:
    within = {"query": "{ version }", "variables": json.loads('{"v":' + deep_json(31) + "}")}
    assert (await client.post("/graphql", json=within)).json()["data"]["version"]
    beyond = {"query": "{ version }", "extensions": json.loads('{"e":' + deep_json(32) + "}")}
    response = await client.post("/graphql", json=beyond, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert error(response)["message"] == "The JSON nests too deep: at most 32 levels."
