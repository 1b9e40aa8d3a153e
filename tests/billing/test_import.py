"""Import of the billing exports: works, is idempotent, and rejects bad files whole."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from models.accounts import Account
from models.billing import Payment, Receipt
from models.metering import Meter, MeterReading
from services.billing.importer import BATCH_ROWS, ImportFailed, ImportSummary, import_file

MSK = ZoneInfo("Europe/Moscow")

ACCOUNTS_CSV = """number;holder_name;address;tariff;balance
0012345;Иванова Мария Петровна;г. Нижний Новгород, ул. Рождественская, д. 12;Двухзонный;1 523,40
0099999;Петров Сергей Иванович;г. Арзамас, ул. Калинина, д. 40;Одноставочный;-100
"""

METERS_CSV = """account_number,serial,zones,digits,model,installed_on
0012345,M-2,2,6,Меркурий 200.02,2020-03-14
0099999,M-1,1,5,,
"""

READINGS_CSV = """serial;taken_on;t1;t2;t3
M-2;2026-09-25;1000.5;500;
M-2;2026-10-25;1100,25;540.125;
M-1;2026-10-25;99999.999;;
"""

PAYMENTS_CSV = """account_number;paid_at;amount;channel;external_id
0012345;2026-10-08T10:15:00;1 500,00;Сбербанк Онлайн;P-1
0012345;2026-11-08;1500;Сбербанк Онлайн;P-2
0099999;2026-11-09T12:00:00+00:00;640.5;Касса;P-3
"""

RECEIPTS_CSV = (
    "account_number;period;issued_on;due_on;opening_balance;charged;paid;amount_due;"
    "t1_previous;t1_current;t1_rate;t1_amount;t2_previous;t2_current;t2_rate;t2_amount\n"
    "0012345;2026-10;2026-11-01;2026-11-10;100.00;850.40;1500.00;-549.60;"
    "1000.5;1100.25;6.48;646.38;500;540.125;3.63;145.65\n"
)


async def run(tmp_path: Path, kind: str, text: str, name: str = "") -> ImportSummary:
    path = tmp_path / (name or f"{kind}.csv")
    path.write_text(text, encoding="utf-8")
    return await import_file(kind, path, tz=MSK)


async def rejected(tmp_path: Path, kind: str, text: str) -> list[str]:
    with pytest.raises(ImportFailed) as failure:
        await run(tmp_path, kind, text, name=f"bad-{kind}.csv")
    return [str(e) for e in failure.value.errors]


async def load_all(tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    await run(tmp_path, "meters", METERS_CSV)
    await run(tmp_path, "readings", READINGS_CSV)
    await run(tmp_path, "payments", PAYMENTS_CSV)
    await run(tmp_path, "receipts", RECEIPTS_CSV)


async def snapshot() -> dict[str, list]:
    return {
        "accounts": await Account.all().order_by("id").values(),
        "meters": await Meter.all().order_by("id").values(),
        "readings": await MeterReading.all().order_by("id").values(),
        "payments": await Payment.all().order_by("id").values(),
        "receipts": await Receipt.all().order_by("id").values(),
    }


# ---------------------------------------------------------------- each kind works


async def test_accounts_keep_leading_zeros_and_typed_amounts(db, tmp_path: Path) -> None:
    summary = await run(tmp_path, "accounts", ACCOUNTS_CSV)
    assert (summary.rows, summary.inserted, summary.updated) == (2, 2, 0)
    account = await Account.get(number="0012345")
    assert account.holder_name == "Иванова Мария Петровна"
    assert account.tariff == "Двухзонный"
    assert account.balance == Decimal("1523.40")
    assert (await Account.get(number="0099999")).balance == Decimal("-100.00")
    assert not await Account.filter(number="12345").exists()


async def test_meters_link_to_accounts(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    summary = await run(tmp_path, "meters", METERS_CSV)
    assert summary.inserted == 2
    meter = await Meter.get(serial="M-2").prefetch_related("account")
    assert meter.account.number == "0012345"
    assert (meter.zones, meter.digits, meter.model) == (2, 6, "Меркурий 200.02")
    assert meter.installed_on == dt.date(2020, 3, 14)
    assert (await Meter.get(serial="M-1")).installed_on is None


async def test_readings_per_zone(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    await run(tmp_path, "meters", METERS_CSV)
    summary = await run(tmp_path, "readings", READINGS_CSV)
    assert summary.inserted == 3
    latest = await MeterReading.get(meter__serial="M-2", taken_on=dt.date(2026, 10, 25))
    assert (latest.t1, latest.t2, latest.t3) == (Decimal("1100.250"), Decimal("540.125"), None)
    assert latest.source == "billing"
    single = await MeterReading.get(meter__serial="M-1")
    assert single.t1 == Decimal("99999.999")


async def test_payments_times_and_amounts(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    summary = await run(tmp_path, "payments", PAYMENTS_CSV)
    assert summary.inserted == 3
    first = await Payment.get(external_id="P-1")
    assert first.amount == Decimal("1500.00")
    assert first.paid_at == dt.datetime(2026, 10, 8, 7, 15, tzinfo=dt.UTC)  # 10:15 Moscow
    assert first.channel == "Сбербанк Онлайн"
    date_only = await Payment.get(external_id="P-2")
    assert date_only.paid_at == dt.datetime(2026, 11, 7, 21, 0, tzinfo=dt.UTC)
    with_offset = await Payment.get(external_id="P-3")
    assert with_offset.paid_at == dt.datetime(2026, 11, 9, 12, 0, tzinfo=dt.UTC)
    assert with_offset.amount == Decimal("640.50")
    in_window = await Payment.filter(
        account__number="0012345", paid_at__gte=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    ).count()
    assert in_window == 1


async def test_receipts_with_zone_lines(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    summary = await run(tmp_path, "receipts", RECEIPTS_CSV)
    assert summary.inserted == 1
    receipt = await Receipt.get(account__number="0012345")
    assert summary.new_ids == [receipt.id]
    assert receipt.period == dt.date(2026, 10, 1)
    assert (receipt.charged, receipt.amount_due) == (Decimal("850.40"), Decimal("-549.60"))
    lines = receipt.lines if isinstance(receipt.lines, list) else json.loads(receipt.lines)
    assert [line["zone"] for line in lines] == [1, 2]
    assert lines[0]["consumption"] == "99.750"  # computed from previous and current
    assert lines[1] == {
        "zone": 2,
        "previous": "500.000",
        "current": "540.125",
        "consumption": "40.125",
        "rate": "3.63",
        "amount": "145.65",
    }


# ---------------------------------------------------------------- idempotence


async def test_reimporting_every_file_changes_nothing(db, tmp_path: Path) -> None:
    await load_all(tmp_path)
    before = await snapshot()
    for kind, text in [
        ("accounts", ACCOUNTS_CSV),
        ("meters", METERS_CSV),
        ("readings", READINGS_CSV),
        ("payments", PAYMENTS_CSV),
        ("receipts", RECEIPTS_CSV),
    ]:
        summary = await run(tmp_path, kind, text)
        assert (summary.inserted, summary.updated) == (0, 0), kind
        assert summary.unchanged == summary.rows, kind
        assert summary.new_ids == []
    assert await snapshot() == before


async def test_reimport_updates_only_what_changed(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    changed = ACCOUNTS_CSV.replace("ул. Рождественская, д. 12", "ул. Рождественская, д. 14")
    summary = await run(tmp_path, "accounts", changed)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 1)
    assert (await Account.get(number="0012345")).address.endswith("д. 14")


async def test_absent_optional_columns_keep_stored_values(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    summary = await run(
        tmp_path,
        "accounts",
        "number,holder_name,address\n0012345,Иванова Мария Петровна,"
        '"г. Нижний Новгород, ул. Рождественская, д. 12"\n',
    )
    assert summary.unchanged == 1
    account = await Account.get(number="0012345")
    assert (account.tariff, account.balance) == ("Двухзонный", Decimal("1523.40"))


# ---------------------------------------------------------------- bad files


async def test_bad_row_rejects_the_whole_file(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    before = await snapshot()
    text = PAYMENTS_CSV + "0012345;2026-11-10;12.345;Касса;P-4\n"
    assert await rejected(tmp_path, "payments", text) == [
        "line 5: amount: '12.345' has more than two digits after the decimal point"
    ]
    assert await snapshot() == before


async def test_errors_name_every_bad_line(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    text = (
        "account_number;paid_at;amount;channel;external_id\n"
        "0012345;yesterday;100;Касса;A\n"
        "12-34;2026-11-01;100;Касса;B\n"
        "0012345;2026-11-01;0;Касса;C\n"
        "0012345;2026-11-01;100;Касса;D\n"
        "0012345;2026-11-01;100;Касса\n"
        "0012345;2026-11-01;100;Касса;\n"
    )
    errors = await rejected(tmp_path, "payments", text)
    assert errors == [
        "line 2: paid_at: 'yesterday' is not an ISO 8601 date-time, e.g. 2026-01-31T14:05:00",
        "line 3: account_number: '12-34' must contain digits only",
        "line 4: amount: '0' must be greater than zero",
        "line 6: expected 5 fields, found 4",
        "line 7: external_id is empty",
    ]
    assert await Payment.all().count() == 0


async def test_unknown_references_and_duplicates(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    errors = await rejected(
        tmp_path,
        "payments",
        "account_number,paid_at,amount,channel,external_id\n"
        "0012345,2026-11-01,100,Касса,X-1\n"
        "7777777,2026-11-01,100,Касса,X-2\n"
        "0012345,2026-11-02,200,Касса,X-1\n",
    )
    assert errors == [
        "line 3: account 7777777 is not known; import accounts first",
        "line 4: repeats the external_id of line 2",
    ]
    errors = await rejected(
        tmp_path,
        "meters",
        "account_number,serial,zones,digits\n0012345,Z,4,6\n0012345,Y,1,0\n",
    )
    assert errors == [
        "line 2: zones: '4' must be a whole number from 1 to 3",
        "line 3: digits: '0' must be a whole number from 1 to 9",
    ]
    assert await Payment.all().count() == 0
    assert await Meter.all().count() == 0


async def test_reading_values_are_checked_row_by_row(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    await run(tmp_path, "meters", METERS_CSV)
    errors = await rejected(
        tmp_path,
        "readings",
        "serial,taken_on,t1,t2,t3\n"
        "M-1,2026-10-27,-1,,\n"
        "M-1,2026-10-28,1.0001,,\n"
        "M-2,2026-10-29,1,,3\n"
        "M-2,2026-10-30,,1,\n"
        "M-2,2026-10-31,1,x,\n",
    )
    assert errors == [
        "line 2: t1: '-1' must be a non-negative number",
        "line 3: t1: '1.0001' has more than three decimals",
        "line 4: t3 is given without t2",
        "line 5: t1 is empty",
        "line 6: t2: 'x' is not a number",
    ]
    assert await MeterReading.all().count() == 0


async def test_readings_database_checks(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    await run(tmp_path, "meters", METERS_CSV)
    errors = await rejected(
        tmp_path,
        "readings",
        "serial,taken_on,t1,t2,t3\n"
        "M-2,2026-10-25,100,,\n"
        "M-1,2026-10-25,100000,,\n"
        "M-1,2026-10-26,1,2,\n"
        "M-9,2026-10-26,1,,\n",
    )
    assert errors == [
        "line 2: meter M-2 has 2 zone(s), the row gives 1: fill t1..tN for an N-zone meter "
        "and leave the rest empty",
        "line 3: a value does not fit the register: meter M-1 has 5 digits",
        "line 4: meter M-1 has 1 zone(s), the row gives 2: fill t1..tN for an N-zone meter "
        "and leave the rest empty",
        "line 5: meter M-9 is not known; import meters first",
    ]


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("number;holder_name", "missing required column(s): address"),
        ("number;holder_name;address;adress", "unknown column(s): adress"),
        ("number;holder_name;address;address", "repeated column(s): address"),
    ],
)
async def test_header_problems(db, tmp_path: Path, header: str, problem: str) -> None:
    errors = await rejected(tmp_path, "accounts", header + "\n1;x;y\n")
    assert len(errors) == 1
    assert errors[0].startswith("line 1: ")
    assert problem in errors[0]


async def test_empty_file_and_bad_encoding(db, tmp_path: Path) -> None:
    assert await rejected(tmp_path, "accounts", "") == [
        "line 1: the file is empty; expected a header row"
    ]
    path = tmp_path / "cp1251.csv"
    path.write_bytes("number;holder_name;address\n1;Иванов;Москва\n".encode("cp1251"))
    with pytest.raises(ImportFailed) as failure:
        await import_file("accounts", path, tz=MSK)
    assert "not valid UTF-8" in str(failure.value)
    assert await Account.all().count() == 0


async def test_bom_and_quoted_fields(db, tmp_path: Path) -> None:
    text = '\ufeffnumber,holder_name,address\n0001,"Сидоров, Иван","ул. Мира, д. 1"\n'
    await run(tmp_path, "accounts", text)
    account = await Account.get(number="0001")
    assert (account.holder_name, account.address) == ("Сидоров, Иван", "ул. Мира, д. 1")


async def test_a_bad_last_row_after_many_batches_writes_nothing(db, tmp_path: Path) -> None:
    await run(tmp_path, "accounts", ACCOUNTS_CSV)
    count = BATCH_ROWS * 2 + 17
    rows = [f"0012345;2026-01-01T00:00:00;{i % 900 + 1}.00;Касса;BIG-{i}" for i in range(count)]
    header = "account_number;paid_at;amount;channel;external_id\n"
    good = header + "\n".join(rows) + "\n"
    assert (await run(tmp_path, "payments", good)).inserted == count
    bad = header + "\n".join(r.replace("BIG", "NEW") for r in rows) + "\n0012345;x;1;K;Z\n"
    errors = await rejected(tmp_path, "payments", bad)
    assert errors[0].startswith(f"line {count + 2}: paid_at:")
    assert await Payment.all().count() == count
    assert not await Payment.filter(external_id__startswith="NEW").exists()
