"""A utility-sized dataset for bench/scale.py, generated and COPYed into PostgreSQL.

Deterministic per account: account `i` gets the same rows whatever range it is generated
in, and every id is derived from `i`, so a database of N accounts holds exactly the first
N accounts of a larger one. Shapes:
- an account has 1 meter (85%), 2 (12%) or 3, all of its tariff's 1-3 zones
  (45% / 45% / 10%), with `months` of monthly readings (70% sent by the customer);
- a receipt a month with its lines per meter and zone, opening balance, payments and
  amount due; a payment in the following month for 92% of them (the amount due, or
  rounded up to 100 roubles);
- ~42% of accounts linked to cabinets of 1-3 accounts (per block of 10 accounts: 0-1
  together, or 0-2 in every fifth block; 5 and 8 alone), each cabinet with a session,
  the proof attempt and events of its registration and its attempt counters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal


def columns(names: str) -> list[str]:
    return names.split()


COLUMNS = {
    "account": columns(
        "id number holder_name address tariff balance balance_on created_at updated_at"
    ),
    "meter": columns(
        "id account_id serial model zones digits installed_on verified_on next_verification_on"
    ),
    "meter_reading": columns("id meter_id taken_on t1 t2 t3 source status created_at"),
    "receipt": columns(
        "id account_id period issued_on due_on opening_balance charged paid amount_due lines "
        "created_at"
    ),
    "payment": columns("id account_id amount paid_at channel external_id created_at"),
    "cabinet": columns(
        "id email email_verified_at password_hash language role display_name created_at updated_at"
    ),
    "cabinet_account": columns("id cabinet_id account_id linked_at"),
    "session": columns(
        "id cabinet_id token_hash created_at last_used_at expires_at revoked_at ip user_agent"
    ),
    "proof_attempt": columns(
        "id purpose account_number outcome cabinet_id ip user_agent created_at"
    ),
    "security_event": columns("id cabinet_id kind ip user_agent detail created_at"),
    "rate_counter": columns("id key count window_start blocked_until"),
}

SURNAMES = columns(
    "Иванов Петров Смирнов Кузнецов Попов Васильев Соколов Михайлов Новиков Фёдоров "
    "Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев"
)
NAMES = {  # first names, whether female
    **dict.fromkeys(columns("Мария Анна Елена Ольга Татьяна Наталья"), True),
    **dict.fromkeys(columns("Сергей Дмитрий Игорь Андрей Алексей Михаил"), False),
}
FATHERS = columns("Петров Иванов Викторов Алексеев Николаев Константинов Сергеев")
TOWNS = (
    ("603005", "г. Нижний Новгород"),
    ("607220", "г. Арзамас"),
    ("606000", "г. Дзержинск"),
    ("607650", "г. Кстово"),
    ("606440", "г. Бор"),
)
STREETS = columns("Рождественская Минина Бекетова Школьная Калинина Ленина Садовая Заречная")
TARIFFS = {1: "Одноставочный", 2: "Двухзонный (день/ночь)", 3: "Трёхзонный (пик/ночь/полупик)"}
RATES = {1: (564,), 2: (648, 363), 3: (747, 363, 564)}  # kopecks per kWh, as services.ops.demo
ZONE_SHARES = {1: (1.0,), 2: (0.7, 0.3), 3: (0.25, 0.3, 0.45)}
MODELS = ("Меркурий 200.02", "Энергомера CE102M", "Нева 101", "СО-ЭЭ6706", "Милур 107")
CHANNELS = ("Сбербанк Онлайн", "ВТБ Онлайн", "Касса ТНС энерго", "Почта России", "Личный кабинет")
SEASON = (1.35, 1.3, 1.15, 1.0, 0.85, 0.75, 0.75, 0.8, 0.9, 1.05, 1.2, 1.35)  # Jan..Dec
IP, AGENT = "10.0.0.1", "Mozilla/5.0 (Linux; Android 14) kabinet-scale"

# Ids come from the account's index: at most 3 meters an account, 64 months of history.
METERS_PER_ACCOUNT = 3
MONTH_SLOTS = 64
BLOCK = 10  # cabinets are laid out per block of 10 accounts

Rows = dict[str, list[tuple]]


def account_number(index: int) -> str:
    return f"52{index:010d}"


def cabinet_of(index: int) -> tuple[int, bool] | None:
    """(cabinet id, whether this account is the cabinet's first) or None if unlinked."""
    block, offset = divmod(index, BLOCK)
    if offset < 2 or (offset == 2 and block % 5 == 0):
        return block * BLOCK + 1, offset == 0
    if offset in (5, 8):
        return index + 1, True
    return None


def session_token(cabinet_id: int, secret: str) -> str:
    """The bearer token of the cabinet's session (its hash is what the table holds)."""
    return f"scale-{secret}-{cabinet_id}"


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, 1)


