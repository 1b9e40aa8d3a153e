"""registerPushDevice, unregisterPushDevice and me.devices over HTTP; a device is bound to
the session that registered it, and every path that ends sessions removes its devices."""

from __future__ import annotations

import pytest

from models.push import PushDevice
from tests.mail_fixtures import deliver_all, links_in
from tests.recovery.test_recovery import confirm, link_token, set_password, start
from tests.staff.test_staff_cli import kabinet
from tests.support import PASSWORD, RESET, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

REGISTER = """mutation($input: RegisterPushDeviceInput!) {
  registerPushDevice(input: $input) {
    device { id platform tokenEnding appVersion locale createdAt lastSeenAt }
    userErrors { field message code } } }"""
UNREGISTER = """mutation($input: UnregisterPushDeviceInput!) {
  unregisterPushDevice(input: $input) { removed userErrors { field code } } }"""
DEVICES = "{ me { devices { id platform tokenEnding appVersion locale } } }"
SET = "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) { userErrors { code } } }"
CHANGE_PASSWORD = "mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) { userErrors { code } } }"
NEW_PASSWORD = "another-Brass-57-kettle"

FCM_TOKEN = "fcm-token-of-a-pixel:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"
APNS_TOKEN = "a1" * 32


async def register(
    user: Api, token: str = FCM_TOKEN, platform: str = "ANDROID", **more: str
) -> dict:
    variables = {"input": {"platform": platform, "token": token, **more}}
    return (await user.data(REGISTER, variables))["registerPushDevice"]


async def devices(user: Api) -> list[dict]:
    return (await user.data(DEVICES))["me"]["devices"]


async def second_login(api: Api, email: str = "ivanova@mail.ru", password: str = PASSWORD) -> Api:
    done = await api.login(email, password)
    assert done["userErrors"] == [], done
    return api.as_user(done["token"])


async def test_register_list_and_unregister(api: Api) -> None:
    phone = await api.signed_up()
    done = await register(phone, appVersion="3.2.1", locale="en-GB")
    assert done["userErrors"] == []
    device = done["device"]
    assert device["platform"] == "ANDROID" and device["tokenEnding"] == FCM_TOKEN[-6:]
    assert device["appVersion"] == "3.2.1" and device["locale"] == "en"
    assert FCM_TOKEN not in str(await phone("{ me { devices { id tokenEnding } } }"))
    assert await devices(phone) == [
        {k: device[k] for k in ("id", "platform", "tokenEnding", "appVersion", "locale")}
    ]

    # the same token again: the same device, refreshed
    again = (await register(phone, locale="ru"))["device"]
    assert again["id"] == device["id"] and again["locale"] == "ru"
    assert again["lastSeenAt"] >= device["lastSeenAt"]
    assert await PushDevice.all().count() == 1

    # a rotated token of the same session replaces the old one
    rotated = (await register(phone, token=FCM_TOKEN + "x2"))["device"]
    assert [d["id"] for d in await devices(phone)] == [rotated["id"]]

    # by token, then by id
    gone = await phone.data(UNREGISTER, {"input": {"token": FCM_TOKEN + "x2"}})
    assert gone["unregisterPushDevice"] == {"removed": True, "userErrors": []}
    assert await devices(phone) == []
    ios = (await register(phone, token=APNS_TOKEN.upper(), platform="IOS"))["device"]
    assert ios["tokenEnding"] == APNS_TOKEN[-6:]  # stored as APNs writes it: lower case
    by_id = await phone.data(UNREGISTER, {"input": {"id": ios["id"]}})
    assert by_id["unregisterPushDevice"]["removed"] is True
    missing = (await phone.data(UNREGISTER, {"input": {"id": ios["id"]}}))["unregisterPushDevice"]
    assert missing == {"removed": False, "userErrors": [{"field": ["id"], "code": "NOT_FOUND"}]}


@pytest.mark.parametrize(
    ("platform", "token", "more", "code", "field"),
    [
        ("ANDROID", "", {}, "INVALID_PUSH_TOKEN", "token"),
        ("ANDROID", "short", {}, "INVALID_PUSH_TOKEN", "token"),
        ("ANDROID", "x" * 4097, {}, "INVALID_PUSH_TOKEN", "token"),
        ("WEB", FCM_TOKEN + " with spaces", {}, "INVALID_PUSH_TOKEN", "token"),
        ("IOS", FCM_TOKEN, {}, "INVALID_PUSH_TOKEN", "token"),
        ("IOS", "abc", {}, "INVALID_PUSH_TOKEN", "token"),
        ("ANDROID", FCM_TOKEN, {"appVersion": "1" * 33}, "INVALID_APP_VERSION", "appVersion"),
        ("ANDROID", FCM_TOKEN, {"appVersion": "1.0\n"}, "INVALID_APP_VERSION", "appVersion"),
        ("ANDROID", FCM_TOKEN, {"locale": "русский"}, "INVALID_LOCALE", "locale"),
        ("ANDROID", FCM_TOKEN, {"locale": "e"}, "INVALID_LOCALE", "locale"),
    ],
)
async def test_bad_input_is_a_user_error(
    api: Api, platform: str, token: str, more: dict, code: str, field: str
) -> None:
    phone = await api.signed_up()
    done = await register(phone, token=token, platform=platform, **more)
    assert done["device"] is None
    [error] = done["userErrors"]
    assert (error["code"], error["field"]) == (code, [field]) and error["message"]
    assert await PushDevice.all().count() == 0


