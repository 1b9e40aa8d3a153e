"""Demo data: a handful of realistic accounts with two years of history.

The data goes in through the billing import, exactly as a real export would, so the
demo exercises the same code path and is idempotent for the same reason: running
`seed-demo` twice in one month changes nothing; a month later it adds that month.
History is anchored to the current month, so "a payment in the last 12 months" keeps
working whatever the date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from services.billing import importer as billing_import
from services.core.timeutil import add_months, format_period

HISTORY_MONTHS = 24
EPOCH = dt.date(2024, 6, 1)  # the simulation starts here with a zero balance
METER_INSTALLED = dt.date(2019, 6, 14)
KOPECK = Decimal("0.01")
KWH = Decimal("0.001")

# Rates in roubles per kWh from 1 July 2026, indexed every 1 July as regulated tariffs are.
BASE_RATES = {
    1: (Decimal("5.64"),),
    2: (Decimal("6.48"), Decimal("3.63")),  # day, night
    3: (Decimal("7.47"), Decimal("3.63"), Decimal("5.64")),  # peak, night, half-peak
}
YEARLY_INDEXATION = Decimal("1.099")
BASE_RATES_YEAR = 2026


@dataclass(frozen=True)
class DemoAccount:
    number: str
    holder_name: str
    address: str
    tariff: str
    meter_serial: str
    meter_model: str
    zones: int
    digits: int
    monthly_kwh: int  # average consumption, shaped by season
    payment: Decimal | None  # the fixed amount this customer pays every month
    channel: str
    last_payment_on: dt.date | None = None  # the customer stopped paying after this day


ACCOUNTS = (
    DemoAccount(
        "001234567890",
        "Иванова Мария Петровна",
        "603005, г. Нижний Новгород, ул. Рождественская, д. 12, кв. 34",
        "Двухзонный (день/ночь)",
        "36218457",
        "Меркурий 200.02",
        2,
        6,
        330,
        Decimal("1500.00"),
        "Сбербанк Онлайн",
    ),
    DemoAccount(
        "001234567891",
        "Петров Сергей Иванович",
        "603155, г. Нижний Новгород, ул. Минина, д. 5, кв. 7",
        "Трёхзонный (пик/ночь/полупик)",
        "011075120346",
        "Энергомера CE102M",
        3,
        6,
        620,
        Decimal("2750.00"),
        "ВТБ Онлайн",
    ),
    DemoAccount(
        "001234567892",
        "Кузнецова Анна Викторовна",
        "607220, г. Арзамас, ул. Калинина, д. 40",
        "Одноставочный",
        "4479213",
        "СО-ЭЭ6706",
        1,
        5,
        140,
        Decimal("640.50"),
        "Касса ТНС энерго",
    ),
    DemoAccount(
        "001234567893",
        "Смирнов Дмитрий Алексеевич",
        "606000, г. Дзержинск, пр. Ленина, д. 81, кв. 112",
        "Одноставочный",
        "5581093",
        "Нева 101",
        1,
        5,
        140,
        Decimal("700.00"),
        "Почта России",
        last_payment_on=dt.date(2025, 9, 8),
    ),
    DemoAccount(
        "001234567894",
        "Волкова Елена Николаевна",
        "603057, г. Нижний Новгород, ул. Бекетова, д. 3, кв. 15",
        "Одноставочный",
        "6620417",
        "Нева 101",
        1,
        5,
        200,
        Decimal("900.00"),
        "Сбербанк Онлайн",
    ),
    DemoAccount(
        "001234567895",
        "Морозов Игорь Константинович",
        "607650, г. Кстово, ул. Школьная, д. 9",
        "Двухзонный (день/ночь)",
        "38871202",
        "Меркурий 200.02",
        2,
        6,
        265,
        Decimal("1200.00"),
        "Тинькофф",
    ),
)


def _rates(zones: int, month: dt.date) -> tuple[Decimal, ...]:
    """Rates of a month: BASE_RATES from July 2026, indexed every July before and after."""
    tariff_year = month.year if month.month >= 7 else month.year - 1
    factor = YEARLY_INDEXATION ** (tariff_year - BASE_RATES_YEAR)
    return tuple((rate * factor).quantize(KOPECK, ROUND_HALF_UP) for rate in BASE_RATES[zones])


def _monthly_kwh(account: DemoAccount, month: dt.date) -> Decimal:
    """More in winter, less in summer, with a little account-specific wobble."""
    season = 1 + 0.35 * math.cos((month.month - 1) / 12 * 2 * math.pi)
    wobble = 1 + 0.06 * math.sin(month.year * 12 + month.month + int(account.number[-2:]))
    return Decimal(account.monthly_kwh * season * wobble).quantize(KWH)


def _zone_split(zones: int) -> tuple[Decimal, ...]:
    return {
        1: (Decimal(1),),
        2: (Decimal("0.68"), Decimal("0.32")),
        3: (Decimal("0.22"), Decimal("0.30"), Decimal("0.48")),
    }[zones]


@dataclass
class DemoFiles:
    accounts: list[list[str]]
    meters: list[list[str]]
    readings: list[list[str]]
    payments: list[list[str]]
    receipts: list[list[str]]


def build(today: dt.date) -> DemoFiles:
    """The demo as rows of the five CSV exports (header first), up to `today`."""
    this_month = today.replace(day=1)
    first_month = add_months(this_month, -HISTORY_MONTHS)
    files = DemoFiles(
        accounts=[["number", "holder_name", "address", "tariff", "balance", "balance_on"]],
        meters=[
            [
                "account_number",
                "serial",
                "zones",
                "digits",
                "model",
                "installed_on",
                "verified_on",
                "next_verification_on",
            ]
        ],
        readings=[["serial", "taken_on", "t1", "t2", "t3"]],
        payments=[["account_number", "paid_at", "amount", "channel", "external_id"]],
        receipts=[
            [
                "account_number",
                "period",
                "issued_on",
                "due_on",
                "opening_balance",
                "charged",
                "paid",
                "amount_due",
            ]
            + [f"t{z}_{f}" for z in (1, 2, 3) for f in billing_import.ZONE_LINE_FIELDS]
        ],
    )
    for account in ACCOUNTS:
        _build_account(files, account, first_month, this_month, today)
    return files


def _build_account(
    files: DemoFiles,
    account: DemoAccount,
    first_month: dt.date,
    this_month: dt.date,
    today: dt.date,
) -> None:
    """Simulate the account month by month from EPOCH, so a row never changes once written
    (seeding later only adds months); emit the rows from `first_month` on."""
    files.meters.append(
        [
            account.number,
            account.meter_serial,
            str(account.zones),
            str(account.digits),
            account.meter_model,
            METER_INSTALLED.isoformat(),
            METER_INSTALLED.isoformat(),
            add_months(METER_INSTALLED, 16 * 12).isoformat(),
        ]
    )
    values = [
        Decimal(1000 + 1371 * zone + 97 * int(account.number[-1])).quantize(KWH)
        for zone in range(1, account.zones + 1)
    ]
    capacity = Decimal(10) ** account.digits
    balance = Decimal("0.00")
    month = EPOCH
    while month < this_month:
        emit = month >= first_month
        if month == first_month:
            files.readings.append(
                _reading_row(account, add_months(month, -1).replace(day=25), values)
            )
        previous = list(values)
        total = _monthly_kwh(account, month)
        used = [(total * share).quantize(KWH) for share in _zone_split(account.zones)]
        values = [(v + u) % capacity for v, u in zip(values, used, strict=True)]
        rates = _rates(account.zones, month)
        lines = [
            (prev, cur, kwh, rate, (kwh * rate).quantize(KOPECK, ROUND_HALF_UP))
            for prev, cur, kwh, rate in zip(previous, values, used, rates, strict=True)
        ]
        charged = sum((line[4] for line in lines), Decimal("0.00"))
        paid = _payment_in(files if emit else None, account, month, today)
        opening = balance
        balance = opening + charged - paid
        next_month = add_months(month, 1)
        if emit:
            files.readings.append(_reading_row(account, month.replace(day=25), values))
            row = [
                account.number,
                format_period(month),
                next_month.isoformat(),
                next_month.replace(day=10).isoformat(),
                str(opening),
                str(charged),
                str(paid),
                str(balance),
            ]
            for zone in range(3):
                row += [str(x) for x in lines[zone]] if zone < len(lines) else [""] * 5
            files.receipts.append(row)
        month = next_month
    balance -= _payment_in(files, account, this_month, today)
    files.accounts.append(
        [
            account.number,
            account.holder_name,
            account.address,
            account.tariff,
            str(balance),
            today.isoformat(),
        ]
    )


def _reading_row(account: DemoAccount, day: dt.date, values: list[Decimal]) -> list[str]:
    cells = [str(v) for v in values] + [""] * (3 - len(values))
    return [account.meter_serial, day.isoformat(), *cells]


def _payment_in(
    files: DemoFiles | None, account: DemoAccount, month: dt.date, today: dt.date
) -> Decimal:
    """The month's payment (on the 8th), added to the export when `files` is given."""
    if account.payment is None:
        return Decimal("0.00")
    paid_on = month.replace(day=8)
    if paid_on > today:
        return Decimal("0.00")
    if account.last_payment_on is not None and paid_on > account.last_payment_on:
        return Decimal("0.00")
    if files is not None:
        files.payments.append(
            [
                account.number,
                f"{paid_on.isoformat()}T10:{int(account.number[-1]) * 5:02d}:00",
                str(account.payment),
                account.channel,
                f"DEMO-{account.number}-{format_period(month)}",
            ]
        )
    return account.payment


