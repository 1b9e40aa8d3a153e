"""Two server processes on one PostgreSQL, each with a VAR_DIR of its own as on two
hosts, share nothing else: the proof-attempt limit holds across them, each outbox
message goes out once, and a photo one receives the other serves."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKEND
from tests.mail_fixtures import SmtpSink
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready
from tests.questions.support import photo
from tests.support import ACCOUNT_1, AMOUNT_1, LOGIN, PASSWORD, PRIVACY_NOTICE, REGISTER, RESET

pytestmark = [
    pytest.mark.usefixtures("demo_data"),
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="several server processes share PostgreSQL; a SQLite deployment is one process",
    ),
]

START = """mutation($a: String!) { startRecoveryWithoutEmail(
  input: {accountNumber: "%s", paymentAmount: $a}) { recoveryToken userErrors { code } } }"""


async def test_limits_and_mail_across_two_processes(db, smtp: SmtpSink, tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    hosts = [tmp_path / "host-a", tmp_path / "host-b"]
    for host in hosts:
        host.mkdir()
    servers = [
        start_kabinet(
            "serve",
            "--port",
            str(port),
            url=db.url,
            tmp_path=host,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp.port),
            SMTP_TLS="none",
            MAIL_POLL_SECONDS="0.1",
            LOG_LEVEL="warning",
        )
        for port, host in zip(ports, hosts, strict=True)
    ]
    try:
        for port, server in zip(ports, servers, strict=True):
            await wait_until_ready(port, server)
        clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30) for p in ports]
        try:
            registered = await clients[0].post(
                "/graphql",
                json={
                    "query": REGISTER,
                    "variables": {
                        "input": {
                            "accountNumber": ACCOUNT_1,
                            "paymentAmount": AMOUNT_1,
                            "email": "ivanova@mail.ru",
                            "password": PASSWORD,
                            "acceptPrivacyNotice": PRIVACY_NOTICE,
                        }
                    },
                },
            )
            assert registered.json()["data"]["register"]["userErrors"] == []

            async def guess(i: int) -> str:
                response = await clients[i % 2].post(
                    "/graphql",
                    json={"query": START % ACCOUNT_1, "variables": {"a": f"{i + 1}.01"}},
                )
                return response.json()["data"]["startRecoveryWithoutEmail"]["userErrors"][0]["code"]

            outcomes = await asyncio.gather(*(guess(i) for i in range(30)))
            assert outcomes.count("INVALID_PROOF") == 5, outcomes
            assert outcomes.count("TOO_MANY_ATTEMPTS") == 25
            for client in clients:  # even the right amount, on either process
                right = await client.post(
                    "/graphql", json={"query": START % ACCOUNT_1, "variables": {"a": AMOUNT_1}}
                )
                codes = right.json()["data"]["startRecoveryWithoutEmail"]["userErrors"]
                assert [c["code"] for c in codes] == ["TOO_MANY_ATTEMPTS"]

            # Mail enqueued through either process is delivered once by the two workers.
            for i in range(4):
                await clients[i % 2].post(
                    "/graphql", json={"query": RESET, "variables": {"e": "ivanova@mail.ru"}}
                )
            await smtp.wait_for(5, within=60)  # the verification mail and four reset mails
            await asyncio.sleep(1)  # give a duplicate, if there were one, time to arrive
            assert len(smtp.messages) == 5
            assert all(len(copies) == 1 for copies in smtp.by_message_id().values())

            # A photo uploaded to one process is served by the other.
            login = await clients[0].post(
                "/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"input": {"email": "ivanova@mail.ru", "password": PASSWORD}},
                },
            )
            bearer = {"Authorization": f"Bearer {login.json()['data']['login']['token']}"}
            picture = photo("PNG", (40, 30))
            uploaded = await clients[0].post("/attachments", content=picture, headers=bearer)
            assert uploaded.status_code == 201, uploaded.text
            served = await clients[1].get(f"/attachments/{uploaded.json()['id']}", headers=bearer)
            assert (served.status_code, served.content) == (200, picture)
        finally:
            for client in clients:
                await client.aclose()
    finally:
        for server in servers:
            _code, err = stop_kabinet(server)
            assert "Traceback" not in err, err