async def test_anonymous_callers_are_refused(api: Api) -> None:
    body = await api(REGISTER, {"input": {"platform": "ANDROID", "token": FCM_TOKEN}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await PushDevice.all().count() == 0


async def test_cabinets_see_and_remove_only_their_own(api: Api) -> None:
    ivanova = await api.signed_up()
    petrov = await api.signed_up("001234567891", "2750.00", "petrov@mail.ru")
    mine = (await register(ivanova))["device"]
    theirs = (await register(petrov, token=APNS_TOKEN, platform="IOS"))["device"]
    assert [d["id"] for d in await devices(ivanova)] == [mine["id"]]
    assert [d["id"] for d in await devices(petrov)] == [theirs["id"]]
    for attempt in ({"id": theirs["id"]}, {"token": APNS_TOKEN}):
        refused = (await ivanova.data(UNREGISTER, {"input": attempt}))["unregisterPushDevice"]
        assert codes(refused) == ["NOT_FOUND"]
    assert await PushDevice.all().count() == 2

    # The phone changes hands: the same token registered by another cabinet's session
    # moves there (and replaces that session's earlier token: one device per session).
    moved = (await register(petrov))["device"]
    assert moved["id"] == mine["id"]
    assert await devices(ivanova) == []
    assert [d["id"] for d in await devices(petrov)] == [mine["id"]]


async def test_logout_removes_the_sessions_device_only(api: Api) -> None:
    phone = await api.signed_up()
    tablet = await second_login(api)
    await register(phone)
    kept = (await register(tablet, token=APNS_TOKEN, platform="IOS"))["device"]
    assert len(await devices(tablet)) == 2
    await phone.data("mutation { logout { endedSessions } }")
    assert [d["id"] for d in await devices(tablet)] == [kept["id"]]
    assert await PushDevice.all().count() == 1


async def test_logout_everywhere_removes_every_device(api: Api) -> None:
    phone = await api.signed_up()
    tablet = await second_login(api)
    await register(phone)
    await register(tablet, token=APNS_TOKEN, platform="IOS")
    await tablet.data("mutation { logoutEverywhere { endedSessions } }")
    assert await PushDevice.all().count() == 0


async def test_logout_other_devices_and_revoke_session(api: Api) -> None:
    phone = await api.signed_up()
    tablet = await second_login(api)
    laptop = await second_login(api)
    mine = (await register(phone))["device"]
    await register(tablet, token=APNS_TOKEN, platform="IOS")
    await register(laptop, token=FCM_TOKEN + "web", platform="WEB")

    sessions = (await phone.data("{ me { sessions { id current } } }"))["me"]["sessions"]
    [other, *_] = [s["id"] for s in sessions if not s["current"]]
    revoke = "mutation($id: ID!) { revokeSession(input: {id: $id}) { endedSessions } }"
    await phone.data(revoke, {"id": other})
    assert await PushDevice.all().count() == 2

    await phone.data("mutation { logoutOtherDevices { endedSessions } }")
    assert [d["id"] for d in await devices(phone)] == [mine["id"]]
    assert await PushDevice.all().count() == 1


async def test_changing_the_password_keeps_only_this_sessions_device(api: Api) -> None:
    phone = await api.signed_up()
    tablet = await second_login(api)
    mine = (await register(phone))["device"]
    await register(tablet, token=APNS_TOKEN, platform="IOS")
    changed = await phone.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD})
    assert changed["changePassword"]["userErrors"] == []
    assert [d["id"] for d in await devices(phone)] == [mine["id"]]
    assert await PushDevice.all().count() == 1


async def test_a_password_reset_removes_every_device(api: Api, smtp, smtp_settings) -> None:
    phone = await api.signed_up()
    await register(phone)
    await api.data(RESET, {"e": "ivanova@mail.ru"})
    await deliver_all(smtp_settings)
    [message] = [m for m in smtp.messages if "/set-password" in " ".join(links_in(m))]
    done = await api.data(SET, {"t": link_token(message), "p": NEW_PASSWORD})
    assert done["setPassword"]["userErrors"] == []
    assert await PushDevice.all().count() == 0


async def test_a_recovery_removes_every_device(api: Api, smtp, smtp_settings) -> None:
    phone = await api.signed_up()
    await register(phone)
    await deliver_all(smtp_settings)
    smtp.messages.clear()
    started = await start(api)
    assert started["userErrors"] == []
    assert (await confirm(api, started["recoveryToken"], "maria@yandex.ru"))["userErrors"] == []
    await deliver_all(smtp_settings)
    [to_new] = [m for m in smtp.messages if "maria@yandex.ru" in m["To"]]
    assert (await set_password(api, link_token(to_new)))["userErrors"] == []
    assert await PushDevice.all().count() == 0


async def test_removing_a_specialist_removes_their_devices(api: Api, settings) -> None:
    from tests.questions.support import specialist

    olga = await specialist(api)
    await register(olga)
    removed = kabinet("staff", "remove", "olga@energosbyt.example", settings=settings)
    assert removed.returncode == 0, removed.stderr
    assert await PushDevice.all().count() == 0


async def test_a_cabinet_keeps_its_newest_devices(api: Api) -> None:
    from services.notifications.devices import MAX_DEVICES_PER_CABINET

    first = await api.signed_up()
    oldest = (await register(first, FCM_TOKEN + "-0"))["device"]
    for n in range(1, MAX_DEVICES_PER_CABINET + 1):
        assert (await register(await second_login(api), f"{FCM_TOKEN}-{n}"))["userErrors"] == []
    listed = [d["tokenEnding"] for d in await devices(first)]
    assert len(listed) == MAX_DEVICES_PER_CABINET
    assert oldest["tokenEnding"] not in listed and await PushDevice.all().count() == 20
