"""GraphQL subscriptions over WebSocket (graphql-transport-ws), driven by a real client
against real server processes: an update another process causes reaches the subscriber
(two processes on PostgreSQL through LISTEN/NOTIFY; one process on SQLite, through the
in-process broker), another cabinet cannot watch someone else's payment, and a socket
closes with its session; the protocol's refusals."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import BACKEND
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready
from tests.questions.support import ANSWER, asked, specialist
from tests.support import ACCOUNT_1, ACCOUNT_3, AMOUNT_1, AMOUNT_3, Api

pytestmark = pytest.mark.usefixtures("demo_data")

PROTOCOL = "graphql-transport-ws"
WITHIN = 30  # seconds a message may take before the test gives up (not a timed assertion)
PAY = """mutation($input: PayBillInput!) { payBill(input: $input) {
  payment { id status confirmationUrl } userErrors { code } } }"""
PAYMENT_UPDATED = """subscription($id: ID!) {
  onlinePaymentUpdated(id: $id) { id status amount } }"""
QUESTION_UPDATED = """subscription($id: ID!) {
  questionUpdated(id: $id) { id status messages(first: 5) { totalCount } } }"""
ACCOUNT_UPDATED = "subscription($id: ID!) { accountUpdated(id: $id) { id number balance } }"


class Socket:
    """A minimal graphql-transport-ws client (the protocol of enisdenjo/graphql-ws)."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.connection.recv(), WITHIN))
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.receive()

    async def subscribe(self, op_id: str, query: str, **variables: Any) -> None:
        await self.send(
            {"type": "subscribe", "id": op_id, "payload": {"query": query, "variables": variables}}
        )

    async def closed(self) -> tuple[int | None, str]:
        """Wait for the server to close the socket: (code, reason)."""
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(self.connection.recv(), WITHIN)
        received = closed.value.rcvd
        return (received.code, received.reason) if received else (None, "")


@dataclass
class Servers:
    urls: list[str]  # on PostgreSQL two processes; on SQLite the one process twice

    def http(self, i: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.urls[i], timeout=WITHIN)

    def socket(self, i: int = 0, **headers: str):
        ws = self.urls[i].replace("http://", "ws://") + "/graphql"
        return connect(ws, subprotocols=[PROTOCOL], additional_headers=headers)  # type: ignore[list-item]


@pytest_asyncio.fixture
async def servers(db, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Servers]:
    marker = request.node.get_closest_marker("server_env")
    count = 2 if BACKEND == "postgres" else 1
    ports = [free_port() for _ in range(count)]
    processes = []
    for i, port in enumerate(ports):
        host = tmp_path / f"host-{i}"
        host.mkdir()
        processes.append(
            start_kabinet(
                "serve",
                "--port",
                str(port),
                url=db.url,
                tmp_path=host,
                LOG_LEVEL="warning",
                **(marker.kwargs if marker else {}),
            )
        )
    try:
        for port, process in zip(ports, processes, strict=True):
            await wait_until_ready(port, process)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        yield Servers(urls if count == 2 else urls * 2)
    finally:
        for process in processes:
            _code, err = stop_kabinet(process)
            assert "Traceback" not in err, err


async def signed_up(http: httpx.AsyncClient, account: str, amount: str, email: str) -> Api:
    return await Api(http).signed_up(account, amount, email)


async def pay(user: Api) -> dict[str, Any]:
    accounts = (await user.data("{ me { accounts { id number } } }"))["me"]["accounts"]
    account = next(a for a in accounts if a["number"] == ACCOUNT_1)
    variables = {"input": {"accountId": account["id"], "amount": "100.00", "idempotencyKey": "k1"}}
    paid = (await user.data(PAY, variables))["payBill"]
    assert paid["userErrors"] == []
    return {**paid["payment"], "accountId": account["id"]}


async def press_pay(http: httpx.AsyncClient, confirmation_url: str) -> None:
    """The customer's browser on the sandbox's page, pressing Pay: it notifies the
    webhook of the process it is on."""
    path = urlsplit(confirmation_url).path
    page = await http.get(path)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)[1]  # type: ignore[index]
    pressed = await http.post(path, data={"csrf": csrf, "action": "pay"})
    assert pressed.status_code == 200, pressed.text