def money(kopecks: int) -> Decimal:
    return Decimal(kopecks).scaleb(-2)


def decimal_text(hundredths: int) -> str:
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def holder(rng: random.Random) -> str:
    name = rng.choice(list(NAMES))
    female = NAMES[name]
    surname = rng.choice(SURNAMES) + ("а" if female else "")
    return f"{surname} {name} {rng.choice(FATHERS)}{'на' if female else 'ич'}"


def address(rng: random.Random) -> str:
    postcode, town = rng.choice(TOWNS)
    street, house, flat = rng.choice(STREETS), rng.randint(1, 120), rng.randint(1, 200)
    return f"{postcode}, {town}, ул. {street}, д. {house}, кв. {flat}"


@dataclass
class Meter:
    id: int
    monthly: float  # kWh in an average month
    capacity: int  # the register rolls over here
    values: list[int]  # per zone, advanced month by month


@dataclass
class Generator:
    """Rows of every table, account by account, as of `moment`."""

    months: int
    moment: dt.datetime
    secret: str  # makes the session tokens of this run
    seed: int = 7
    periods: list[dt.date] = field(init=False)

    def __post_init__(self) -> None:
        first = add_months(self.moment.date().replace(day=1), -self.months)
        self.periods = [add_months(first, k) for k in range(self.months)]

    def account(self, index: int) -> Rows:
        rng = random.Random(index * 1_000_003 + self.seed)
        aid, at = index + 1, self.moment
        roll = rng.random()
        zones = 1 if roll < 0.45 else 2 if roll < 0.9 else 3
        roll = rng.random()
        count = 1 if roll < 0.85 else 2 if roll < 0.97 else 3
        rows: Rows = {"meter": [], "meter_reading": [], "receipt": [], "payment": []}
        meters = [self._meter(rng, rows, aid, k, zones) for k in range(count)]
        balance = self._history(rng, rows, aid, zones, meters)
        rows["account"] = [
            (
                aid,
                account_number(index),
                holder(rng),
                address(rng),
                TARIFFS[zones],
                money(balance),
                at.date(),
                at,
                at,
            )
        ]
        link = cabinet_of(index)
        if link is not None:
            self._cabinet(rows, index, *link)
        return rows

    def _meter(self, rng: random.Random, rows: Rows, aid: int, k: int, zones: int) -> Meter:
        digits = 6 if rng.random() < 0.6 else 5
        installed = dt.date(rng.randint(2008, 2022), rng.randint(1, 12), rng.randint(1, 28))
        verified = installed.replace(
            year=installed.year + 8 * ((self.moment.year - installed.year) // 8)
        )
        meter = Meter(
            aid * METERS_PER_ACCOUNT + k,
            rng.randint(60, 450) if k == 0 else rng.randint(10, 120),
            10**digits,
            [rng.randint(0, 10 ** (digits - 1)) for _ in range(zones)],
        )
        rows["meter"].append(
            (
                meter.id,
                aid,
                f"{aid:09d}{k}",
                rng.choice(MODELS),
                zones,
                digits,
                installed,
                verified,
                verified.replace(year=verified.year + 8),
            )
        )
        return meter

    def _history(
        self, rng: random.Random, rows: Rows, aid: int, zones: int, meters: list[Meter]
    ) -> int:
        """Readings, receipts and payments month by month; the balance in kopecks."""
        channel = rng.choice(CHANNELS)
        opening = paid = 0  # kopecks
        for m, period in enumerate(self.periods):
            lines, charged = self._readings(rng, rows, m, period, zones, meters)
            due = opening + charged - paid
            issued = add_months(period, 1)
            rows["receipt"].append(
                (
                    aid * MONTH_SLOTS + m,
                    aid,
                    period,
                    issued,
                    issued.replace(day=10),
                    money(opening),
                    money(charged),
                    money(paid),
                    money(due),
                    f"[{', '.join(lines)}]",
                    self.moment,
                )
            )
            opening, paid = due, 0
            paid_at = dt.datetime(
                issued.year, issued.month, rng.randint(1, 25), rng.randint(7, 21), tzinfo=dt.UTC
            )
            if due > 0 and rng.random() < 0.92 and paid_at < self.moment:
                paid = due if rng.random() < 0.5 else -(-due // 10000) * 10000
                external_id = f"{aid:09d}-{m:02d}"
                rows["payment"].append(
                    (
                        aid * MONTH_SLOTS + m,
                        aid,
                        money(paid),
                        paid_at,
                        channel,
                        external_id,
                        paid_at,
                    )
                )
        return opening - paid

    def _readings(
        self,
        rng: random.Random,
        rows: Rows,
        m: int,
        period: dt.date,
        zones: int,
        meters: list[Meter],
    ) -> tuple[list[str], int]:
        """The month's reading of every meter; the receipt's lines (JSON) and charge."""
        taken = period.replace(day=rng.randint(18, 26))
        source = "customer" if rng.random() < 0.7 else "billing"
        rates, shares = RATES[zones], ZONE_SHARES[zones]
        lines, charged = [], 0
        for meter in meters:
            use = meter.monthly * SEASON[period.month - 1] * (0.8 + 0.4 * rng.random())
            previous = list(meter.values)
            for z in range(zones):
                meter.values[z] = (previous[z] + int(use * shares[z]) + 1) % meter.capacity
                kwh = (meter.values[z] - previous[z]) % meter.capacity
                amount = kwh * rates[z]
                charged += amount
                lines.append(
                    f'{{"zone": {z + 1}, "previous": "{previous[z]}.000", '
                    f'"current": "{meter.values[z]}.000", "consumption": "{kwh}.000", '
                    f'"rate": "{decimal_text(rates[z])}", "amount": "{decimal_text(amount)}"}}'
                )
            t = meter.values
            rows["meter_reading"].append(
                (
                    meter.id * MONTH_SLOTS + m,
                    meter.id,
                    taken,
                    t[0],
                    t[1] if zones > 1 else None,
                    t[2] if zones > 2 else None,
                    source,
                    "accepted",
                    self.moment,
                )
            )
        return lines, charged

    def _cabinet(self, rows: Rows, index: int, cid: int, first: bool) -> None:
        """The link; with the cabinet's first account, the cabinet and its history."""
        aid, at, number = index + 1, self.moment, account_number(index)
        rows["cabinet_account"] = [(aid, cid, aid, at)]
        # Registration proved ownership: its attempt counter stays, given back.
        rows["rate_counter"] = [(aid * 2 + 1, f"proof:account:{number}", 0, at, None)]
        if not first:
            return
        email = f"c{cid}@scale.example"
        token_hash = hashlib.sha256(session_token(cid, self.secret).encode()).hexdigest()
        expires = at + dt.timedelta(days=90)
        rows["rate_counter"].append((cid * 2, f"login:email:{email}", 0, at, None))
        rows["cabinet"] = [(cid, email, at, "x", "ru", "customer", "", at, at)]
        rows["session"] = [(cid, cid, token_hash, at, at, expires, None, IP, AGENT)]
        rows["proof_attempt"] = [(cid, "register", number, "success", cid, IP, AGENT, at)]
        rows["security_event"] = [
            (cid * 2, cid, "registered", IP, AGENT, "", at),
            (cid * 2 + 1, cid, "login", IP, AGENT, "", at),
        ]


def pg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@dataclass
class Loaded:
    seconds: dict[str, float] = field(default_factory=dict)  # per step
    rows: dict[str, int] = field(default_factory=dict)  # per table


async def load(url: str, generator: Generator, accounts: int, chunk: int = 500) -> Loaded:
    """COPY the first `accounts` accounts into a migrated, empty database, one connection
    per table: PostgreSQL stores a chunk while this process generates the next. The
    foreign keys among these tables are dropped for the load and added back after,
    which checks every row; then the id sequences move past the rows, and ANALYZE."""
    import asyncpg

    loaded, started = Loaded(rows=dict.fromkeys(COLUMNS, 0)), time.perf_counter()

    def step(name: str) -> None:
        nonlocal started
        loaded.seconds[name] = time.perf_counter() - started
        started = time.perf_counter()

    tables = list(COLUMNS)
    admin = await asyncpg.connect(pg_url(url))
    try:
        foreign_keys = await admin.fetch(
            "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY($1)",
            tables,
        )
        for fk in foreign_keys:
            await admin.execute(f'ALTER TABLE "{fk["tbl"]}" DROP CONSTRAINT "{fk["conname"]}"')
        await _copy_all(url, generator, accounts, chunk, loaded.rows)
        step("generate+copy")
        for fk in foreign_keys:
            await admin.execute(
                f'ALTER TABLE "{fk["tbl"]}" ADD CONSTRAINT "{fk["conname"]}" {fk["def"]}'
            )
        for table in tables:
            await admin.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)'
            )
        step("constraints")
        await admin.execute("ANALYZE")
        step("analyze")
    finally:
        await admin.close()
    return loaded


