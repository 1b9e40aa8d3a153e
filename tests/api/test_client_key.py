"""Per-client budgets count per client, not for everyone at once (issue 17, item 6): an IPv6
client by its /64 (a host picks new addresses within it at will), and a setup in which every
client would share one key is said at start-up, at run time and by `kabinet check`."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import tempfile
from pathlib import Path

import httpx
import pytest

from server import create_app
from services.core.throttle import client_key
from services.security.sessions import Client
from tests.conftest import with_settings
from tests.ops.test_cli import kabinet
from tests.ops.test_operations import production
from tests.processes import free_port, start_kabinet, stderr_of, stop_kabinet, wait_until_ready
from tests.support import Api

SAME_64 = ("2001:db8:1:2::a", "2001:db8:1:2:ffff:ffff:ffff:fffe")
OTHER_64 = "2001:db8:1:3::a"


def test_client_keys() -> None:
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key(SAME_64[0]) == client_key(SAME_64[1]) == "2001:db8:1:2::/64"
    assert client_key(OTHER_64) == "2001:db8:1:3::/64"
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_key("fe80::1%eth0") == "fe80::/64"
    assert client_key("") == ""
    assert Client(ip=SAME_64[1]).limit_key == "2001:db8:1:2::/64"


def from_address(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


async def test_one_ipv6_network_shares_one_request_budget(settings) -> None:
    app = create_app(dataclasses.replace(settings, rate_limit_per_minute=2), manage_db=False)
    first, second = SAME_64
    async with from_address(app, first) as a, from_address(app, second) as b:
        assert (await a.get("/")).status_code == 200
        assert (await b.get("/")).status_code == 200
        assert (await a.get("/")).status_code == 429
        assert (await b.get("/")).status_code == 429  # a new address of the /64: no new budget
    async with from_address(app, OTHER_64) as other:
        response = await other.get("/")
        assert response.status_code == 200 and response.headers["ratelimit-remaining"] == "1"
    async with from_address(app, "::ffff:198.51.100.4") as mapped:
        assert (await mapped.get("/")).status_code == 200
        assert (await mapped.get("/")).status_code == 200
    async with from_address(app, "198.51.100.4") as plain:  # the same client as IPv4
        assert (await plain.get("/")).status_code == 429


def codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


@pytest.mark.usefixtures("demo_data")
async def test_one_ipv6_network_shares_one_budget_of_proofs(settings) -> None:
    """The proofs of ownership per client address (SECURITY.md 1), counted in the database:
    two failures from one address of a /64, and its other addresses are refused too."""
    with_settings(settings, proof_attempts_per_ip=2)
    app = create_app(settings, manage_db=False)
    first, second = SAME_64
    async with from_address(app, first) as a, from_address(app, second) as b:
        for number in ("009900000001", "009900000002"):
            assert codes(await Api(a).register(number, "1", "a@mail.ru")) == ["INVALID_PROOF"]
        refused = await Api(b).register("009900000003", "1", "b@mail.ru")
        assert codes(refused) == ["TOO_MANY_ATTEMPTS"]
    async with from_address(app, OTHER_64) as other:
        answer = await Api(other).register("009900000004", "1", "c@mail.ru")
        assert codes(answer) == ["INVALID_PROOF"]


def warnings(output: str) -> list[str]:
    return re.findall(r"^warning: (.*)$", output, flags=re.M)


def problems(output: str) -> list[str]:
    return re.findall(r"^problem: (.*)$", output, flags=re.M)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"UNIX_SOCKET": "/run/kabinet.sock"}, "UNIX_SOCKET is set and FORWARDED_ALLOW_IPS"),
        ({"FORWARDED_ALLOW_IPS": "10.0.0.5"}, "does not trust 127.0.0.1"),
        ({"HOST": "0.0.0.0"}, "trusts no proxy elsewhere"),
    ],
)
async def test_check_warns_when_every_client_would_share_one_key(
    db, tmp_path: Path, change, expected
) -> None:
    result = kabinet("check", url=db.url, tmp_path=tmp_path, **production(**change))
    assert any(expected in w and "one budget" in w for w in warnings(result.stdout)), result.stdout


async def test_check_is_quiet_when_the_proxy_is_trusted(db, tmp_path: Path) -> None:
    for change in (
        {},  # a proxy on this machine, at 127.0.0.1 (the defaults)
        {"UNIX_SOCKET": "/run/kabinet.sock", "FORWARDED_ALLOW_IPS": "*"},
        {"HOST": "0.0.0.0", "FORWARDED_ALLOW_IPS": "10.0.0.5"},
    ):
        result = kabinet("check", url=db.url, tmp_path=tmp_path, **production(**change))
        said = warnings(result.stdout) + problems(result.stdout)
        assert not [w for w in said if "one budget" in w or "FORWARDED" in w], result.stdout


async def test_a_server_on_a_unix_socket_says_so(db, tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kab") as short:  # a socket path has 107 bytes
        socket = str(Path(short) / "kabinet.sock")
        server = start_kabinet("serve", url=db.url, tmp_path=tmp_path, UNIX_SOCKET=socket)
        try:
            transport = httpx.AsyncHTTPTransport(uds=socket)
            async with httpx.AsyncClient(transport=transport, base_url="http://kabinet") as http:
                for _ in range(600):
                    assert server.poll() is None, stderr_of(server)
                    try:
                        if (await http.get("/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                assert "UNIX_SOCKET is set" in stderr_of(server), stderr_of(server)
                for _ in range(3):
                    assert (await http.get("/healthz")).status_code == 200
        finally:
            _code, err = stop_kabinet(server)
    assert err.count("came over the Unix socket") == 1, err  # once, not per request
    assert "Traceback" not in err


async def test_a_proxy_nobody_trusted_is_said_at_run_time(db, tmp_path: Path) -> None:
    port = free_port()
    server = start_kabinet(
        "serve",
        *("--host", "127.0.0.1", "--port", str(port)),
        url=db.url,
        tmp_path=tmp_path,
        HOST="0.0.0.0",  # overridden: `serve --host` says where it listens
        FORWARDED_ALLOW_IPS="10.9.9.9",
    )
    try:
        await wait_until_ready(port, server)
        started = stderr_of(server)  # the start-up check, from the settings and `--host`
        assert "HOST is 127.0.0.1" in started and "does not trust 127.0.0.1" in started, started
        assert "trusts no proxy elsewhere" not in started
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert "carries a proxy header" not in stderr_of(server)
            for _ in range(2):
                await http.get("/healthz", headers={"X-Forwarded-For": "198.51.100.7"})
    finally:
        _code, err = stop_kabinet(server)
    assert err.count("carries a proxy header") == 1, err
    assert "FORWARDED_ALLOW_IPS does not list 127.0.0.1" in err
