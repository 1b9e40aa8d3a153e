"""Pushes through the outbox to local FCM and APNs servers (tests/push_fakes.py): what a
payment, an answer or a new login queues, exactly once per device; the wire's auth and
shape; retries with backoff after 500 and 429; dead tokens dropped; two worker processes
on PostgreSQL; development's VAR_DIR/push/ files."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from config import Settings
from models.push import PushDevice, PushMessage, PushState
from push.worker import PushWorker
from services.core.clock import clock
from services.core.ids import encode_id
from services.notifications.events import NotificationEvent
from services.notifications.push import announce
from tests.conftest import BACKEND, with_settings
from tests.payments.test_payments import STATUS, pay, press
from tests.processes import start_kabinet, stop_kabinet
from tests.push.test_devices import APNS_TOKEN, FCM_TOKEN, register, second_login
from tests.push_fakes import TOPIC, PushServices, push_services
from tests.staff.test_staff_cli import kabinet
from tests.support import ACCOUNT_1, Api

pytestmark = pytest.mark.usefixtures("demo_data")

WEB_TOKEN = "web-token-of-a-browser:APA91bE6xu0tB3sR-Jz8oXc"


@pytest.fixture
def services() -> Iterator[PushServices]:
    with push_services() as running:
        yield running


@pytest.fixture
def push_settings(settings: Settings, services: PushServices, tmp_path: Path) -> Settings:
    return with_settings(settings, **services.settings(tmp_path))


async def deliver(settings: Settings) -> int:
    """Run a worker until nothing is due; returns how many pushes it claimed."""
    worker = PushWorker(settings, clock=clock.now)
    claimed = 0
    try:
        while batch := await worker.run_once():
            claimed += batch
    finally:
        await worker.close()
    return claimed


async def three_devices(api: Api) -> tuple[Api, Api, Api]:
    """A cabinet on an Android phone (Russian), an iPhone (English) and a browser."""
    android = await api.signed_up()
    iphone = await second_login(api)
    browser = await second_login(api)
    await register(android, FCM_TOKEN, "ANDROID", locale="ru")
    await register(iphone, APNS_TOKEN, "IOS", locale="en")
    await register(browser, WEB_TOKEN, "WEB", locale="ru")
    return android, iphone, browser


async def test_a_payment_reaches_every_device_once(
    api: Api, client: httpx.AsyncClient, services: PushServices, push_settings: Settings
) -> None:
    android, _iphone, _browser = await three_devices(api)
    await deliver(push_settings)  # the logins' new-device notices
    services.delivered.clear()

    payment = (await pay(android, "1 234,56"))["payment"]
    await press(client, payment["confirmationUrl"], "pay")
    status = (await android.data(STATUS, {"id": payment["id"]}))["onlinePayment"]
    assert status["status"] == "SUCCEEDED"
    assert await PushMessage.filter(event="payment_succeeded").count() == 3

    assert await deliver(push_settings) == 3
    assert [m.last_error for m in await PushMessage.all()] == [None] * 3
    assert await deliver(push_settings) == 0
    await press(client, payment["confirmationUrl"], "pay")  # the same event again
    assert await deliver(push_settings) == 0
    by_token = {d["token"]: d for d in services.delivered}
    assert len(services.delivered) == 3 and set(by_token) == {FCM_TOKEN, APNS_TOKEN, WEB_TOKEN}

    # FCM HTTP v1, authorised by an access token from the service account's token_uri
    assert services.token_requests == 1
    android_message = by_token[FCM_TOKEN]["message"]
    assert android_message["notification"] == {
        "title": "Платёж 1 234,56 ₽ получен",
        "body": f"Лицевой счёт {ACCOUNT_1}: платёж 1 234,56 ₽ зачислен. Квитанция "
        "отправлена на вашу почту.",
    }
    assert android_message["data"]["event"] == "payment_succeeded"
    assert android_message["data"]["nodeId"] == payment["id"]
    assert android_message["android"] == {"priority": "high"}
    assert "android" not in by_token[WEB_TOKEN]["message"]

    # APNs over HTTP/2: a provider token the fake checked with the public key, the topic
    apns = by_token[APNS_TOKEN]
    assert apns["headers"]["apns-topic"] == TOPIC and apns["headers"]["apns-push-type"] == "alert"
    assert apns["payload"]["aps"]["alert"]["title"] == "Payment of 1 234,56 ₽ received"
    assert apns["payload"]["nodeId"] == payment["id"]
    assert apns["payload"]["event"] == "payment_succeeded"
    sent = await PushMessage.filter(state=PushState.SENT).count()
    assert sent == await PushMessage.all().count()


async def test_a_failed_payment_and_an_answer(
    api: Api, client: httpx.AsyncClient, services: PushServices, push_settings: Settings
) -> None:
    from tests.questions.support import answer, asked, specialist

    android = await api.signed_up()
    await register(android, FCM_TOKEN, "ANDROID")
    payment = (await pay(android, "500"))["payment"]
    await press(client, payment["confirmationUrl"], "cancel")
    await deliver(push_settings)
    [failed] = [d["message"] for d in services.delivered]
    assert failed["data"] == {
        "event": "payment_failed",
        "nodeId": payment["id"],
        "pushId": failed["data"]["pushId"],
    }
    assert failed["notification"]["title"] == "Платёж 500,00 ₽ не прошёл"

    question = await asked(android)
    olga = await specialist(api)
    await answer(olga, question["id"], "Перерасчёт сделан в марте.")
    await answer(olga, question["id"], "И ещё одно.")
    await deliver(push_settings)
    answers = [d["message"] for d in services.delivered[1:]]
    assert [m["data"]["event"] for m in answers] == ["question_answered"] * 2
    assert {m["data"]["nodeId"] for m in answers} == {question["id"]}
    assert "Перерасчёт" not in str(answers)  # the answer's words stay off the lock screen


async def test_a_login_from_an_unknown_device_is_told_to_the_others(
    api: Api, client: httpx.AsyncClient, services: PushServices, push_settings: Settings
) -> None:
    phone = await api.signed_up()
    await register(phone, APNS_TOKEN, "IOS", locale="en")
    await deliver(push_settings)
    services.delivered.clear()

    from server import create_app

    transport = httpx.ASGITransport(app=create_app(push_settings, manage_db=False))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as stranger:
        logged_in = await Api(stranger).login("ivanova@mail.ru", user_agent="Firefox/140 Linux")
    assert logged_in["userErrors"] == []
    await deliver(push_settings)
    [notice] = services.delivered
    alert = notice["payload"]["aps"]["alert"]
    assert alert["title"] == "Login from a new device"
    assert '"Firefox on Linux"' in alert["body"] and "IP " in alert["body"]
    assert notice["payload"]["event"] == "new_login"


async def test_retries_back_off_after_500_and_429(
    api: Api, services: PushServices, push_settings: Settings
) -> None:
    settings = with_settings(push_settings, push_retry_base_seconds=10.0)
    phone = await api.signed_up()
    await register(phone, FCM_TOKEN, "ANDROID")
    await deliver(settings)
    services.delivered.clear()
    cabinet_id = (await PushDevice.get()).cabinet_id

    services.plan(FCM_TOKEN, 500, 429)
    await announce(
        cabinet_id, NotificationEvent.PAYMENT_FAILED, node_id="x", amount="1", account_number="2"
    )
    assert await deliver(settings) == 1  # 500: put off by 5-10 s
    push = await PushMessage.get(event="payment_failed")
    assert (push.state, push.attempts, push.last_error) == (
        PushState.PENDING,
        1,
        "FCM 500 INTERNAL ['INTERNAL']",
    )
    assert dt.timedelta(seconds=5) <= push.due_at - clock.now() <= dt.timedelta(seconds=10)
    assert await deliver(settings) == 0  # not due yet

    clock.advance(dt.timedelta(seconds=11))
    assert await deliver(settings) == 1  # 429 with Retry-After: 30, longer than the backoff
    push = await PushMessage.get(id=push.id)
    assert push.state == PushState.PENDING and push.attempts == 2
    assert dt.timedelta(seconds=29) <= push.due_at - clock.now() <= dt.timedelta(seconds=30)
    clock.advance(dt.timedelta(seconds=20))
    assert await deliver(settings) == 0
    clock.advance(dt.timedelta(seconds=11))
    assert await deliver(settings) == 1
    push = await PushMessage.get(id=push.id)
    assert push.state == PushState.SENT and push.attempts == 3 and push.last_error is None
    assert [a[2] for a in services.answered if a[1] == FCM_TOKEN][-3:] == [500, 429, 200]
    assert len(services.delivered) == 1


@pytest.mark.parametrize(
    ("platform", "token", "answer"),
    [
        ("ANDROID", FCM_TOKEN, "unregistered"),
        ("IOS", APNS_TOKEN, "unregistered"),
        ("IOS", APNS_TOKEN, "bad_token"),
    ],
)
async def test_a_dead_token_is_dropped(
    api: Api,
    services: PushServices,
    push_settings: Settings,
    platform: str,
    token: str,
    answer: str,
) -> None:
    phone = await api.signed_up()
    await register(phone, token, platform)
    await deliver(push_settings)
    cabinet_id = (await PushDevice.get()).cabinet_id
    services.plan(token, answer)
    await announce(
        cabinet_id, NotificationEvent.PAYMENT_FAILED, node_id="x", amount="1", account_number="2"
    )
    await deliver(push_settings)
    assert (await phone.data("{ me { devices { id } } }"))["me"]["devices"] == []
    assert await PushDevice.all().count() == 0 and await PushMessage.all().count() == 0
    status = 410 if answer == "unregistered" and platform == "IOS" else 404
    assert services.answered[-1] == (
        "apns" if platform == "IOS" else "fcm",
        token,
        400 if answer == "bad_token" else status,
    )


async def test_development_writes_pushes_to_var_push(api: Api, settings: Settings) -> None:
    await three_devices(api)
    await PushMessage.all().delete()
    cabinet_id = (await PushDevice.first()).cabinet_id
    node = encode_id("OnlinePayment", 7)
    queued = await announce(
        cabinet_id,
        NotificationEvent.PAYMENT_SUCCEEDED,
        node_id=node,
        amount="10,00",
        account_number="1",
    )
    assert queued == 3
    assert await deliver(settings) == 3
    files = sorted((Path(settings.var_dir) / "push").glob("*.json"))
    documents = [json.loads(f.read_text()) for f in files]
    assert sorted(d["platform"] for d in documents) == ["ANDROID", "IOS", "WEB"]
    [ios] = [d for d in documents if d["platform"] == "IOS"]
    assert ios["apns"]["aps"]["alert"]["title"] == "Payment of 10,00 ₽ received"
    assert ios["apns"]["nodeId"] == node
    [web] = [d for d in documents if d["platform"] == "WEB"]
    assert web["fcm"]["message"]["token"] == WEB_TOKEN
    assert await PushMessage.filter(state=PushState.SENT).count() == 3

    status = kabinet("push", "status", settings=settings)
    assert status.returncode == 0, status.stderr
    lines = [line.split() for line in status.stdout.splitlines()]
    assert lines == [
        ["pending", "0"],
        ["sending", "0"],
        ["sent", "3"],
        ["failed", "0"],
        ["devices", "3"],
    ]


@pytest.mark.skipif(BACKEND != "postgres", reason="SKIP LOCKED across processes: PostgreSQL")
async def test_two_worker_processes_deliver_each_push_once(
    api: Api, services: PushServices, push_settings: Settings, tmp_path: Path
) -> None:
    await three_devices(api)
    await PushMessage.all().delete()
    cabinet_id = (await PushDevice.first()).cabinet_id
    for n in range(40):
        await announce(
            cabinet_id,
            NotificationEvent.PAYMENT_SUCCEEDED,
            node_id=encode_id("OnlinePayment", n + 1),
            amount=f"{n},00",
            account_number="1",
        )
    assert await PushMessage.all().count() == 120
    env = {key.upper(): str(value) for key, value in services.settings(tmp_path).items()}
    env.update(PUSH_BATCH_SIZE="7", MAIL_POLL_SECONDS="0.05")
    workers = [
        start_kabinet("worker", url=push_settings.database_url, tmp_path=tmp_path, **env)
        for _ in range(2)
    ]
    try:
        for _ in range(600):
            if await PushMessage.filter(state=PushState.SENT).count() == 120:
                break
            await asyncio.sleep(0.1)
    finally:
        for worker in workers:
            status, stderr = stop_kabinet(worker)
            assert status == 0, stderr
    assert await PushMessage.filter(state=PushState.SENT).count() == 120
    ids = [
        d["message"]["data"]["pushId"] if d["service"] == "fcm" else d["payload"]["pushId"]
        for d in services.delivered
    ]
    assert len(ids) == 120 and len(set(ids)) == 120


async def test_the_services_check_our_credentials(
    api: Api, services: PushServices, push_settings: Settings
) -> None:
    """A provider token signed by another key, and a service account the token endpoint
    does not know, are refused: the pushes wait and say why."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from tests.push_fakes import PushServices as Keys

    strangers = Keys(
        url=services.url,
        rsa_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec_key=ec.generate_private_key(ec.SECP256R1()),
    )
    other = Path(push_settings.var_dir).parent / "other-keys"
    other.mkdir()
    forged = with_settings(push_settings, **strangers.settings(other))
    android = await api.signed_up()
    iphone = await second_login(api)
    await register(android, FCM_TOKEN, "ANDROID")
    await register(iphone, APNS_TOKEN, "IOS")
    cabinet_id = (await PushDevice.first()).cabinet_id
    await announce(
        cabinet_id, NotificationEvent.PAYMENT_FAILED, node_id="x", amount="1", account_number="2"
    )
    assert await deliver(forged) == 2
    errors = sorted(m.last_error or "" for m in await PushMessage.all())
    assert errors[0] == "APNs 403 InvalidProviderToken"
    assert errors[1].startswith("FCM access token: ") and "invalid_grant" in errors[1]
    assert services.delivered == [] and services.token_requests == 0


