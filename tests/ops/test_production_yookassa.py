"""A production deployment that takes payments through YooKassa (PAYMENT_PROVIDER=yookassa),
as an operator runs it: `kabinet serve` as its own process - without PAYMENT_WEBHOOK_SECRET,
which YooKassa does not use - takes a payment end to end against the tests' YooKassa API
(tests/yookassa_api.py), and `kabinet check` reports the shop, `--live` with YooKassa's own
word on it (`GET /me`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.ops import demo
from services.ops.demo import DEMO_PASSWORD
from tests.ops.test_cli import kabinet
from tests.ops.test_operations import problems, production
from tests.ops.test_production_without_payments import warnings
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready
from tests.support import LOGIN
from tests.yookassa_api import SECRET_KEY, SHOP_ID, YooKassaApi, running_api


@pytest.fixture
def yookassa() -> Iterator[YooKassaApi]:
    with running_api() as api:
        yield api


def with_yookassa(**changes: str) -> dict[str, str]:
    """A complete production environment with YooKassa: a live shop, the public API, the
    published notification addresses, receipts on; no PAYMENT_WEBHOOK_SECRET."""
    shop = {
        "PAYMENT_PROVIDER": "yookassa",
        "PAYMENT_WEBHOOK_SECRET": "",
        "YOOKASSA_SHOP_ID": SHOP_ID,
        "YOOKASSA_SECRET_KEY": "live_key-of-a-real-shop",
        "YOOKASSA_TAX_SYSTEM_CODE": "2",
    }
    return production(**(shop | changes))


def notes(output: str) -> list[str]:
    return re.findall(r"^info: (.*)$", output, flags=re.M)


ACCOUNTS = "{ me { accounts { id number balance } } }"
PAY = """mutation($input: PayBillInput!) { payBill(input: $input) {
  payment { id status confirmationUrl } userErrors { code } } }"""
STATUS = "query($id: ID!) { onlinePayment(id: $id) { status amount } }"


async def test_production_with_yookassa_takes_a_payment(
    db, demo_data, yookassa: YooKassaApi, tmp_path: Path
) -> None:
    await demo.seed_cabinets()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    yookassa.notification_url = f"{url}/payments/webhook/yookassa"
    env = with_yookassa(
        YOOKASSA_SECRET_KEY=SECRET_KEY,
        YOOKASSA_API_URL=yookassa.url,
        YOOKASSA_NOTIFICATION_IPS="127.0.0.1",  # the tests' YooKassa notifies from here
        MAIL_WORKER_IN_PROCESS="false",  # no SMTP server behind SMTP_HOST
    )
    server = start_kabinet("serve", "--port", str(port), url=db.url, tmp_path=tmp_path, **env)
    try:
        await wait_until_ready(port, server)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:

            async def data(query: str, variables: dict | None = None, token: str = "") -> dict:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                answer = await http.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
                body = answer.json()
                assert answer.status_code == 200 and "errors" not in body, body
                return body["data"]

            credentials = {"email": "ivanova@example.com", "password": DEMO_PASSWORD}
            token = (await data(LOGIN, {"input": credentials}))["login"]["token"]
            [account, *_] = (await data(ACCOUNTS, token=token))["me"]["accounts"]
            pay = {"accountId": account["id"], "amount": "750,25", "idempotencyKey": "p-1"}
            started = (await data(PAY, {"input": pay | {"method": "SBP"}}, token))["payBill"]
            assert started["userErrors"] == []
            payment = started["payment"]
            [body] = yookassa.created()
            assert body["payment_method_data"] == {"type": "sbp"}
            assert body["receipt"]["customer"]["email"] == "ivanova@example.com"

            # The payer confirms in the bank's app; YooKassa notifies and sends them back
            page = await http.get(payment["confirmationUrl"])
            assert "750,25 ₽" in page.text
            back = await http.post(payment["confirmationUrl"], data={"action": "pay"})
            assert back.status_code == 303
            assert back.headers["Location"] == (
                f"https://lk.energosbyt-volga.ru/payments?payment={payment['id']}"
            )
            assert yookassa.notified == [("payment.succeeded", 200)]
            done = (await data(STATUS, {"id": payment["id"]}, token))["onlinePayment"]
            assert done == {"status": "SUCCEEDED", "amount": "750.25"}
            [after, *_] = (await data(ACCOUNTS, token=token))["me"]["accounts"]
            assert float(after["balance"]) == pytest.approx(float(account["balance"]) - 750.25)
    finally:
        _code, err = stop_kabinet(server)
        assert "Traceback" not in err, err


async def test_check_reports_the_shop(db, tmp_path: Path) -> None:
    result = kabinet("check", url=db.url, tmp_path=tmp_path, **with_yookassa())
    reported = notes(result.stdout)
    assert f"YooKassa: shop {SHOP_ID}, secret key set, API https://api.yookassa.ru/v3" in reported
    assert any(
        n.startswith("YooKassa: notifications accepted from 185.71.76.0/27") for n in reported
    )
    assert (
        "YooKassa: 54-FZ receipts on: vat_code 1 (without VAT), "
        "tax_system_code 2, simplified, income (УСН доходы)"
    ) in reported
    # A complete YooKassa setup: the same problems as any complete setup (SQLite's, if any)
    complete = kabinet("check", url=db.url, tmp_path=tmp_path, **production())
    assert problems(result.stdout) == problems(complete.stdout)
    assert not any("YOOKASSA" in w or "YooKassa" in w for w in warnings(result.stdout))
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"YOOKASSA_API_URL": "http://api.yookassa.ru/v3"}, "problem: YOOKASSA_API_URL"),
        ({"YOOKASSA_SECRET_KEY": "test_abc"}, "warning: YOOKASSA_SECRET_KEY is a test shop's"),
        ({"YOOKASSA_RECEIPTS": "false"}, "warning: YOOKASSA_RECEIPTS is false: 54-FZ"),
        ({"YOOKASSA_VAT_CODE": "4"}, "warning: YOOKASSA_VAT_CODE is 4 (VAT 20%): since 1 Jan"),
        ({"YOOKASSA_TAX_SYSTEM_CODE": "4"}, "warning: YOOKASSA_TAX_SYSTEM_CODE is 4 (ЕНВД)"),
        (
            {"YOOKASSA_NOTIFICATION_IPS": "185.71.76.0/27,10.0.0.0/8"},
            "warning: YOOKASSA_NOTIFICATION_IPS trusts 10.0.0.0/8 beyond",
        ),
        (
            {"YOOKASSA_NOTIFICATION_IPS": "185.71.76.0/27,10.0.0.0/8"},
            "warning: YOOKASSA_NOTIFICATION_IPS lacks 185.71.77.0/27,",
        ),
    ],
)
async def test_check_finds_each_yookassa_mistake(db, tmp_path: Path, change, expected) -> None:
    result = kabinet("check", url=db.url, tmp_path=tmp_path, **with_yookassa(**change))
    assert expected in result.stdout, result.stdout


async def test_check_refuses_a_configuration_load_settings_refuses(db, tmp_path: Path) -> None:
    for change, expected in [
        ({"YOOKASSA_VAT_CODE": "13"}, "YOOKASSA_VAT_CODE: expected one of YooKassa's codes"),
        ({"YOOKASSA_TAX_SYSTEM_CODE": "7"}, "YOOKASSA_TAX_SYSTEM_CODE: expected 1-6"),
        ({"YOOKASSA_SHOP_ID": ""}, "YOOKASSA_SHOP_ID, YOOKASSA_SECRET_KEY: required"),
    ]:
        result = kabinet("check", url=db.url, tmp_path=tmp_path, **with_yookassa(**change))
        assert result.returncode == 2 and expected in result.stderr, result.stderr


async def test_check_live_asks_yookassa_about_the_shop(
    db, yookassa: YooKassaApi, tmp_path: Path
) -> None:
    env = with_yookassa(YOOKASSA_SECRET_KEY=SECRET_KEY, YOOKASSA_API_URL=yookassa.url)
    # The tests' shop is a test shop with receipts on, every method
    result = kabinet("check", "--live", url=db.url, tmp_path=tmp_path, **env)
    assert yookassa.requests[-1][:2] == ("GET", "/v3/me")
    assert (
        f"YooKassa says: shop {SHOP_ID}, enabled, test, receipts on, "
        "methods bank_card, sbp, sberbank, yoo_money"
    ) in notes(result.stdout)
    assert "YooKassa says the shop is a test shop: payments take no money" in warnings(
        result.stdout
    )
    assert not [p for p in problems(result.stdout) if "YooKassa" in p or "shop" in p]

    # A disabled shop without receipts and without SBP, another shop id, receipts still on
    yookassa.shop.update(
        account_id="999", status="disabled", test=False, payment_methods=["bank_card"]
    )
    yookassa.shop["fiscalization"] = {"enabled": False, "provider": "atol"}
    result = kabinet("check", "--live", url=db.url, tmp_path=tmp_path, **env)
    found = problems(result.stdout)
    assert f"YooKassa's shop is 999, not YOOKASSA_SHOP_ID {SHOP_ID}" in found
    assert "the shop is disabled in YooKassa: it takes no payments" in found
    assert any(
        p.startswith("YOOKASSA_RECEIPTS is true, but the shop has no receipts") for p in found
    )
    assert any(w.startswith("the shop cannot take SBP, SberPay") for w in warnings(result.stdout))
    assert result.returncode == 1

    # Receipts connected in YooKassa, none sent: every payment would be refused
    yookassa.shop["fiscalization"] = {"enabled": True, "provider": "atol"}
    off = kabinet(
        "check", "--live", url=db.url, tmp_path=tmp_path, **(env | {"YOOKASSA_RECEIPTS": "false"})
    )
    assert any("set YOOKASSA_RECEIPTS=true" in p for p in problems(off.stdout)), off.stdout

    # Wrong credentials, and an API that cannot be reached
    wrong = kabinet(
        "check", "--live", url=db.url, tmp_path=tmp_path, **(env | {"YOOKASSA_SECRET_KEY": "x"})
    )
    assert any(p.startswith("YooKassa refused GET /me (HTTP 401") for p in problems(wrong.stdout))
    away = env | {
        "YOOKASSA_API_URL": f"http://127.0.0.1:{free_port()}/v3",
        "YOOKASSA_ATTEMPTS": "1",
    }
    down = kabinet("check", "--live", url=db.url, tmp_path=tmp_path, **away)
    assert any("cannot be reached" in p for p in problems(down.stdout)), down.stdout
    assert "Traceback" not in down.stderr
