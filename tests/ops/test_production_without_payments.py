"""A production deployment that takes no payments online (PAYMENT_PROVIDER=none), as an
operator runs it: `kabinet serve` as its own process, `kabinet check`, and the error of a
production configuration that names no acquirer at all."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.ops.test_cli import kabinet
from tests.ops.test_operations import problems, production
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready

OFF = {"PAYMENT_PROVIDER": "none", "PAYMENT_WEBHOOK_SECRET": ""}


def warnings(output: str) -> list[str]:
    return re.findall(r"^warning: (.*)$", output, flags=re.M)


async def test_production_with_none_serves(db, tmp_path: Path) -> None:
    port = free_port()
    server = start_kabinet(
        "serve", "--port", str(port), url=db.url, tmp_path=tmp_path, **production(**OFF)
    )
    try:
        await wait_until_ready(port, server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            answer = await http.post("/graphql", json={"query": "{ paymentOptions { online } }"})
            assert answer.json() == {"data": {"paymentOptions": {"online": False}}}
            webhook = await http.post("/payments/webhook/sandbox", content=b"{}")
            assert webhook.status_code in (404, 405)  # no acquirer's route is mounted
    finally:
        _code, err = stop_kabinet(server)
        assert "Traceback" not in err, err


async def test_production_without_a_provider_names_both_choices(db, tmp_path: Path) -> None:
    result = kabinet("serve", url=db.url, tmp_path=tmp_path, **production(PAYMENT_PROVIDER=""))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "configuration error: PAYMENT_PROVIDER" in result.stderr
    assert "yookassa" in result.stderr and "PAYMENT_PROVIDER=none" in result.stderr
    assert "Traceback" not in result.stderr


async def test_check_warns_that_online_payments_are_off(db, tmp_path: Path) -> None:
    result = kabinet("check", url=db.url, tmp_path=tmp_path, **production(**OFF))
    assert any("online payments are off" in w for w in warnings(result.stdout)), result.stdout
    # A warning, not a problem: the same problems as a complete setup (SQLite's, if any).
    complete = kabinet("check", url=db.url, tmp_path=tmp_path, **production())
    assert problems(result.stdout) == problems(complete.stdout)
    assert not any("online payments" in w for w in warnings(complete.stdout))