def _csv_bytes(rows: Iterable[list[str]]) -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator="\n").writerows(rows)
    return io.BytesIO(text.getvalue().encode("utf-8"))


async def seed(today: dt.date, tz: dt.tzinfo) -> list[billing_import.ImportSummary]:
    files = build(today)
    summaries = []
    for kind in ("accounts", "meters", "readings", "payments", "receipts"):
        stream = _csv_bytes(getattr(files, kind))
        summaries.append(
            await billing_import.import_stream(billing_import.KINDS[kind], stream, tz=tz)
        )
    return summaries


def describe() -> list[tuple[str, str, str, str]]:
    """(account number, holder, what proves ownership, its cabinet) for the CLI."""
    cabinets = {n: email for email, _lang, numbers in DEMO_CABINETS for n in numbers}
    rows = []
    for account in ACCOUNTS:
        if account.last_payment_on is not None:
            proof = f"no payment since {account.last_payment_on.isoformat()}"
        else:
            proof = f"pays {account.payment} on the 8th of every month"
        rows.append((account.number, account.holder_name, proof, cabinets.get(account.number, "-")))
    return rows


# Cabinets the demo starts with; the other accounts are left for registering.
DEMO_PASSWORD = "demo-Kabinet-2026"  # noqa: S105 - documented in the README, demo only
DEMO_CABINETS = (
    ("ivanova@example.com", "ru", ("001234567890", "001234567891")),
    ("kuznetsova@example.com", "en", ("001234567892",)),
)


