"""Argon2 runs in a bounded pool, never on the event loop: a burst of logins queues for it
and every one of them gets in, while the loop goes on serving (SECURITY.md 10)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx
import pytest
from argon2 import PasswordHasher

from config import Settings
from models.cabinets import Cabinet
from services.core.pools import pool_size
from services.security import passwords
from tests.support import LOGIN, PASSWORD, Api, codes

BURST = 100


class Watched:
    """The real hasher, noting the thread of every hash and verification, and how many
    ran at once; `during` runs in that thread before the work itself."""

    def __init__(self, real: PasswordHasher, during: Callable[[], None] | None = None) -> None:
        self.real = real
        self.during = during
        self.threads: list[threading.Thread] = []
        self.calls: list[str] = []
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def _work(self, kind: str, work: Callable[[], object]) -> object:
        with self._lock:
            self.threads.append(threading.current_thread())
            self.calls.append(kind)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if self.during is not None:
                self.during()
            return work()
        finally:
            with self._lock:
                self.running -= 1

    def hash(self, password: str) -> str:
        return self._work("hash", lambda: self.real.hash(password))  # type: ignore[return-value]

    def verify(self, stored: str, password: str) -> bool:
        return self._work("verify", lambda: self.real.verify(stored, password))  # type: ignore[return-value]

    def check_needs_rehash(self, stored: str) -> bool:
        return self.real.check_needs_rehash(stored)


@pytest.mark.usefixtures("demo_data")
async def test_argon2_never_runs_on_the_event_loop_thread(api: Api, monkeypatch) -> None:
    watched = Watched(passwords.HASHER)
    monkeypatch.setattr(passwords, "HASHER", watched)
    loop_thread = threading.current_thread()

    await api.register("001234567890", "1500", "ivanova@mail.ru")  # hash
    assert (await api.login("ivanova@mail.ru"))["userErrors"] == []  # verify
    assert codes(await api.login("ivanova@mail.ru", "wrong-password")) == ["INVALID_CREDENTIALS"]
    unknown = await api.login("nobody@mail.ru")  # the dummy hash's verification
    assert codes(unknown) == ["INVALID_CREDENTIALS"]
    # A hash of weaker parameters is upgraded at login: verify, then hash again.
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    await Cabinet.filter(email="ivanova@mail.ru").update(password_hash=weak)
    assert (await api.login("ivanova@mail.ru"))["userErrors"] == []
    upgraded = (await Cabinet.get(email="ivanova@mail.ru")).password_hash
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")

    assert watched.calls.count("hash") >= 2 and watched.calls.count("verify") >= 4
    assert loop_thread not in watched.threads
    assert {thread.name.rsplit("_", 1)[0] for thread in watched.threads} == {"argon2"}


async def test_a_burst_of_logins_queues_for_the_pool_and_all_get_in(
    settings: Settings, monkeypatch
) -> None:
    """A hundred customers log in at the same moment, each from an address of its own.
    Every verification waits for the event loop to have run once more while it is under
    way (a heartbeat task counts the loop's turns): on the loop's own thread that could
    never happen, and off it no timing is assumed, so a slow machine passes as well."""
    from server import create_app

    beats = 0
    beat = threading.Event()
    loop_ran: list[bool] = []

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            beats += 1
            beat.set()
            await asyncio.sleep(0.001)

    def during() -> None:
        if loop_ran and not all(loop_ran):
            loop_ran.append(False)  # one stalled loop is enough; no need to wait again
            return
        before = beats
        beat.clear()
        beat.wait(timeout=60)
        loop_ran.append(beats != before)

    password_hash = passwords.HASHER.hash(passwords.normalize(PASSWORD))
    await Cabinet.bulk_create(
        [Cabinet(email=f"burst{i}@mail.ru", password_hash=password_hash) for i in range(BURST)]
    )
    watched = Watched(passwords.HASHER, during)
    monkeypatch.setattr(passwords, "HASHER", watched)
    app = create_app(settings, manage_db=False)

    async def login(i: int) -> dict:
        transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{i + 1}", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            variables = {"input": {"email": f"burst{i}@mail.ru", "password": PASSWORD}}
            response = await http.post("/graphql", json={"query": LOGIN, "variables": variables})
            return response.json()["data"]["login"]

    pulse = asyncio.create_task(heartbeat())
    try:
        results = await asyncio.gather(*(login(i) for i in range(BURST)))
    finally:
        pulse.cancel()

    assert [r["userErrors"] for r in results] == [[]] * BURST
    assert all(r["token"] for r in results)
    assert len({r["token"] for r in results}) == BURST
    assert watched.calls == ["verify"] * BURST
    assert loop_ran == [True] * BURST
    assert 1 <= watched.most <= pool_size()  # the rest waited in the pool's queue
