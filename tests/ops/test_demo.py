"""The demo data a newcomer explores: realistic, complete, idempotent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from models.accounts import Account
from models.billing import Payment, Receipt
from models.cabinets import Cabinet, CabinetAccount, Role
from models.metering import Meter, MeterReading
from services.ops import demo
from services.security.passwords import hash_password, verify_password
from tests.ops.test_cli import kabinet
from tests.ops.test_operations import problems, production

MSK = ZoneInfo("Europe/Moscow")
TODAY = dt.date(2026, 11, 25)


async def counts() -> tuple[int, ...]:
    return (
        await Account.all().count(),
        await Meter.all().count(),
        await MeterReading.all().count(),
        await Payment.all().count(),
        await Receipt.all().count(),
    )


async def test_demo_has_what_the_flows_need(db) -> None:
    await demo.seed(TODAY, MSK)
    accounts = await Account.all()
    assert len(accounts) >= 3
    two_years = 0
    for account in accounts:
        meters = await Meter.filter(account=account)
        readings = await MeterReading.filter(meter__account=account).count()
        receipts = await Receipt.filter(account=account).count()
        payments = await Payment.filter(account=account).count()
        if readings >= 24 and receipts >= 24 and payments >= 12 and meters:
            two_years += 1
    assert two_years >= 3
    assert {m.zones for m in await Meter.all()} >= {2, 3}

    year_ago = dt.datetime(2025, 11, 25, tzinfo=MSK)
    silent = [
        a for a in accounts if not await Payment.filter(account=a, paid_at__gte=year_ago).exists()
    ]
    assert [a.number for a in silent] == ["001234567893"]
    assert await CabinetAccount.all().count() < len(accounts)  # some accounts have no cabinet

    receipt = await Receipt.filter(account__number="001234567891").order_by("-period").first()
    assert receipt is not None
    assert receipt.period == dt.date(2026, 10, 1)
    assert len(receipt.lines) == 3
    assert receipt.amount_due == receipt.opening_balance + receipt.charged - receipt.paid


async def test_demo_payments_match_what_the_readme_promises(db) -> None:
    await demo.seed(TODAY, MSK)
    described = {number: proof for number, _holder, proof, _cabinet in demo.describe()}
    recent = dt.datetime(2026, 11, 8, tzinfo=MSK)
    for number in ("001234567890", "001234567891", "001234567892"):
        amount = described[number].split()[1]
        assert await Payment.filter(
            account__number=number, amount=amount, paid_at__gte=recent
        ).exists()


async def test_seeding_again_changes_nothing(db) -> None:
    first = await demo.seed(TODAY, MSK)
    assert all(s.inserted == s.rows for s in first)
    before = await counts()
    second = await demo.seed(TODAY, MSK)
    assert all((s.inserted, s.updated) == (0, 0) for s in second), [s.line() for s in second]
    assert await counts() == before


async def test_a_month_later_the_history_grows(db) -> None:
    await demo.seed(TODAY, MSK)
    before = await counts()
    await demo.seed(dt.date(2026, 12, 26), MSK)
    after = await counts()
    assert after[4] == before[4] + len(demo.ACCOUNTS)  # one more receipt each
    assert after[0] == before[0]


async def test_rows_once_written_never_change(db) -> None:
    await demo.seed(TODAY, MSK)
    receipts = await Receipt.all().order_by("id").values()
    later = await demo.seed(dt.date(2027, 8, 3), MSK)
    by_kind = {s.kind: s for s in later}
    assert by_kind["receipts"].updated == 0
    assert by_kind["payments"].updated == 0
    assert by_kind["readings"].updated == 0
    for before in receipts:
        after = await Receipt.get(id=before["id"]).values()
        assert after == before


async def test_demo_cabinets(db) -> None:
    await demo.seed(TODAY, MSK)
    assert await demo.seed_cabinets() == ["ivanova@example.com", "kuznetsova@example.com"]
    assert await demo.seed_cabinets() == []  # idempotent
    ivanova = await Cabinet.get(email="ivanova@example.com")
    numbers = sorted(
        link.account.number
        for link in await CabinetAccount.filter(cabinet=ivanova).prefetch_related("account")
    )
    assert numbers == ["001234567890", "001234567891"]
    assert ivanova.email_verified_at is not None
    matches, _ = await verify_password(ivanova.password_hash, demo.DEMO_PASSWORD)
    assert matches
    linked = {link.account_id for link in await CabinetAccount.all()}
    free = [a.number for a in await Account.all().order_by("number") if a.id not in linked]
    assert free == ["001234567893", "001234567894", "001234567895"]


async def test_demo_specialist(db) -> None:
    assert await demo.seed_specialist() == "specialist@example.com"
    assert await demo.seed_specialist() is None  # idempotent
    olga = await Cabinet.get(email="specialist@example.com")
    assert (olga.role, olga.display_name) == (Role.STAFF, "Ольга Смирнова")
    assert not await CabinetAccount.filter(cabinet=olga).exists()
    matches, _ = await verify_password(olga.password_hash, demo.DEMO_PASSWORD)
    assert matches


# ---------------------------------------------------------------- never in production


async def test_seed_demo_refuses_production(db, tmp_path: Path) -> None:
    """Attack: `kabinet seed-demo` on a production database created a specialist who reads
    every question, with the password printed in the README."""
    result = kabinet("seed-demo", url=db.url, tmp_path=tmp_path, **production())
    assert result.returncode != 0
    assert "refuses to run with ENV=production" in result.stderr
    assert "Traceback" not in result.stderr
    assert not await Cabinet.exists()
    assert not await Account.exists()


async def test_check_flags_demo_cabinets_anywhere(db, tmp_path: Path) -> None:
    await demo.seed(TODAY, MSK)
    await demo.seed_cabinets()
    await demo.seed_specialist()
    await Cabinet.create(  # a real specialist who kept the password of the README
        email="lazy@energosbyt-volga.ru",
        password_hash=await hash_password(demo.DEMO_PASSWORD),
        role=Role.STAFF,
        display_name="Иван",
    )
    await Cabinet.create(
        email="careful@energosbyt-volga.ru",
        password_hash=await hash_password("a-Specialist-own-98"),
        role=Role.STAFF,
        display_name="Пётр",
    )
    for env in (production(), {}):
        result = kabinet("check", url=db.url, tmp_path=tmp_path, **env)
        assert result.returncode == 1
        found = "\n".join(problems(result.stdout))
        for email in (
            "ivanova@example.com",
            "kuznetsova@example.com",
            "specialist@example.com",
            "lazy@energosbyt-volga.ru",
        ):
            assert email in found, result.stdout
        assert "careful@" not in found
