"""Live updates: which objects changed, told to every server process (GraphQL
subscriptions, schema/websocket.py).

A rule that changes an object calls `publish(kind, pk)` inside the transaction of the
change. The message is small - the kind and the id, never the data: a subscriber reads
the object again itself, with its own permissions.

- PostgreSQL: `pg_notify` in that transaction, so it goes out at commit and never for a
  change rolled back; every process LISTENs on one dedicated connection (asyncpg's
  `add_listener`) and wakes its own subscribers, on every host.
- SQLite (one process): the in-process broker, once the transaction has ended
  (`sql.after_transaction`): a subscriber reads on SQLite's read-only connection, which
  does not wait for an open transaction, so woken earlier it would read the state before.

Kinds: `payment` (an online payment), `question`, `account` (a bill imported, a reading
accepted, a payment applied), and `cabinet` (its sessions ended: sockets re-check theirs).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Iterable
from urllib.parse import urlsplit, urlunsplit

from models import db, sql

log = logging.getLogger("kabinet")

CHANNEL = "kabinet_live"
Topic = tuple[str, int]
RECONNECT_SECONDS = 1.0


class Watcher:
    """One subscriber's wake-up call: set by any event on one of its topics."""

    __slots__ = ("_event", "topics")

    def __init__(self, topics: tuple[Topic, ...]) -> None:
        self.topics = topics
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    @property
    def woken(self) -> bool:
        """Whether a change has come that `changed` has not returned yet."""
        return self._event.is_set()

    async def changed(self, within: float | None = None) -> bool:
        """Wait for the next change (True) or `within` seconds (False)."""
        try:
            await asyncio.wait_for(self._event.wait(), within)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class Broker:
    """The subscribers of this process by topic."""

    def __init__(self) -> None:
        self._watchers: dict[Topic, set[Watcher]] = {}
        self.listening = asyncio.Event()  # set while the PostgreSQL listener is connected

    @property
    def count(self) -> int:
        return sum(len(watchers) for watchers in self._watchers.values())

    def deliver(self, topic: Topic) -> None:
        for watcher in tuple(self._watchers.get(topic, ())):
            watcher.wake()

    def wake_all(self) -> None:
        """After the listener reconnected: what happened meanwhile is unknown, so every
        subscriber reads its object again."""
        for watchers in tuple(self._watchers.values()):
            for watcher in tuple(watchers):
                watcher.wake()

    @contextlib.contextmanager
    def watch(self, topics: Iterable[Topic]):
        watcher = Watcher(tuple(topics))
        for topic in watcher.topics:
            self._watchers.setdefault(topic, set()).add(watcher)
        try:
            yield watcher
        finally:
            for topic in watcher.topics:
                watchers = self._watchers.get(topic)
                if watchers is not None:
                    watchers.discard(watcher)
                    if not watchers:
                        del self._watchers[topic]

    def on_payload(self, payload: str) -> None:
        topic = parse(payload)
        if topic is not None:
            self.deliver(topic)

    async def listen(self, database_url: str, stop: asyncio.Event) -> None:
        """LISTEN on a dedicated connection until `stop`; reconnect when it drops."""
        import asyncpg

        while not stop.is_set():
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(asyncpg_dsn(database_url))
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("live updates: cannot LISTEN (%s); retrying", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RECONNECT_SECONDS)
                continue
            try:
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(
                    CHANNEL, lambda _c, _pid, _channel, payload: self.on_payload(payload)
                )
                self.listening.set()
                self.wake_all()  # anything missed while not listening is read again
                waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
                _done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("live updates: LISTEN failed (%s)", exc)
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), 5)
            if not stop.is_set():
                log.warning("live updates: the LISTEN connection was lost; reconnecting")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RECONNECT_SECONDS)


def asyncpg_dsn(database_url: str) -> str:
    """Tortoise's URL as asyncpg takes it: the scheme postgres, no pool options."""
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def payload(kind: str, pk: int) -> str:
    return f"{kind}:{pk}"


def parse(text: str) -> Topic | None:
    kind, _, pk = text.partition(":")
    return (kind, int(pk)) if kind and pk.isdigit() else None


broker = Broker()


async def publish(kind: str, pk: int) -> None:
    """Tell every process's subscribers that `kind` `pk` changed: call it inside the
    transaction of the change (on PostgreSQL the message leaves at its commit)."""
    conn = sql.connection()
    if sql.dialect(conn) == "postgres":
        await sql.fetch(conn, "SELECT pg_notify(?, ?)", [CHANNEL, payload(kind, pk)])
    else:
        sql.after_transaction(conn, functools.partial(broker.deliver, (kind, pk)))


async def publish_selected(kind: str, select: str, params: list) -> None:
    """`publish(kind, id)` for each `id` a query selects, in one statement on PostgreSQL
    (a billing import's thousands of accounts)."""
    conn = sql.connection()
    if sql.dialect(conn) == "postgres":
        await sql.fetch(
            conn,
            f"SELECT pg_notify(?, ? || x.id) FROM ({select}) x",  # noqa: S608
            [CHANNEL, f"{kind}:", *params],
        )
    else:
        topics = [(kind, int(row["id"])) for row in await sql.fetch(conn, select, params)]

        def deliver() -> None:
            for topic in topics:
                broker.deliver(topic)

        sql.after_transaction(conn, deliver)


@contextlib.asynccontextmanager
async def running_broker(database_url: str) -> AsyncIterator[Broker]:
    """The server's lifespan: on PostgreSQL the listener runs for its duration."""
    stop = asyncio.Event()
    task = None
    if db.dialect_of(database_url) == "postgres":
        task = asyncio.create_task(broker.listen(database_url, stop), name="live-listener")
    try:
        yield broker
    finally:
        stop.set()
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
