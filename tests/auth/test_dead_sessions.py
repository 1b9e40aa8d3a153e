"""A token that is no live session is refused, not taken for no token (issue 18, 2): an
app's re-login logic needs to hear that its session is over, and why."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import httpx
import pytest

from models.cabinets import Cabinet
from services.core.clock import clock
from tests.support import Api

GQL = "application/graphql-response+json"
JSON = "application/json"
ME = "{ me { email } }"

pytestmark = pytest.mark.usefixtures("demo_data")


def refusal(response: httpx.Response) -> dict:
    body = response.json()
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    return error


async def ask(client: httpx.AsyncClient, token: str | None, accept: str, query: str = ME):
    headers = {"Accept": accept}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": query}, headers=headers)


@pytest.mark.parametrize(
    ("token", "reason"), [("garbage", "INVALID"), ("x" * 500, "INVALID"), ("", None)]
)
async def test_a_made_up_token(client, token: str, reason: str | None) -> None:
    modern = await ask(client, token, GQL)
    legacy = await ask(client, token, JSON)
    if reason is None:  # "Bearer " with nothing after it is no token: anonymous
        assert modern.status_code == legacy.status_code == 200
        assert modern.json() == legacy.json() == {"data": {"me": None}}
        return
    assert modern.status_code == 401
    assert modern.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert refusal(modern)["extensions"]["reason"] == reason
    assert legacy.status_code == 200
    assert refusal(legacy)["extensions"]["reason"] == reason


async def test_no_token_stays_anonymous(client) -> None:
    for accept in (GQL, JSON):
        response = await ask(client, None, accept)
        assert response.status_code == 200
        assert response.json() == {"data": {"me": None}}


async def test_revoked_and_expired_tokens(api: Api, client) -> None:
    user = await api.signed_up()
    assert (await ask(client, user.token, GQL)).status_code == 200
    await user.data("mutation { logout { endedSessions } }")
    revoked = await ask(client, user.token, GQL)
    assert revoked.status_code == 401
    assert refusal(revoked)["extensions"]["reason"] == "REVOKED"
    # Every way into the endpoint: a mutation, GET, a persisted query's hash.
    login = 'mutation { login(input: {email: "a@b.ru", password: "x"}) { token } }'
    assert (await ask(client, user.token, GQL, login)).status_code == 401
    over_get = await client.get(
        "/graphql",
        params={"query": ME},
        headers={"Accept": GQL, "Authorization": f"Bearer {user.token}"},
    )
    assert refusal(over_get)["extensions"]["reason"] == "REVOKED"
    sha = hashlib.sha256(ME.encode()).hexdigest()
    hashed = await client.post(
        "/graphql",
        json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}},
        headers={"Accept": GQL, "Authorization": f"Bearer {user.token}"},
    )
    assert refusal(hashed)["extensions"]["reason"] == "REVOKED"

    fresh = (await api.login("ivanova@mail.ru"))["token"]
    clock.advance(dt.timedelta(days=15))  # past SESSION_IDLE_MINUTES (14 days)
    expired = await ask(client, fresh, GQL)
    assert expired.status_code == 401
    assert refusal(expired)["extensions"]["reason"] == "EXPIRED"


async def test_a_frozen_cabinet_ends_its_sessions(api: Api, client) -> None:
    user = await api.signed_up()
    await Cabinet.filter(email="ivanova@mail.ru").update(disabled_at=clock.now())
    assert refusal(await ask(client, user.token, GQL))["extensions"]["reason"] == "REVOKED"


async def test_a_dead_cookie_is_refused_and_deleted(api: Api, client) -> None:
    await api.signed_up()
    await api.login("ivanova@mail.ru")  # the client now holds the session cookie
    assert client.cookies.get("kabinet_session")
    alive = await client.post("/graphql", json={"query": ME}, headers={"Accept": GQL})
    assert alive.json() == {"data": {"me": {"email": "ivanova@mail.ru"}}}
    token = client.cookies["kabinet_session"]
    await api.data("mutation { logout { endedSessions } }")  # ends it, deletes the cookie
    client.cookies.set("kabinet_session", token, domain="testserver.local")  # a stale copy

    dead = await client.post("/graphql", json={"query": ME}, headers={"Accept": GQL})
    assert dead.status_code == 401
    assert refusal(dead)["extensions"]["reason"] == "REVOKED"
    deleted = dead.headers["set-cookie"]
    assert deleted.startswith("kabinet_session=") and "Max-Age=0" in deleted
    assert "kabinet_session" not in client.cookies
    # the next request carries no cookie: anonymous again
    after = await client.post("/graphql", json={"query": ME}, headers={"Accept": GQL})
    assert after.status_code == 200 and after.json() == {"data": {"me": None}}


async def test_a_cross_site_request_with_a_dead_cookie_is_anonymous(api: Api, client) -> None:
    """A cookie the server would not use (another origin) is no token presented."""
    client.cookies.set("kabinet_session", "garbage", domain="testserver.local")
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": ME}),
        headers={"Content-Type": JSON, "Accept": GQL, "Origin": "https://evil.example.com"},
    )
    assert response.status_code == 200 and response.json() == {"data": {"me": None}}
