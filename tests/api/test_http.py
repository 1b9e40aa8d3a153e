"""The server over real HTTP through the ASGI app: health, readiness, GraphQL, GraphiQL."""

from __future__ import annotations

import dataclasses
import logging
from importlib.metadata import version as package_version

import httpx
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from models.db import tortoise_config
from server import create_app


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_with_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_readyz_without_the_database(settings) -> None:
    unreachable = "postgres://postgres@127.0.0.1:1/nowhere"
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(unreachable), init_connections=False)
        app = create_app(dataclasses.replace(settings, database_url=unreachable), manage_db=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert "Traceback" not in response.text


async def test_graphql_and_other_routes_without_the_database(settings, caplog) -> None:
    """Every way a request reaches the database answers 503 + Retry-After, no 500."""
    unreachable = "postgres://postgres@127.0.0.1:1/nowhere"
    bearer = {"Authorization": "Bearer not-a-real-token-but-looked-up-all-the-same"}
    login = 'mutation { login(input: {email: "a@b.ru", password: "x"}) { token } }'
    apq = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(unreachable), init_connections=False)
        app = create_app(dataclasses.replace(settings, database_url=unreachable), manage_db=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            answers = [
                await http.post("/graphql", json={"query": "{ me { email } }"}, headers=bearer),
                await http.post("/graphql", json={"query": login}),
                await http.post("/graphql", json={"extensions": apq}),  # a stored query's hash
                await http.get("/receipts/1.pdf", headers=bearer),
            ]
    for response in answers:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        body = response.json()
        assert "data" not in body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_client_that_left_mid_request_is_no_error(settings, caplog) -> None:
    app = create_app(settings, manage_db=False)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        "client": ("203.0.113.7", 50000),
        "server": ("testserver", 80),
    }

    async def receive() -> dict:
        return {"type": "http.disconnect"}  # gone before its body arrived

    async def send(message: dict) -> None:
        pass

    with caplog.at_level(logging.INFO):
        await app(scope, receive, send)  # raises nothing
    [line] = [r for r in caplog.records if r.name == "kabinet.access"]
    assert line.status == 499
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_graphql_version(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ version }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"version": package_version("kabinet")}}


async def test_schema_is_documented(client: httpx.AsyncClient) -> None:
    query = '{ __type(name: "Query") { description fields { name description } } }'
    response = await client.post("/graphql", json={"query": query})
    query_type = response.json()["data"]["__type"]
    assert query_type["description"]
    assert all(field["description"] for field in query_type["fields"])


async def test_graphiql_in_development(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_no_graphiql_in_production(settings) -> None:
    production = dataclasses.replace(settings, env="production")
    app = create_app(production, manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code != 200
    assert "graphiql" not in response.text.lower()


async def test_only_a_trusted_proxy_may_name_the_client(settings) -> None:
    """FORWARDED_ALLOW_IPS decides whose X-Forwarded-For is believed (SECURITY.md 3):
    the audit of a proof attempt records the address the limits count."""
    from models.auth import ProofAttempt
    from tests.support import PRIVACY_NOTICE, REGISTER

    app = create_app(settings, manage_db=False)
    for peer in ("127.0.0.1", "203.0.113.7"):
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as http:
            await http.post(
                "/graphql",
                json={
                    "query": REGISTER,
                    "variables": {
                        "input": {
                            "accountNumber": "0099",
                            "paymentAmount": "1",
                            "email": "a@mail.ru",
                            "password": "long-enough-Password-1",
                            "acceptPrivacyNotice": PRIVACY_NOTICE,
                        }
                    },
                },
                headers={"X-Forwarded-For": "198.51.100.23"},
            )
    assert [a.ip for a in await ProofAttempt.all().order_by("id")] == [
        "198.51.100.23",  # from the trusted proxy: the client it names
        "203.0.113.7",  # from anyone else: the socket peer, whatever the header says
    ]