async def test_a_move_to_another_address_is_told_to_the_devices(
    api: Api, smtp, smtp_settings: Settings, services: PushServices, tmp_path: Path
) -> None:
    from tests.auth.test_email_flows import CHANGE_EMAIL, VERIFY, token_of
    from tests.mail_fixtures import deliver_all
    from tests.support import PASSWORD

    settings = with_settings(smtp_settings, **services.settings(tmp_path))
    phone = await api.signed_up()
    await register(phone, FCM_TOKEN, "ANDROID")
    await deliver(settings)
    services.delivered.clear()
    asked = await phone.data(CHANGE_EMAIL, {"p": PASSWORD, "e": "maria@yandex.ru"})
    assert asked["changeEmail"]["userErrors"] == []
    await deliver_all(settings)
    [confirm] = [m for m in smtp.messages if "maria@yandex.ru" in m["To"]]
    done = await api.data(VERIFY, {"t": token_of(confirm, "/verify-email")})
    assert done["verifyEmail"]["user"]["email"] == "maria@yandex.ru"
    await deliver(settings)
    [told] = [d["message"] for d in services.delivered]
    me = (await phone.data("{ me { id } }"))["me"]
    assert told["data"]["event"] == "email_changed" and told["data"]["nodeId"] == me["id"]
    assert "m***@yandex.ru" in told["notification"]["body"]
    assert "8 800 100-00-00" in told["notification"]["body"]


