"""Compression (routes/compression.py) and HTTP caching of persisted GET queries
(schema/http_cache.py), through HTTP to the app: the bytes that arrive are decompressed
and compared with the uncompressed answer; ETags, 304s and Cache-Control as a browser or
a proxy would read them."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
from contextlib import asynccontextmanager

import brotli
import httpx
import pytest

from bench.dashboard import QUERY as DASHBOARD  # a year of lists: n=12
from config import ROOT
from routes.compression import choose_coding, compressible
from tests.support import ACCOUNT_2, AMOUNT_2, Api

ME = "query Me { me { email } }"
GRAPHIQL_JS = "/static/graphiql/vendor/graphiql/graphiql.min.js"


def _vary(response: httpx.Response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()}


async def _raw(client: httpx.AsyncClient, method: str, url: str, **kwargs) -> tuple:
    """The answer and its body as it travelled (not decoded)."""
    async with client.stream(method, url, **kwargs) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, raw


def _decoded(response: httpx.Response, raw: bytes) -> bytes:
    coding = response.headers.get("content-encoding")
    if coding == "br":
        return brotli.decompress(raw)
    if coding == "gzip":
        return gzip.decompress(raw)
    assert coding is None, coding
    return raw


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("gzip, deflate, br, zstd", "br"),  # a browser's: br wins the tie
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0, *;q=0.3", "gzip"),
        ("*", "br"),
        ("gzip;q=0, br;q=0", None),
        ("identity", None),
        ("deflate", None),
        ("", None),
        (None, None),
        ("gzip;q=banana, br;q=0.001", "br"),
    ],
)
def test_the_coding_follows_accept_encoding(accept_encoding, coding) -> None:
    assert choose_coding(accept_encoding) == coding


async def _signed_up(client, demo_data) -> Api:
    """A cabinet with the demo's account 1 (demo_data: its history), logged in."""
    return await Api(client).signed_up()


async def test_graphql_answers_are_compressed_as_asked(client, demo_data) -> None:
    api = await _signed_up(client, demo_data)
    headers = {"Authorization": f"Bearer {api.token}"}
    body = {"query": DASHBOARD, "variables": {"n": 12}}
    plain, plain_raw = await _raw(
        client, "POST", "/graphql", json=body, headers={**headers, "Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert len(plain_raw) > 1024 and json.loads(plain_raw)["data"]["me"]["accounts"]
    assert "accept-encoding" in _vary(plain)
    for accept, coding in [("gzip", "gzip"), ("br", "br"), ("gzip, br;q=0.9", "gzip")]:
        answer, raw = await _raw(
            client, "POST", "/graphql", json=body, headers={**headers, "Accept-Encoding": accept}
        )
        assert answer.headers["content-encoding"] == coding, accept
        assert int(answer.headers["content-length"]) == len(raw) < len(plain_raw) / 3
        assert _decoded(answer, raw) == plain_raw, accept
        assert "accept-encoding" in _vary(answer)
        assert answer.headers["cache-control"] == "no-store"  # a POST is never kept


async def test_small_answers_stay_plain_unless_the_setting_says(client, settings) -> None:
    small, raw = await _raw(
        client, "POST", "/graphql", json={"query": "{ version }"}, headers={"Accept-Encoding": "br"}
    )
    assert len(raw) < 1024 and "content-encoding" not in small.headers
    assert "accept-encoding" in _vary(small)  # the answer could have been compressed
    async with _app(settings, compress_min_bytes=10) as http:
        tiny, raw = await _raw(
            http,
            "POST",
            "/graphql",
            json={"query": "{ version }"},
            headers={"Accept-Encoding": "br"},
        )
    assert tiny.headers["content-encoding"] == "br"
    assert json.loads(brotli.decompress(raw))["data"]["version"]


async def test_static_files_are_compressed_and_revalidate(client) -> None:
    original = (ROOT / "web/graphiql/vendor/graphiql/graphiql.min.js").read_bytes()
    for coding in ("br", "gzip"):
        answer, raw = await _raw(client, "GET", GRAPHIQL_JS, headers={"Accept-Encoding": coding})
        assert answer.status_code == 200
        assert answer.headers["content-encoding"] == coding
        assert _decoded(answer, raw) == original
        assert len(raw) < len(original) / 3
        assert "accept-ranges" not in answer.headers
        # the compressed copy's tag is weak; revalidating with it gets a 304
        etag = answer.headers["etag"]
        assert etag.startswith('W/"')
        again, raw = await _raw(
            client, "GET", GRAPHIQL_JS, headers={"Accept-Encoding": coding, "If-None-Match": etag}
        )
        assert again.status_code == 304 and raw == b""
        assert again.headers["etag"] == etag and "accept-encoding" in _vary(again)
    plain, raw = await _raw(client, "GET", GRAPHIQL_JS, headers={"Accept-Encoding": "identity"})
    assert raw == original and not plain.headers["etag"].startswith("W/")
    assert "accept-encoding" in _vary(plain)
    # a range is of the plain bytes; so is a HEAD's length
    part, raw = await _raw(
        client, "GET", GRAPHIQL_JS, headers={"Accept-Encoding": "br", "Range": "bytes=0-99"}
    )
    assert part.status_code == 206 and raw == original[:100]
    head = await client.head(GRAPHIQL_JS, headers={"Accept-Encoding": "br"})
    assert "content-encoding" not in head.headers


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json; charset=utf-8", True),
        ("application/graphql-response+json; charset=utf-8", True),
        ("text/javascript; charset=utf-8", True),
        ("text/css", True),
        ("text/html; charset=utf-8", True),
        ("application/pdf", False),  # bills: compressed by their own format
        ("image/jpeg", False),  # photos likewise
        ("text/event-stream", False),  # must flow, never be held whole
        (None, False),
    ],
)
def test_what_is_compressed(content_type, expected) -> None:
    assert compressible(content_type) is expected


