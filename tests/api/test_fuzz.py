"""The fuzz stage: schemathesis (GraphQL mode) generates a few thousand operations from
the committed schema and sends them to a running kabinet as a logged-in cabinet. None may
answer 5xx, none may crash a resolver (an "Unexpected error."), none may leak an
unmasked error. (How fast they answer is the benchmarks' business, not a test's: a
timed assertion fails on a busy machine and proves nothing on a quiet one.)"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from config import ROOT
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready
from tests.support import ACCOUNT_1, AMOUNT_1, LOGIN, PASSWORD, PRIVACY_NOTICE, REGISTER

EXAMPLES = int(os.environ.get("KABINET_FUZZ_EXAMPLES", "150"))  # per root field
SCHEMA = schemathesis.graphql.from_path(ROOT / "schema.graphql")
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


class Cabinet:
    """A logged-in cabinet for the generated requests; logs in again when a generated
    mutation (logout, a password change...) ended its session."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.token = ""

    def graphql(self, query: str, variables: dict) -> dict:
        response = self.http.post(
            f"{self.base_url}/graphql", json={"query": query, "variables": variables}, timeout=10
        )
        return response.json()

    def log_in(self) -> None:
        self.http.cookies.clear()  # a dead session's cookie is refused: log in without it
        data = self.graphql(LOGIN, {"input": {"email": "ivanova@mail.ru", "password": PASSWORD}})
        token = data["data"]["login"]["token"]
        if token is None:  # a generated changePassword/setPassword took the password away
            raise RuntimeError(f"cannot log in again: {data}")
        self.token = token


def check(response, label: str) -> None:
    assert response.status_code < 500, (label, response.status_code, response.text[:500])
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/"), (label, content_type, response.text[:300])
    body = response.json()
    for error in body.get("errors", []):
        message = error.get("message", "")
        assert message != "Unexpected error.", (label, body)
        for leak in ("Traceback", 'File "', "asyncpg", "sqlite3", "tortoise"):
            assert leak not in message, (label, message)


@pytest.fixture
def server(db, demo_data, tmp_path: Path):
    port = free_port()
    process = start_kabinet(
        "serve",
        "--port",
        str(port),
        url=db.url,
        tmp_path=tmp_path,
        # every generated request comes from one address: the limits meant for one
        # client's guesses would stop the run long before it covered the schema
        RATE_LIMIT_PER_MINUTE="0",
        LOGIN_FREE_FAILURES_PER_IP="1000000",
        PROOF_ATTEMPTS_PER_IP="1000000",
        LOG_LEVEL="warning",
        MAIL_WORKER_IN_PROCESS="false",
    )
    try:
        yield port, process
    finally:
        _code, err = stop_kabinet(process)
        assert "Traceback" not in err, err


async def test_generated_operations(server) -> None:
    port, process = server
    await wait_until_ready(port, process)
    base_url = f"http://127.0.0.1:{port}"
    cabinet = Cabinet(base_url)
    registered = cabinet.graphql(
        REGISTER,
        {
            "input": {
                "accountNumber": ACCOUNT_1,
                "paymentAmount": AMOUNT_1,
                "email": "ivanova@mail.ru",
                "password": PASSWORD,
                "acceptPrivacyNotice": PRIVACY_NOTICE,
            }
        },
    )
    assert registered["data"]["register"]["userErrors"] == [], registered
    cabinet.log_in()
    await asyncio.to_thread(run_all, cabinet, base_url)


def run_all(cabinet: Cabinet, base_url: str) -> None:
    sent = [0]
    for operation in OPERATIONS:
        fuzzer(operation, cabinet, base_url, sent)()
    assert sent[0] >= len(OPERATIONS) * min(EXAMPLES, 20), sent


def fuzzer(operation, cabinet: Cabinet, base_url: str, sent: list[int]):
    """The hypothesis test for one root field: its generated operations, sent as the cabinet."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case) -> None:
        response = case.call(
            base_url=f"{base_url}/graphql",
            session=cabinet.http,
            headers={"Authorization": f"Bearer {cabinet.token}"},
        )
        sent[0] += 1
        check(response, operation.label)
        if "UNAUTHENTICATED" in response.text:
            cabinet.log_in()

    return fuzz