async def seed_cabinets() -> list[str]:
    """Create the demo cabinets that do not exist yet; returns the e-mails created."""
    from tortoise.transactions import in_transaction

    from config import get_settings
    from models.accounts import Account
    from models.cabinets import Cabinet, CabinetAccount
    from services.core.clock import now
    from services.security.passwords import hash_password

    created = []
    for email, language, numbers in DEMO_CABINETS:
        if await Cabinet.filter(email=email).exists():
            continue
        accounts = await Account.filter(number__in=numbers).order_by("number")
        if await CabinetAccount.filter(account_id__in=[a.id for a in accounts]).exists():
            continue  # someone registered these accounts already
        password_hash = await hash_password(DEMO_PASSWORD)
        async with in_transaction():
            cabinet = await Cabinet.create(
                email=email,
                password_hash=password_hash,
                language=language,
                email_verified_at=now(),
                # as if registered through the API today: the current notice accepted
                privacy_notice_version=get_settings().privacy_notice_version,
                privacy_notice_accepted_at=now(),
            )
            for account in accounts:
                await CabinetAccount.create(cabinet=cabinet, account=account)
        created.append(email)
    return created


# A specialist to answer the demo customers' questions (docs/api.md, "Questions to specialists").
DEMO_SPECIALIST = ("specialist@example.com", "Ольга Смирнова")


async def seed_specialist() -> str | None:
    """Create the demo specialist unless it exists; returns its e-mail when created."""
    from models.cabinets import Cabinet, Role
    from services.core.clock import now
    from services.security.passwords import hash_password

    email, name = DEMO_SPECIALIST
    if await Cabinet.filter(email=email).exists():
        return None
    await Cabinet.create(
        email=email,
        password_hash=await hash_password(DEMO_PASSWORD),
        role=Role.STAFF,
        display_name=name,
        email_verified_at=now(),
    )
    return email