# ---------------------------------------------------------------- caching of GET


def _apq(query: str) -> dict:
    sha = hashlib.sha256(query.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


async def _persist(client, query: str, variables: dict | None = None, **headers) -> dict:
    """Send the query with its hash once (APQ registration); returns the GET parameters."""
    registered = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}, "extensions": _apq(query)},
        headers=headers,
    )
    assert registered.status_code == 200, registered.text
    params = {"extensions": json.dumps(_apq(query))}
    if variables:
        params["variables"] = json.dumps(variables)
    return params


async def test_a_persisted_get_is_private_with_an_etag_and_304(client, demo_data) -> None:
    api = await _signed_up(client, demo_data)
    bearer = {"Authorization": f"Bearer {api.token}", "Accept-Encoding": "identity"}
    params = await _persist(client, ME, **bearer)
    first = await client.get("/graphql", params=params, headers=bearer)
    assert first.status_code == 200 and first.json()["data"]["me"]["email"]
    assert first.headers["cache-control"] == "private, max-age=0"
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong: these very bytes
    assert {"accept", "authorization", "cookie", "accept-encoding"} <= _vary(first)
    again = await client.get("/graphql", params=params, headers={**bearer, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "private, max-age=0"
    # another tag, or another viewer with this one's tag: the full answer
    other = await client.get(
        "/graphql", params=params, headers={**bearer, "If-None-Match": '"something-else"'}
    )
    assert other.status_code == 200 and other.headers["etag"] == etag
    client.cookies.clear()  # the login's session cookie would log this one in too
    anonymous = await client.get(
        "/graphql", params=params, headers={"If-None-Match": etag, "Accept-Encoding": "identity"}
    )
    assert anonymous.status_code == 200 and anonymous.json()["data"]["me"] is None
    assert anonymous.headers["etag"] != etag
    assert anonymous.headers["cache-control"].startswith("private")


async def test_compressed_get_revalidates_with_its_weak_tag(client, demo_data) -> None:
    api = await _signed_up(client, demo_data)
    bearer = {"Authorization": f"Bearer {api.token}"}
    params = await _persist(client, DASHBOARD, {"n": 12}, **bearer)
    first, raw = await _raw(
        client, "GET", "/graphql", params=params, headers={**bearer, "Accept-Encoding": "br"}
    )
    assert first.headers["content-encoding"] == "br"
    assert json.loads(brotli.decompress(raw))["data"]["me"]["accounts"]
    weak = first.headers["etag"]
    assert weak.startswith('W/"')
    again = await client.get(
        "/graphql",
        params=params,
        headers={**bearer, "Accept-Encoding": "br", "If-None-Match": weak},
    )
    assert again.status_code == 304 and again.headers["etag"] == weak
    assert "accept-encoding" in _vary(again)


async def test_max_age_is_a_setting(settings, demo_data) -> None:
    async with _app(settings, graphql_get_max_age=60) as http:
        params = await _persist(http, "query V { version }")
        answer = await http.get("/graphql", params=params)
    assert answer.headers["cache-control"] == "private, max-age=60"


async def test_nothing_else_is_kept(client, demo_data) -> None:
    """Mutations, queries sent in full, errors and refusals stay `no-store`, without ETag."""
    api = await _signed_up(client, demo_data)
    bearer = {"Authorization": f"Bearer {api.token}"}
    answers = {}
    answers["POST of a persisted query"] = await client.post(
        "/graphql", json={"query": ME, "extensions": _apq(ME)}, headers=bearer
    )
    answers["GET of a query in full"] = await client.get(
        "/graphql", params={"query": ME}, headers=bearer
    )
    answers["mutation"] = await client.post(
        "/graphql",
        json={"query": "mutation { logoutOtherDevices { endedSessions } }"},
        headers=bearer,
    )
    mutation = "mutation L { logout { endedSessions } }"
    answers["mutation over GET"] = await client.get(
        "/graphql", params={"query": mutation, "extensions": json.dumps(_apq(mutation))}
    )
    answers["unknown hash"] = await client.get(
        "/graphql", params={"extensions": json.dumps(_apq("query Unknown { version }"))}
    )
    needs_variable = (
        "query Need($n: Int!) { me { accounts { readings(first: $n) { totalCount } } } }"
    )
    params = await _persist(client, needs_variable, {"n": 1}, **bearer)
    del params["variables"]
    answers["variable missing"] = await client.get("/graphql", params=params, headers=bearer)
    failing = 'query Bad { version account(id: "QWNjb3VudDo5OTk5OTk") { number } }'
    params = await _persist(client, failing, **bearer)
    client.cookies.clear()
    answers["answer with an error"] = await client.get("/graphql", params=params)
    for what, answer in answers.items():
        assert answer.headers["cache-control"] == "no-store", what
        assert "etag" not in answer.headers, what
    assert "errors" in answers["variable missing"].json()
    assert answers["answer with an error"].json()["data"]["version"]
    assert answers["answer with an error"].json()["errors"]
    assert answers["mutation over GET"].status_code == 405


@asynccontextmanager
async def _app(settings, **changes):
    from server import create_app

    app = create_app(dataclasses.replace(settings, **changes), manage_db=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


async def test_a_second_cabinet_never_gets_the_first_ones_answer(client, demo_data) -> None:
    """Attack: a shared cache (a proxy, a CDN) between the customers must not keep an
    answer, and a 304 must never confirm another viewer's copy."""
    first = await _signed_up(client, demo_data)
    second = await Api(client).signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    params = await _persist(client, ME, Authorization=f"Bearer {first.token}")
    mine = await client.get(
        "/graphql", params=params, headers={"Authorization": f"Bearer {first.token}"}
    )
    theirs = await client.get(
        "/graphql",
        params=params,
        headers={"Authorization": f"Bearer {second.token}", "If-None-Match": mine.headers["etag"]},
    )
    assert theirs.status_code == 200
    assert theirs.json()["data"]["me"]["email"] == "petrov@mail.ru"
    for answer in (mine, theirs):
        control = answer.headers["cache-control"]
        assert (
            control.startswith("private") and "public" not in control and "s-maxage" not in control
        )
        assert "authorization" in _vary(answer)
