"""Several server processes run the personal-data job at once: each erasure and each
export is done exactly once (PostgreSQL, where rounds truly overlap)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from models.cabinets import Cabinet
from models.mail import OutboxMessage
from models.privacy_requests import CabinetDeletion, DataExport, DataExportContent
from services.core.clock import clock as rules_clock
from services.privacy import jobs
from tests.conftest import BACKEND
from tests.privacy.support import DELETE, EXPORT
from tests.support import (
    ACCOUNT_1,
    ACCOUNT_2,
    ACCOUNT_3,
    AMOUNT_1,
    AMOUNT_2,
    AMOUNT_3,
    PASSWORD,
    Api,
)

pytestmark = [
    pytest.mark.usefixtures("demo_data"),
    pytest.mark.skipif(BACKEND != "postgres", reason="overlapping rounds need PostgreSQL"),
]
CUSTOMERS = [
    (ACCOUNT_1, AMOUNT_1, "one@mail.ru"),
    (ACCOUNT_2, AMOUNT_2, "two@mail.ru"),
    (ACCOUNT_3, AMOUNT_3, "three@mail.ru"),
]


async def test_two_processes_erase_each_cabinet_once(api: Api) -> None:
    for account, amount, email in CUSTOMERS:
        user = await api.signed_up(account, amount, email)
        assert (await user.data(DELETE, {"p": PASSWORD}))["deleteCabinet"]["userErrors"] == []
    rules_clock.advance(dt.timedelta(days=15))

    rounds = await asyncio.gather(jobs.run_once("one"), jobs.run_once("two"))
    assert sum(rounds) == 3
    assert await CabinetDeletion.filter(state="erased").count() == 3
    assert await Cabinet.filter(email__in=[c[2] for c in CUSTOMERS]).count() == 0
    notices = await OutboxMessage.filter(template="cabinet_erased").values_list(
        "recipient", flat=True
    )
    assert sorted(notices) == sorted(c[2] for c in CUSTOMERS)


async def test_two_processes_build_each_export_once(api: Api) -> None:
    for account, amount, email in CUSTOMERS:
        user = await api.signed_up(account, amount, email)
        assert (await user.data(EXPORT))["requestDataExport"]["userErrors"] == []

    rounds = await asyncio.gather(jobs.run_once("one"), jobs.run_once("two"))
    assert sum(rounds) == 3
    assert await DataExport.filter(state="sent").count() == 3
    assert await DataExportContent.all().count() == 3
    mails = await OutboxMessage.filter(template="data_export_ready").values_list(
        "recipient", flat=True
    )
    assert sorted(mails) == sorted(c[2] for c in CUSTOMERS)