async def _copy_all(
    url: str, generator: Generator, accounts: int, chunk: int, counts: dict[str, int]
) -> None:
    import asyncpg

    queues: dict[str, asyncio.Queue] = {t: asyncio.Queue(maxsize=4) for t in COLUMNS}

    async def records(table: str) -> AsyncIterator[tuple]:
        while (batch := await queues[table].get()) is not None:
            for row in batch:
                yield row

    async def copy(table: str) -> None:
        conn = await asyncpg.connect(pg_url(url))
        try:
            await conn.execute("SET synchronous_commit = off")
            await conn.copy_records_to_table(table, records=records(table), columns=COLUMNS[table])
        finally:
            await conn.close()

    copies = [asyncio.create_task(copy(t)) for t in COLUMNS]
    try:
        for start in range(0, accounts, chunk):
            batches: Rows = {t: [] for t in COLUMNS}
            for index in range(start, min(start + chunk, accounts)):
                for table, rows in generator.account(index).items():
                    batches[table].extend(rows)
            for table, batch in batches.items():
                counts[table] += len(batch)
                await _put(queues[table], batch, copies)
        for queue in queues.values():
            await _put(queue, None, copies)
        await asyncio.gather(*copies)
    finally:
        for task in copies:
            task.cancel()


async def _put(queue: asyncio.Queue, item: object, copies: list[asyncio.Task]) -> None:
    """Queue a batch, or raise the error of a COPY that failed (its queue stays full)."""
    putting = asyncio.ensure_future(queue.put(item))
    await asyncio.wait([putting, *copies], return_when=asyncio.FIRST_COMPLETED)
    for task in copies:
        if task.done() and task.exception() is not None:
            putting.cancel()
            raise task.exception()  # type: ignore[misc]
    await putting