async def test_an_update_another_process_makes_reaches_the_subscriber(servers: Servers) -> None:
    async with servers.http(0) as http_a, servers.http(1) as http_b:
        user = await signed_up(http_a, ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
        payment = await pay(user)
        async with servers.socket(0) as connection:
            socket = Socket(connection)
            assert await socket.init({"authorization": f"Bearer {user.token}"}) == {
                "type": "connection_ack"
            }
            await socket.subscribe("p", PAYMENT_UPDATED, id=payment["id"])
            first = await socket.receive()
            assert first["id"] == "p" and first["type"] == "next"
            assert first["payload"]["data"]["onlinePaymentUpdated"]["status"] == "PENDING"
            await socket.subscribe("a", ACCOUNT_UPDATED, id=payment["accountId"])
            before = (await socket.receive())["payload"]["data"]["accountUpdated"]["balance"]

            await press_pay(http_b, payment["confirmationUrl"])  # on the other process

            received = {}
            while set(received) != {"p", "a"}:
                message = await socket.receive()
                assert message["type"] == "next", message
                received[message["id"]] = message["payload"]["data"]
            updated = received["p"]["onlinePaymentUpdated"]
            assert (updated["id"], updated["status"]) == (payment["id"], "SUCCEEDED")
            after = received["a"]["accountUpdated"]["balance"]
            assert float(after) == float(before) - 100

            await socket.send({"type": "complete", "id": "p"})
            await socket.send({"type": "ping"})
            assert await socket.receive() == {"type": "pong"}


async def test_another_cabinet_cannot_watch_someone_elses_payment(servers: Servers) -> None:
    async with servers.http(0) as http:
        owner = await signed_up(http, ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
        other = await signed_up(http, ACCOUNT_3, AMOUNT_3, "petrov@mail.ru")
        payment = await pay(owner)
        async with servers.socket(0) as connection:
            socket = Socket(connection)
            await socket.init({"authorization": f"Bearer {other.token}"})
            for op_id, wanted in (("theirs", payment["id"]), ("bogus", "not-an-id")):
                await socket.subscribe(op_id, PAYMENT_UPDATED, id=wanted)
                message = await socket.receive()
                assert (message["type"], message["id"]) == ("error", op_id), message
                assert [e["extensions"]["code"] for e in message["payload"]] == ["FORBIDDEN"]
                assert "data" not in json.dumps(message["payload"])
            # the owner's payment moves: nothing reaches the other cabinet's socket
            await press_pay(http, payment["confirmationUrl"])
            await socket.send({"type": "ping"})
            assert await socket.receive() == {"type": "pong"}


async def test_a_specialists_answer_reaches_the_customers_socket(
    servers: Servers, settings
) -> None:
    async with servers.http(0) as http_a, servers.http(1) as http_b:
        customer = await signed_up(http_a, ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
        question = await asked(customer)
        olga = await specialist(Api(http_b))
        async with servers.socket(0) as connection:
            socket = Socket(connection)
            await socket.init({"authorization": f"Bearer {customer.token}"})
            await socket.subscribe("q", QUESTION_UPDATED, id=question["id"])
            first = (await socket.receive())["payload"]["data"]["questionUpdated"]
            assert (first["status"], first["messages"]["totalCount"]) == ("OPEN", 1)

            answer = {"questionId": question["id"], "body": "Показания приняты 21-го."}
            answered = await olga.data(ANSWER, {"input": answer})  # on the other process
            assert answered["answerQuestion"]["userErrors"] == []

            update = await socket.receive()
            assert (update["type"], update["id"]) == ("next", "q"), update
            now = update["payload"]["data"]["questionUpdated"]
            assert (now["status"], now["messages"]["totalCount"]) == ("ANSWERED", 2)


@pytest.mark.parametrize("ending", ["logout", "logoutEverywhere"])
async def test_a_socket_closes_when_its_session_ends(servers: Servers, ending: str) -> None:
    async with servers.http(0) as http_a, servers.http(1) as http_b:
        user = await signed_up(http_a, ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
        payment = await pay(user)
        async with servers.socket(0) as connection:
            socket = Socket(connection)
            await socket.init({"authorization": f"Bearer {user.token}"})
            await socket.subscribe("p", PAYMENT_UPDATED, id=payment["id"])
            assert (await socket.receive())["type"] == "next"
            # the session ends through the other process
            ended = await Api(http_b, user.token).data(
                f"mutation {{ {ending} {{ endedSessions }} }}"
            )
            assert ended[ending]["endedSessions"] >= 1
            code, _reason = await socket.closed()
            assert code == 4401
        # and the dead token cannot open a new one
        async with servers.socket(1) as connection:
            socket = Socket(connection)
            await socket.send({"type": "connection_init", "payload": {"authorization": user.token}})
            assert (await socket.closed())[0] == 4401


@pytest.mark.server_env(
    SOCKET_INIT_SECONDS="0.5", SOCKETS_PER_SESSION="2", SUBSCRIPTIONS_PER_CONNECTION="1"
)
async def test_the_protocol_refusals(servers: Servers) -> None:
    async with servers.http(0) as http:
        user = await signed_up(http, ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
        payment = await pay(user)
    bearer = {"authorization": f"Bearer {user.token}"}
    # No subprotocol: the handshake is refused.
    ws = servers.urls[0].replace("http://", "ws://") + "/graphql"
    with pytest.raises(InvalidStatus):
        async with connect(ws):
            pass
    # No connection_init in time: 4408.
    async with servers.socket(0) as connection:
        assert (await Socket(connection).closed())[0] == 4408
    # Anonymous: 4401. A subscribe before connection_init: 4401.
    async with servers.socket(0) as connection:
        socket = Socket(connection)
        await socket.send({"type": "connection_init"})
        assert (await socket.closed())[0] == 4401
    async with servers.socket(0) as connection:
        socket = Socket(connection)
        await socket.subscribe("p", PAYMENT_UPDATED, id=payment["id"])
        assert (await socket.closed())[0] == 4401
    # The session cookie from a page of another site: 4403 (cross-site WebSocket hijacking).
    cookie = {"Cookie": f"kabinet_session={user.token}", "Origin": "https://evil.example"}
    async with servers.socket(0, **cookie) as connection:
        socket = Socket(connection)
        await socket.send({"type": "connection_init"})
        assert (await socket.closed())[0] == 4403
    # ... but from our own web client's origin (PUBLIC_WEB_URL) the cookie is the session.
    cookie["Origin"] = "https://lk.example.ru"
    async with servers.socket(0, **cookie) as first, servers.socket(0) as second:
        assert await Socket(first).init() == {"type": "connection_ack"}
        assert await Socket(second).init(bearer) == {"type": "connection_ack"}
        # a third socket of the session: 4429
        async with servers.socket(0) as third:
            socket = Socket(third)
            await socket.send({"type": "connection_init", "payload": bearer})
            assert (await socket.closed())[0] == 4429
        # one subscription per connection here: the second is refused, the socket stays
        socket = Socket(second)
        await socket.subscribe("p", PAYMENT_UPDATED, id=payment["id"])
        assert (await socket.receive())["type"] == "next"
        await socket.subscribe("q", PAYMENT_UPDATED, id=payment["id"])
        refused = await socket.receive()
        assert refused["type"] == "error" and refused["id"] == "q"
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        # a query is not run over the socket; the same id twice closes it (4409)
        await socket.subscribe("x", "{ me { email } }")
        assert (await socket.receive())["type"] == "error"
        await socket.subscribe("p", PAYMENT_UPDATED, id=payment["id"])
        assert (await socket.closed())[0] == 4409


@pytest.mark.server_env(RATE_LIMIT_PER_MINUTE="3")
async def test_handshakes_count_on_the_clients_rate_limit(servers: Servers) -> None:
    for _ in range(3):
        async with servers.socket(0) as connection:
            await connection.close()
    with pytest.raises(InvalidStatus) as refused:
        async with servers.socket(0):
            pass
    assert refused.value.response.status_code == 403
