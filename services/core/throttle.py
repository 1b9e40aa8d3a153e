"""Attempt counters in the database, exact across aliases, batches, tasks and processes.

An attempt is counted *before* the secret is compared (as Ory Kratos does), in its own
committed transaction: the counter row is locked (`SELECT ... FOR UPDATE` on
PostgreSQL; SQLite serializes transactions), checked, incremented and committed, and
only then does the caller look at the secret. A success gives the attempt back.

Two policies:
- `Window`: at most `limit` attempts per fixed window (proof of ownership).
- `Backoff`: after `free` consecutive failures each further attempt waits longer,
  doubling up to `cap` (login); never a permanent lockout.

What counts per client counts under `client_key(ip)`: one subscriber's IPv6 network is a
/64, within which a host picks new addresses at will (SLAAC privacy addresses), so an
address of it would be a fresh budget for the asking.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from models import sql
from models.sql import marks
from services.core.clock import now as clock_now


def client_key(ip: str) -> str:
    """The key a client's budgets count under: an IPv4 address as it is, an IPv6 address
    by its /64 prefix (`2001:db8:1:2::/64`), an IPv4-mapped IPv6 address as the IPv4 one.
    Anything else (no address: a Unix socket's peer) is returned as it is."""
    if ":" not in ip:
        return ip  # IPv4, or no address at all: the common case costs no parsing
    try:
        address = ipaddress.IPv6Address(ip.split("%", 1)[0])  # without a zone (fe80::1%eth0)
    except ValueError:
        return ip
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


class Throttled(Exception):
    def __init__(self, retry_after: dt.datetime) -> None:
        super().__init__(f"throttled until {retry_after.isoformat()}")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Window:
    limit: int
    window: dt.timedelta


@dataclass(frozen=True)
class Backoff:
    free: int  # failures allowed before any wait
    base: dt.timedelta  # the first wait, doubled by every further failure
    cap: dt.timedelta  # the longest wait
    forget_after: dt.timedelta  # failures are forgotten after this long without attempts
    success_resets: bool = True  # per account: yes; per IP: a success only gives one back

    def delay(self, failures: int) -> dt.timedelta:
        if failures <= self.free:
            return dt.timedelta(0)
        steps = min(failures - self.free - 1, 30)
        return min(self.base * (2**steps), self.cap)


Limit = tuple[str, "Window | Backoff"]


@dataclass
class _Counter:
    """A rate_counter row as `attempt` reads and writes it."""

    key: str
    count: int
    window_start: dt.datetime
    blocked_until: dt.datetime | None


_SAVE = 'UPDATE rate_counter SET "count" = ?, window_start = ?, blocked_until = ? WHERE "key" = ?'


class _NewKeys(Exception):
    """Some keys have no counter yet."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(", ".join(keys))
        self.keys = keys


async def _locked_counters(conn: Any, keys: list[str]) -> dict[str, _Counter]:
    """Every key's counter, locked until the transaction ends, in the keys' order (FOR
    UPDATE on PostgreSQL; SQLite has one writer at a time), so two attempts on the same
    keys cannot deadlock. _NewKeys when some have no counter: inserting them here, with
    the others already locked, would take locks out of that order (two attempts
    deadlocked on PostgreSQL that way: tests/recovery/test_recovery.py's parallel ones)."""
    lock = " FOR UPDATE" if sql.dialect(conn) == "postgres" else ""
    rows = await sql.fetch(
        conn,
        'SELECT "key", "count", window_start, blocked_until FROM rate_counter '  # noqa: S608
        f'WHERE "key" IN ({marks(keys)}) ORDER BY "key"{lock}',
        keys,
    )
    found = {row["key"]: _counter(row) for row in rows}
    if len(found) < len(keys):
        raise _NewKeys([key for key in keys if key not in found])
    return found


async def _create(keys: list[str], moment: dt.datetime) -> None:
    """Counters at zero for these keys, those another attempt has not created meanwhile;
    outside the attempt's transaction, so holding none of its locks, in the keys' order."""
    values = ", ".join("(?, 0, ?)" for _ in keys)
    await sql.execute(
        sql.connection(),
        f'INSERT INTO rate_counter ("key", "count", window_start) VALUES {values} '  # noqa: S608
        'ON CONFLICT ("key") DO NOTHING',
        [value for key in keys for value in (key, moment)],
    )


def _counter(row: dict[str, Any]) -> _Counter:
    window_start = sql.as_datetime(row["window_start"])
    assert window_start is not None
    return _Counter(row["key"], row["count"], window_start, sql.as_datetime(row["blocked_until"]))


def _blocked_until(counter: _Counter, policy: Window | Backoff, moment: dt.datetime):
    if isinstance(policy, Window):
        if counter.window_start > moment - policy.window and counter.count >= policy.limit:
            return counter.window_start + policy.window
        return None
    if counter.blocked_until is not None and counter.blocked_until > moment:
        return counter.blocked_until
    return None


def _count(counter: _Counter, policy: Window | Backoff, moment: dt.datetime) -> None:
    if isinstance(policy, Window):
        if counter.window_start <= moment - policy.window:
            counter.count, counter.window_start = 0, moment
        counter.count += 1
        return
    if counter.window_start <= moment - policy.forget_after:
        counter.count = 0
    counter.window_start = moment  # time of the last attempt
    # Pessimistic: the attempt counts as a failure until it proves otherwise, so
    # parallel guesses see the wait the moment they are counted.
    counter.count += 1
    delay = policy.delay(counter.count)
    counter.blocked_until = moment + delay if delay else None


async def attempt(*limits: Limit) -> None:
    """Count one attempt under every key, all or none: if any key is over its limit,
    raise Throttled (with the latest time any of them frees up) and count nothing.

    Plain statements, not the ORM: every login and proof runs this, and the ORM's
    select-then-save cost the event loop about a third of a login's own work."""
    moment = clock_now()
    ordered = sorted(limits, key=lambda limit: limit[0])
    keys = sorted({key for key, _ in ordered})
    for _ in range(_CREATE_TRIES):
        try:
            await _count_attempt(ordered, keys, moment)
            return
        except _NewKeys as new:  # a key's first attempt: create it, lock all again
            await _create(new.keys, moment)
    await _count_attempt(ordered, keys, moment)


_CREATE_TRIES = 3  # a counter deleted again each time (erasing a cabinet) cannot last


async def _count_attempt(ordered: list[Limit], keys: list[str], moment: dt.datetime) -> None:
    async with in_transaction():
        conn = sql.connection()
        found = await _locked_counters(conn, keys)
        counters = [(found[key], policy) for key, policy in ordered]
        waits = [_blocked_until(c, policy, moment) for c, policy in counters]
        if any(waits):
            raise Throttled(max(w for w in waits if w is not None))
        for counter, policy in counters:
            _count(counter, policy, moment)
        # in one trip: the transaction holds SQLite's one connection until it ends
        await sql.execute_many(
            conn,
            _SAVE,
            [(c.count, c.window_start, c.blocked_until, c.key) for c, _policy in counters],
        )


async def give_back(*limits: Limit) -> None:
    """The attempt succeeded: it does not count against the limits.

    Every successful login runs this, so it is one plain UPDATE of all its keys (atomic
    by itself; PostgreSQL locks the rows in the keys' index order, as `attempt` does)
    instead of the ORM's select-then-save a key, which cost the event loop about as much
    CPU as the rest of the login's rule together."""
    keys = sorted(key for key, _ in limits)
    resets = sorted(
        key for key, policy in limits if isinstance(policy, Backoff) and policy.success_resets
    )
    if not keys:
        return
    if resets:
        reset = f'"key" IN ({marks(resets)})'
        count = f'CASE WHEN {reset} THEN 0 WHEN "count" > 0 THEN "count" - 1 ELSE 0 END'
        blocked = f"CASE WHEN {reset} THEN NULL ELSE blocked_until END"
    else:
        count, blocked = 'CASE WHEN "count" > 0 THEN "count" - 1 ELSE 0 END', "blocked_until"
    statement = (
        f'UPDATE rate_counter SET "count" = {count}, blocked_until = {blocked} '  # noqa: S608
        f'WHERE "key" IN ({marks(keys)})'
    )
    await sql.execute(sql.connection(), statement, [*resets, *resets, *keys])
