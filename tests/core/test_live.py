"""services.core.live: a change is told to subscribers at its commit (PostgreSQL: NOTIFY
heard on the listener's own connection), never for a rollback there; a billing import
tells the accounts with a new bill, and nothing when it is re-imported."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from models.accounts import Account
from services.core import live
from tests.billing.test_import import ACCOUNTS_CSV, RECEIPTS_CSV, run
from tests.conftest import BACKEND

WITHIN = 30  # seconds before a test gives up waiting (not a timed assertion)


async def listening(database_url: str):
    broker_context = live.running_broker(database_url)
    broker = await broker_context.__aenter__()
    if BACKEND == "postgres":
        await asyncio.wait_for(broker.listening.wait(), WITHIN)
    return broker_context, broker


async def test_told_at_commit_and_never_for_a_rollback(db) -> None:
    context, broker = await listening(db.url)
    try:
        with (
            broker.watch([("payment", 1)]) as rolled_back,
            broker.watch([("payment", 2)]) as committed,
        ):
            with pytest.raises(RuntimeError):
                async with in_transaction():
                    await live.publish("payment", 1)
                    raise RuntimeError("the change fails")
            async with in_transaction():
                await live.publish("payment", 2)
            assert await committed.changed(WITHIN)
            if BACKEND == "postgres":
                # NOTIFYs arrive in commit order: the rolled-back one would be here by now.
                assert not rolled_back.woken
    finally:
        await context.__aexit__(None, None, None)


async def test_a_billing_import_tells_the_accounts_with_a_new_bill(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    billed = await Account.get(number="0012345")
    other = await Account.get(number="0099999")
    context, broker = await listening(db.url)
    try:
        with (
            broker.watch([("account", billed.id)]) as told,
            broker.watch([("account", other.id)]) as not_told,
        ):
            await run(tmp_path, "receipts", RECEIPTS_CSV)
            assert await told.changed(WITHIN)
            # the same bill again is no new bill; a marker shows the listener is past it
            await run(tmp_path, "receipts", RECEIPTS_CSV, name="again.csv")
            async with in_transaction():
                await live.publish("account", other.id)
            assert await not_told.changed(WITHIN)
            assert not told.woken
    finally:
        await context.__aexit__(None, None, None)
