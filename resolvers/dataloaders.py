"""DataLoaders, created per request (in the request's Context): every list and relation
of the dashboard is loaded for all the viewer's accounts at once, so the number of SQL
queries does not grow with the number of accounts. The queries themselves are the
domains' read models (services/<domain>/read_model.py); this module only batches and
caches them for one request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property, partial
from typing import Any

from strawberry.dataloader import DataLoader

from config import Settings
from models import sql
from services.accounts import read_model as accounts
from services.auth import read_model as auth
from services.core.clock import now
from services.core.paging import ListSpec, PageArgs, load_counts, load_pages, rows_by_id
from services.core.timeutil import company_tz
from services.ereceipts import read_model as ereceipts
from services.payments import autopay
from services.payments import read_model as payments
from services.payments.read_model import PAYMENTS
from services.questions import read_model as questions
from services.readings import read_model as readings
from services.receipts import consumption
from services.receipts import read_model as receipts


class Loader(DataLoader):
    """A DataLoader whose batches ask their queries `sql.together()`: loaders dispatch
    in the same turn of the event loop, so on SQLite their queries go to the database
    in one trip instead of one after another."""

    def __init__(self, load_fn: Callable[[Any], Awaitable[Any]], **options: Any) -> None:
        super().__init__(load_fn=partial(_together, load_fn), **options)


async def _together(load_fn: Callable[[Any], Awaitable[Any]], keys: Any) -> Any:
    with sql.together():
        return await load_fn(keys)


def _list_loaders(spec: ListSpec) -> tuple[DataLoader, DataLoader]:
    """A list's loaders: totals by count key, and pages by (owner, PageArgs), whose query
    primes the totals of first pages (services/core/paging.py `load_pages`). The page
    loader holds the count loader, never the other way: no reference cycle."""
    counts: DataLoader = Loader(load_fn=partial(load_counts, spec))
    pages: DataLoader = Loader(load_fn=partial(_pages, spec, counts))
    return counts, pages


async def _pages(
    spec: ListSpec, counts: DataLoader, keys: Sequence[tuple[int, PageArgs]]
) -> list[list[dict]]:
    return await load_pages(spec, keys, counts.prime)


class QuestionLoaders:
    """Per-request loaders of what hangs off questions (made on first use by `Loaders`)."""

    def __init__(self) -> None:
        self.message_counts, self.messages = _list_loaders(questions.MESSAGES)
        self.unread = Loader(load_fn=questions.unread_of_questions)
        self.attachments = Loader(load_fn=questions.attachments_of_messages)
        self.account = Loader(load_fn=accounts.accounts_by_id)
        self.cabinet = Loader(load_fn=questions.cabinets_by_id)


class NodeLoaders:
    """Per-request loaders of single objects by id, for `node(id:)` and `nodes(ids:)`
    (made on first use by `Loaders`). They load whoever's the object is; resolvers/nodes.py
    checks that the viewer may see it."""

    def __init__(self) -> None:
        self.staff_reach = Loader(load_fn=accounts.accounts_staff_reach)
        self.reading = Loader(load_fn=lambda keys: rows_by_id(readings.READINGS, keys))
        self.payment = Loader(load_fn=lambda keys: rows_by_id(PAYMENTS, keys))
        self.receipt = Loader(load_fn=lambda keys: rows_by_id(receipts.RECEIPTS, keys))
        self.question = Loader(load_fn=questions.questions_by_id)
        self.asked = Loader(load_fn=questions.cabinets_that_asked)
        self.message = Loader(load_fn=lambda keys: rows_by_id(questions.MESSAGES, keys))
        self.attachment = Loader(load_fn=questions.sent_attachments_by_id)
        self.security_event = Loader(load_fn=auth.security_events_by_id)
        self.online_payment = Loader(load_fn=payments.online_payments_by_id)


class Loaders:
    """The request's loaders. Keys of list loaders are (account id, PageArgs)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.accounts_of_cabinet = Loader(load_fn=accounts.accounts_of_cabinets)
        self.meters_of_account = Loader(load_fn=accounts.meters_of_accounts)
        self.meter = Loader(load_fn=accounts.meters_by_id)
        self.last_reading_of_meter = Loader(load_fn=readings.last_reading_of_meters)
        self.payment_counts, self.payments = _list_loaders(PAYMENTS)
        self.reading_counts, self.readings = _list_loaders(readings.READINGS)
        self.receipt_counts, self.receipts = _list_loaders(receipts.RECEIPTS)
        self.ereceipt_of_account = Loader(load_fn=ereceipts.ereceipts_of_accounts)
        self.autopay_of_account = Loader(load_fn=autopay.autopays_of_accounts)
        # Not a bound method: the loaders would be in a reference cycle, and with them
        # every row the request loaded would wait for the garbage collector.
        self.consumption = Loader(load_fn=partial(_consumption, settings.timezone))

    @cached_property
    def questions(self) -> QuestionLoaders:
        """Loaders of questions' messages, photos and people, made on first use."""
        return QuestionLoaders()

    @cached_property
    def nodes(self) -> NodeLoaders:
        """Loaders of objects by id (`node`, `nodes`), made on first use."""
        return NodeLoaders()


async def _consumption(
    timezone: str, keys: Sequence[tuple[int, int]]
) -> list[list[consumption.MonthConsumption]]:
    """Keys are (account id, months); "this month" is the company's, not the server's."""
    today = now().astimezone(company_tz(timezone)).date()
    return await receipts.consumption_of_accounts(keys, today)
