"""The server over real HTTP through the ASGI app: health, readiness, GraphQL, GraphiQL."""

from __future__ import annotations

import dataclasses
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