async def test_unusable_key_files_make_pushes_wait(
    api: Api, services: PushServices, push_settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "not-a-service-account.json").write_text('{"type": "authorized_user"}')
    (tmp_path / "not-a-key.p8").write_text("-----BEGIN PRIVATE KEY-----\nnope\n")
    broken = with_settings(
        push_settings,
        fcm_credentials_file=str(tmp_path / "not-a-service-account.json"),
        apns_key_file=str(tmp_path / "not-a-key.p8"),
    )
    android = await api.signed_up()
    iphone = await second_login(api)
    await register(android, FCM_TOKEN, "ANDROID")
    await register(iphone, APNS_TOKEN, "IOS")
    cabinet_id = (await PushDevice.first()).cabinet_id
    await announce(
        cabinet_id, NotificationEvent.PAYMENT_FAILED, node_id="x", amount="1", account_number="2"
    )
    assert await deliver(broken) == 2
    pushes = await PushMessage.all().order_by("id")
    assert [p.state for p in pushes] == [PushState.PENDING] * 2
    errors = sorted(p.last_error or "" for p in pushes)
    assert errors[0].startswith("APNs: APNS_KEY_FILE cannot sign")
    assert errors[1].startswith("FCM_CREDENTIALS_FILE: ")
    assert services.delivered == []


