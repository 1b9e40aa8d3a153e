"""Two server processes on one PostgreSQL, both running autopay's charger against the tests'
YooKassa API: each due bill is charged exactly once, and its mail goes out once."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from models.mail import OutboxMessage
from models.payments import AutopayCharge, ChargeState, OnlinePayment, PaymentStatus
from services.core.clock import clock
from tests.conftest import BACKEND
from tests.mail_fixtures import SmtpSink
from tests.payments.test_autopay import enable, new_bill
from tests.payments.test_payments import account_id
from tests.payments.test_yookassa import Shop
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready
from tests.support import ACCOUNT_1, ACCOUNT_2, ACCOUNT_3, AMOUNT_2, AMOUNT_3, Api
from tests.yookassa_api import SECRET_KEY, SHOP_ID

pytestmark = [
    pytest.mark.usefixtures("demo_data"),
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="several server processes share PostgreSQL; a SQLite deployment is one process",
    ),
]


async def turn_on(shop: Shop, user: Api, number: str) -> None:
    """Autopay of the user's account on, its first payment paid on YooKassa's page."""
    before = set(shop.api.payments)
    account = await account_id(user, number)
    assert (await enable(user, "100000", account=account))["userErrors"] == []
    [external_id] = set(shop.api.payments) - before
    shop.api.succeed(external_id)
    assert (await shop.notify(external_id, "payment.succeeded")).status_code == 200


async def test_two_processes_charge_each_bill_exactly_once(
    shop: Shop, api: Api, db, smtp: SmtpSink, tmp_path: Path
) -> None:
    await turn_on(shop, shop.user, ACCOUNT_1)
    for number, amount, email in (
        (ACCOUNT_2, AMOUNT_2, "petrov@mail.ru"),
        (ACCOUNT_3, AMOUNT_3, "sidorov@mail.ru"),
    ):
        user = shop.user.as_user((await api.signed_up(number, amount, email)).token)
        await turn_on(shop, user, number)
    # The bills came two days ago: due since yesterday for the servers' real clock.
    clock.freeze(dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    summary = await new_bill()
    clock.reset()
    charges = summary.autopay_queued
    assert charges >= 2  # every account that owes something, each its own bill
    owing = await AutopayCharge.all().count()
    assert owing == charges

    ports = [free_port(), free_port()]
    servers = []
    for port, host in zip(ports, ("host-a", "host-b"), strict=True):
        (tmp_path / host).mkdir()
        servers.append(
            start_kabinet(
                "serve",
                "--port",
                str(port),
                url=db.url,
                tmp_path=tmp_path / host,
                PAYMENT_PROVIDER="yookassa",
                YOOKASSA_SHOP_ID=SHOP_ID,
                YOOKASSA_SECRET_KEY=SECRET_KEY,
                YOOKASSA_API_URL=shop.api.url,
                AUTOPAY_POLL_SECONDS="0.05",
                PAYMENT_SWEEP_SECONDS="0.05",
                SMTP_HOST="127.0.0.1",
                SMTP_PORT=str(smtp.port),
                SMTP_TLS="none",
                MAIL_POLL_SECONDS="0.1",
                LOG_LEVEL="warning",
            )
        )
    try:
        for port, server in zip(ports, servers, strict=True):
            await wait_until_ready(port, server)
        for _ in range(600):
            left = await AutopayCharge.filter(
                state__in=[ChargeState.PENDING, ChargeState.SENDING]
            ).count()
            if not left:
                break
            await asyncio.sleep(0.1)
        assert left == 0
        await smtp.wait_for(await OutboxMessage.all().count(), within=60)
        await asyncio.sleep(1)  # give a second charge or mail, if there were one, time to come
    finally:
        errors = [stop_kabinet(server)[1] for server in servers]
    for err in errors:
        assert "Traceback" not in err, err

    made = shop.api.charges()
    assert len(made) == charges
    assert len({body["metadata"]["payment_id"] for body in made}) == charges
    done = await AutopayCharge.all()
    assert {row.state for row in done} == {ChargeState.DONE}
    assert {row.outcome for row in done} == {"paid"}
    paid = await OnlinePayment.filter(idempotency_key__startswith="autopay-")
    assert len(paid) == charges and {p.status for p in paid} == {PaymentStatus.SUCCEEDED}
    mails = [m for m in smtp.messages if "Автоплатёж" in str(m["Subject"])]
    assert len(mails) == charges
    assert all(len(copies) == 1 for copies in smtp.by_message_id().values())
