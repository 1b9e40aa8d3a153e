"""A stranger's wrong passwords never lock the owner out (SECURITY.md 11, 24; issue 17, 3).

Failed logins back off per (address, client): the client is a device that has logged into
the cabinet before (the signed `kabinet_device` cookie), else the client IP. Unknown
devices also share a high per-address ceiling, which a known device never answers to.
Every attack runs through real HTTP, each party a client of its own with its own IP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio
from itsdangerous import URLSafeSerializer

from config import Settings
from models.cabinets import Cabinet
from services.core.clock import clock
from services.security.devices import read_device_cookie
from tests.conftest import with_settings
from tests.support import ACCOUNT_2, AMOUNT_2, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

OWNER_IP, ATTACKER_IP = "198.51.100.10", "203.0.113.66"
VICTIM = "ivanova@mail.ru"


@pytest_asyncio.fixture
async def party(settings: Settings) -> AsyncIterator[Callable[[str], Api]]:
    """`party(ip)`: a new browser (its own cookie jar) at that IP, on one shared app."""
    from server import create_app

    app = create_app(settings, manage_db=False)
    opened: list[httpx.AsyncClient] = []

    def make(ip: str) -> Api:
        transport = httpx.ASGITransport(app=app, client=(ip, 50000))
        http = httpx.AsyncClient(transport=transport, base_url="https://testserver")
        opened.append(http)
        return Api(http)

    yield make
    for http in opened:
        await http.aclose()


async def test_a_stranger_failing_every_15_minutes_does_not_lock_the_owner_out(party) -> None:
    owner = party(OWNER_IP)
    await owner.register("001234567890", "1500", VICTIM)
    assert (await owner.login(VICTIM))["userErrors"] == []  # the browser is now known
    attacker = party(ATTACKER_IP)

    # The attack: fail until backed off, then one wrong password every 15-odd minutes,
    # which kept the one per-address backoff at its cap for everyone.
    for _ in range(6):
        assert codes(await attacker.login(VICTIM, "wrong-password")) == ["INVALID_CREDENTIALS"]
    for _ in range(10):
        clock.advance(dt.timedelta(minutes=15, seconds=1))
        assert codes(await attacker.login(VICTIM, "wrong-password")) == ["INVALID_CREDENTIALS"]

    # The attacker is backed off, even with the right password...
    assert codes(await attacker.login(VICTIM)) == ["TOO_MANY_ATTEMPTS"]
    # ...the owner is not: on the known device, and on a new one at the owner's own IP.
    assert (await owner.login(VICTIM))["userErrors"] == []
    assert (await party(OWNER_IP).login(VICTIM))["userErrors"] == []


async def test_the_per_address_ceiling_never_blocks_a_known_device(party, settings) -> None:
    with_settings(settings, login_free_failures_per_email=8)
    owner = party(OWNER_IP)
    await owner.register("001234567890", "1500", VICTIM)
    assert (await owner.login(VICTIM))["userErrors"] == []
    # The attacker's own cabinet makes the attacker's browser a known device to *it* only.
    attacker = party(ATTACKER_IP)
    await attacker.register(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    assert (await attacker.login("petrov@mail.ru"))["userErrors"] == []

    # Guessing from many addresses, a few guesses each: the ceiling stops it...
    for n in range(3):
        bot = party(f"192.0.2.{n + 1}")
        for _ in range(3):
            assert codes(await bot.login(VICTIM, f"guess-{n}")) == ["INVALID_CREDENTIALS"]
    assert codes(await party("192.0.2.99").login(VICTIM)) == ["TOO_MANY_ATTEMPTS"]
    assert codes(await attacker.login(VICTIM)) == ["TOO_MANY_ATTEMPTS"]
    # ...and a forged device cookie naming the victim's cabinet is no way round it.
    victim_id = (await Cabinet.get(email=VICTIM)).id
    forger = party("192.0.2.100")
    forged = URLSafeSerializer("not-our-key", salt="kabinet.device").dumps(
        {"d": "forged", "c": [victim_id]}
    )
    forger.http.cookies.set("kabinet_device", forged, domain="testserver")
    assert codes(await forger.login(VICTIM)) == ["TOO_MANY_ATTEMPTS"]

    # The owner's browser is known to the cabinet: the ceiling is not its concern.
    assert (await owner.login(VICTIM))["userErrors"] == []


async def test_a_known_device_backs_off_its_own_failures(party) -> None:
    owner = party(OWNER_IP)
    await owner.register("001234567890", "1500", VICTIM)
    assert (await owner.login(VICTIM))["userErrors"] == []
    for _ in range(6):
        assert codes(await owner.login(VICTIM, "misremembered")) == ["INVALID_CREDENTIALS"]
    assert codes(await owner.login(VICTIM)) == ["TOO_MANY_ATTEMPTS"]
    clock.advance(dt.timedelta(seconds=31))
    assert (await owner.login(VICTIM))["userErrors"] == []


async def test_the_device_cookie_is_signed_http_only_and_long_lived(party, settings) -> None:
    owner = party(OWNER_IP)
    await owner.register("001234567890", "1500", VICTIM)
    response = await owner.raw(
        "mutation($i: LoginInput!) { login(input: $i) { token } }",
        {"i": {"email": VICTIM, "password": "synthetic-Lamp-42-river"}},
    )
    [cookie] = [c for c in response.headers.get_list("set-cookie") if "kabinet_device=" in c]
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/", "Max-Age=34560000"):
        assert flag in cookie
    cabinet_id = (await Cabinet.get(email=VICTIM)).id
    first = read_device_cookie(owner.http.cookies["kabinet_device"])
    assert first is not None and first.knows(cabinet_id)
    # Logging in again keeps the device's id; so does a second cabinet on the same browser.
    await owner.register(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    await owner.login("petrov@mail.ru")
    again = read_device_cookie(owner.http.cookies["kabinet_device"])
    assert again is not None and again.id == first.id
    assert again.knows(cabinet_id) and again.knows((await Cabinet.get(email="petrov@mail.ru")).id)
    # A cookie whose signature does not match is no device at all.
    assert read_device_cookie(owner.http.cookies["kabinet_device"][:-2] + "xx") is None
