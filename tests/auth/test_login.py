"""Login, sessions, throttling and CSRF safety (SECURITY.md 10-12)."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time

import pytest

from models.auth import Session
from models.cabinets import Cabinet
from services.core.clock import clock
from services.security.passwords import PasswordHasher
from services.security.sessions import hash_token
from tests.support import LOGIN, PASSWORD, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

ME = "{ me { email emailVerified sessions { id device current } } }"


async def test_login_gives_a_token_and_a_cookie(api: Api, client) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    response = await api.raw(
        LOGIN,
        {"input": {"email": " IVANOVA@mail.ru ", "password": PASSWORD}},
        user_agent="Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/130.0 Mobile",
    )
    payload = response.json()["data"]["login"]
    assert payload["userErrors"] == []
    assert payload["user"] == {"email": "ivanova@mail.ru", "emailVerified": False}
    token = payload["token"]
    assert len(token) >= 43  # 256 random bits
    cookie = response.headers["set-cookie"]
    for flag in ("kabinet_session=", "HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag in cookie
    stored = await Session.get(token_hash=hash_token(token))
    assert stored.token_hash != token
    assert stored.ip == "203.0.113.7"

    by_bearer = await api.as_user(token).data(ME)
    assert by_bearer["me"]["sessions"] == [
        {"id": by_bearer["me"]["sessions"][0]["id"], "device": "Chrome on Android", "current": True}
    ]
    by_cookie = await api.data(ME)  # the client kept the cookie
    assert by_cookie["me"]["email"] == "ivanova@mail.ru"
    client.cookies.clear()
    assert (await api.data(ME))["me"] is None


async def test_every_login_is_a_new_session(api: Api) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    first = (await api.login("ivanova@mail.ru"))["token"]
    second = (await api.login("ivanova@mail.ru"))["token"]
    assert first != second
    sessions = (await api.as_user(second).data(ME))["me"]["sessions"]
    assert [s["current"] for s in sessions] == [True, False]


async def test_unknown_email_and_wrong_password_answer_alike(api: Api) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    unknown = await api.raw(LOGIN, {"input": {"email": "nobody@mail.ru", "password": PASSWORD}})
    wrong = await api.raw(LOGIN, {"input": {"email": "ivanova@mail.ru", "password": "x" * 12}})
    assert unknown.json() == wrong.json()
    assert codes(wrong.json()["data"]["login"]) == ["INVALID_CREDENTIALS"]
    assert "set-cookie" not in wrong.headers


async def test_login_timing_does_not_tell_unknown_addresses(api: Api) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")

    async def timed(email: str) -> float:
        started = time.perf_counter()
        await api.raw(LOGIN, {"input": {"email": email, "password": "wrong-password-1"}})
        return time.perf_counter() - started

    # Alternate the two kinds and compare medians: both cost one Argon2 verification,
    # while a missing hash would make unknown addresses some 20 times faster.
    known, unknown = [], []
    for i in range(5):  # five failures of one address stay under its throttle
        known.append(await timed("ivanova@mail.ru"))
        unknown.append(await timed(f"nobody{i}@mail.ru"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.4 < ratio < 2.5, (known, unknown)


async def test_failed_logins_wait_longer_and_longer_but_never_forever(api: Api) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    for _ in range(5):
        assert codes(await api.login("ivanova@mail.ru", "wrong-password")) == [
            "INVALID_CREDENTIALS"
        ]
    sixth = await api.login("ivanova@mail.ru", "wrong-password")
    assert codes(sixth) == ["INVALID_CREDENTIALS"]
    blocked = await api.login("ivanova@mail.ru")  # even the right password must wait
    assert codes(blocked) == ["TOO_MANY_ATTEMPTS"]
    wait = dt.datetime.fromisoformat(blocked["userErrors"][0]["retryAfter"]) - clock.now()
    assert dt.timedelta(seconds=25) < wait <= dt.timedelta(seconds=30)
    clock.advance(dt.timedelta(seconds=31))
    assert codes(await api.login("ivanova@mail.ru", "wrong-password")) == ["INVALID_CREDENTIALS"]
    longer = await api.login("ivanova@mail.ru")
    wait = dt.datetime.fromisoformat(longer["userErrors"][0]["retryAfter"]) - clock.now()
    assert dt.timedelta(seconds=55) < wait <= dt.timedelta(seconds=60)
    for _ in range(20):  # the wait stops growing at 15 minutes
        clock.advance(dt.timedelta(minutes=16))
        await api.login("ivanova@mail.ru", "wrong-password")
    capped = await api.login("ivanova@mail.ru")
    wait = dt.datetime.fromisoformat(capped["userErrors"][0]["retryAfter"]) - clock.now()
    assert wait <= dt.timedelta(minutes=15)
    clock.advance(dt.timedelta(minutes=16))
    assert (await api.login("ivanova@mail.ru"))["userErrors"] == []
    # success resets the count: five fresh failures are free again
    for _ in range(5):
        assert codes(await api.login("ivanova@mail.ru", "nope-nope")) == ["INVALID_CREDENTIALS"]


async def test_parallel_password_guesses_are_bounded(api: Api) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    results = await asyncio.gather(
        *(api.login("ivanova@mail.ru", f"guess-number-{i}") for i in range(20))
    )
    outcomes = [codes(r)[0] for r in results]
    assert outcomes.count("INVALID_CREDENTIALS") == 6
    assert outcomes.count("TOO_MANY_ATTEMPTS") == 14


async def test_logout_ends_the_session_for_good(api: Api) -> None:
    user = await api.signed_up()
    assert (await user.data("mutation { logout { endedSessions } }"))["logout"] == {
        "endedSessions": 1
    }
    body = await user("mutation { logout { endedSessions } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await user.session_ended() == "REVOKED"


async def test_logout_everywhere_and_revoking_another_device(api: Api) -> None:
    phone = await api.signed_up()
    laptop = api.as_user((await api.login("ivanova@mail.ru"))["token"])
    tablet = api.as_user((await api.login("ivanova@mail.ru"))["token"])
    sessions = (await laptop.data(ME))["me"]["sessions"]
    assert len(sessions) == 3
    phone_id = next(s["id"] for s in (await phone.data(ME))["me"]["sessions"] if s["current"])
    revoke = "mutation($id: ID!) { revokeSession(input: {id: $id}) { endedSessions userErrors { code } } }"
    assert (await laptop.data(revoke, {"id": phone_id}))["revokeSession"]["endedSessions"] == 1
    assert await phone.session_ended() == "REVOKED"
    again = (await laptop.data(revoke, {"id": phone_id}))["revokeSession"]
    assert codes(again) == ["NOT_FOUND"]
    ended = await tablet.data("mutation { logoutEverywhere { endedSessions } }")
    assert ended["logoutEverywhere"]["endedSessions"] == 2
    assert await laptop.session_ended() == "REVOKED"


async def test_logout_other_devices_keeps_this_one(api: Api) -> None:
    phone = await api.signed_up()
    laptop = api.as_user((await api.login("ivanova@mail.ru"))["token"])
    tablet = api.as_user((await api.login("ivanova@mail.ru"))["token"])
    other = await api.signed_up("001234567891", "2750", "petrov@mail.ru")
    ended = await laptop.data(
        "mutation { logoutOtherDevices { endedSessions userErrors { code } } }"
    )
    assert ended["logoutOtherDevices"] == {"endedSessions": 2, "userErrors": []}
    assert await phone.session_ended() == "REVOKED"
    assert await tablet.session_ended() == "REVOKED"
    [kept] = (await laptop.data(ME))["me"]["sessions"]
    assert kept["current"] is True
    assert (await other.data(ME))["me"] is not None  # another cabinet's sessions are its own
    again = await laptop.data("mutation { logoutOtherDevices { endedSessions } }")
    assert again["logoutOtherDevices"]["endedSessions"] == 0


async def test_no_one_revokes_someone_elses_session(api: Api) -> None:
    ivanova = await api.signed_up()
    petrov = await api.signed_up("001234567891", "2750", "petrov@mail.ru")
    ivanova_session = (await ivanova.data(ME))["me"]["sessions"][0]["id"]
    revoke = "mutation($id: ID!) { revokeSession(input: {id: $id}) { userErrors { code } } }"
    result = (await petrov.data(revoke, {"id": ivanova_session}))["revokeSession"]
    assert codes(result) == ["NOT_FOUND"]
    assert (await ivanova.data(ME))["me"]["email"] == "ivanova@mail.ru"


async def test_idle_and_absolute_timeouts(api: Api, settings) -> None:
    user = await api.signed_up()
    clock.advance(dt.timedelta(days=13))
    assert (await user.data(ME))["me"] is not None  # used: the idle clock restarts
    clock.advance(dt.timedelta(days=13))
    assert (await user.data(ME))["me"] is not None
    clock.advance(dt.timedelta(days=14, minutes=1))
    assert await user.session_ended() == "EXPIRED"  # idle too long
    assert await api.session_ended() == "EXPIRED"  # the cookie too: refused, then deleted
    active = api.as_user((await api.login("ivanova@mail.ru"))["token"])
    for _ in range(8):
        clock.advance(dt.timedelta(days=11))
        assert (await active.data(ME))["me"] is not None  # day 88 after login
    clock.advance(dt.timedelta(days=3))
    assert await active.session_ended() == "EXPIRED"  # day 91: over, used or not


async def test_a_cross_site_page_cannot_use_the_cookie(api: Api, client) -> None:
    await api.signed_up()
    await api.login("ivanova@mail.ru")  # the client now holds the cookie
    own = await api.data(ME, origin="https://lk.example.ru")
    assert own["me"]["email"] == "ivanova@mail.ru"
    foreign = await api.data(ME, origin="https://evil.example.com")
    assert foreign["me"] is None
    form = await client.post(
        "/graphql",
        content="query=mutation%20%7B%20logoutEverywhere%20%7B%20endedSessions%20%7D%20%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code in {400, 415}
    text = await client.post(
        "/graphql",
        content='{"query": "mutation { logoutEverywhere { endedSessions } }"}',
        headers={"Content-Type": "text/plain"},
    )
    assert text.status_code in {400, 415}
    assert (await api.data(ME))["me"] is not None


async def test_mutations_are_never_run_over_get(client) -> None:
    response = await client.get(
        "/graphql", params={"query": "mutation { logoutEverywhere { endedSessions } }"}
    )
    assert response.status_code in {400, 405}


async def test_old_hashes_are_upgraded_at_login(api: Api) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    await Cabinet.filter(email="ivanova@mail.ru").update(password_hash=weak)
    assert (await api.login("ivanova@mail.ru"))["userErrors"] == []
    upgraded = (await Cabinet.get(email="ivanova@mail.ru")).password_hash
    assert upgraded != weak
    assert "$m=19456,t=2,p=1$" in upgraded


async def test_unauthenticated_requests_get_a_typed_error(api: Api) -> None:
    body = await api("mutation { logoutEverywhere { endedSessions } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await api('{ account(id: "QWNjb3VudDox") { number } }')
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await api.as_user("forged-token").session_ended() == "INVALID"