async def test_a_server_process_delivers_what_its_requests_cause(
    settings: Settings, tmp_path: Path
) -> None:
    """`kabinet serve` runs the push worker beside the requests (MAIL_WORKER_IN_PROCESS):
    a login from an unknown device reaches the phone's file in VAR_DIR/push/."""
    from tests.processes import free_port, wait_until_ready

    port = free_port()
    server = start_kabinet(
        "serve",
        "--port",
        str(port),
        url=settings.database_url,
        tmp_path=tmp_path,
        MAIL_POLL_SECONDS="0.05",
        LOG_LEVEL="warning",
    )
    try:
        await wait_until_ready(port, server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            phone = await Api(http).signed_up()
            done = await register(phone, APNS_TOKEN, "IOS", locale="en")
            assert done["userErrors"] == []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            stranger = await Api(http).login("ivanova@mail.ru", user_agent="Firefox/140 Linux")
            assert stranger["userErrors"] == []
        folder = tmp_path / "var" / "push"
        for _ in range(300):
            files = sorted(folder.glob("*.json")) if folder.is_dir() else []
            if files:
                break
            await asyncio.sleep(0.1)
        [file] = files
        document = json.loads(file.read_text())
        assert document["platform"] == "IOS"
        assert document["apns"]["event"] == "new_login"
        assert document["apns"]["aps"]["alert"]["title"] == "Login from a new device"
    finally:
        _status, stderr = stop_kabinet(server)
        assert "Traceback" not in stderr, stderr
