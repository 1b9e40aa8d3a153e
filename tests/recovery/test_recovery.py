"""Recovery without e-mail, end to end over HTTP with a real SMTP server, and every attack
on it that SECURITY.md names."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from models.accounts import Account
from models.auth import ProofAttempt, SecurityEvent
from models.billing import Payment
from models.cabinets import Cabinet
from services.core.clock import clock
from tests.mail_fixtures import deliver_all, links_in
from tests.support import (
    ACCOUNT_1,
    ACCOUNT_2,
    ACCOUNT_5,
    AMOUNT_1,
    AMOUNT_2,
    AMOUNT_5,
    PASSWORD,
    SILENT_ACCOUNT,
    Api,
    codes,
)

pytestmark = pytest.mark.usefixtures("demo_data")

START = """mutation($n: String!, $a: String!) {
  startRecoveryWithoutEmail(input: {accountNumber: $n, paymentAmount: $a}) {
    recoveryToken expiresAt maskedEmail minimalPayment
    userErrors { field message code retryAfter } } }"""
CONFIRM = """mutation($t: String!, $e: String!) {
  confirmNewEmail(input: {recoveryToken: $t, newEmail: $e}) { sentTo userErrors { code message } } }"""
SET = """mutation($t: String!, $p: String!) {
  setPassword(input: {token: $t, password: $p}) { user { email emailVerified } userErrors { code } } }"""
ME = "{ me { email } }"
NEW_PASSWORD = "recovered-Maple-83-bridge"


async def start(api: Api, number: str = ACCOUNT_1, amount: str = AMOUNT_1, **headers: str):
    return (await api.data(START, {"n": number, "a": amount}, **headers))[
        "startRecoveryWithoutEmail"
    ]


async def confirm(api: Api, token: str, email: str):
    return (await api.data(CONFIRM, {"t": token, "e": email}))["confirmNewEmail"]


async def set_password(api: Api, token: str, password: str = NEW_PASSWORD):
    return (await api.data(SET, {"t": token, "p": password}))["setPassword"]


def link_token(message) -> str:
    [url] = [u for u in links_in(message) if urlsplit(u).path == "/set-password"]
    assert url.startswith("https://lk.example.ru/set-password?token=")
    return parse_qs(urlsplit(url).query)["token"][0]


def text(message) -> str:
    return message.get_body(("plain",)).get_content()


async def test_the_whole_flow(api: Api, smtp, smtp_settings) -> None:
    # given a cabinet logged in on two devices, whose owner lost the mailbox
    phone = await api.signed_up()
    laptop = api.as_user((await api.login("ivanova@mail.ru"))["token"])
    await deliver_all(smtp_settings)
    smtp.messages.clear()

    # step 1: the account number and the amount of a payment of the last year
    started = await start(api, "0012 3456 7890", "1 500,00")
    assert started["userErrors"] == []
    assert started["maskedEmail"] == "i***@mail.ru"
    expires = dt.datetime.fromisoformat(started["expiresAt"])
    assert dt.timedelta(minutes=14) < expires - clock.now() <= dt.timedelta(minutes=15)

    # step 2: a new address; the link goes there, the old address is told at once
    confirmed = await confirm(api, started["recoveryToken"], "Maria@Yandex.ru")
    assert confirmed == {"sentTo": "maria@yandex.ru", "userErrors": []}
    await deliver_all(smtp_settings)
    [to_new] = [m for m in smtp.messages if "maria@yandex.ru" in m["To"]]
    [to_old] = [m for m in smtp.messages if "ivanova@mail.ru" in m["To"]]
    assert "m***@yandex.ru" in text(to_old)
    assert "8 800 100-00-00" in text(to_old)
    assert (await phone.data(ME))["me"]["email"] == "ivanova@mail.ru"  # nothing changed yet

    # step 3: the password, set from the link
    done = await set_password(api, link_token(to_new))
    assert done == {"user": {"email": "maria@yandex.ru", "emailVerified": True}, "userErrors": []}
    cabinet = await Cabinet.get(email="maria@yandex.ru")
    assert cabinet.email_verified_at is not None

    # every old session is over, the old password dead, the new login works
    assert await phone.session_ended() == "REVOKED"
    assert await laptop.session_ended() == "REVOKED"
    assert await api.session_ended() == "REVOKED"  # the cookie too: refused, then deleted
    assert codes(await api.login("ivanova@mail.ru", PASSWORD)) == ["INVALID_CREDENTIALS"]
    assert codes(await api.login("maria@yandex.ru", PASSWORD)) == ["INVALID_CREDENTIALS"]
    assert (await api.login("maria@yandex.ru", NEW_PASSWORD))["userErrors"] == []

    # both addresses are told
    await deliver_all(smtp_settings)
    old_notice = [m for m in smtp.messages if "ivanova@mail.ru" in m["To"]][-1]
    assert "больше не используется" in text(old_notice)
    new_notice = [m for m in smtp.messages if "maria@yandex.ru" in m["To"]][-1]
    assert new_notice is not to_new and "восстановлен" in new_notice["Subject"]
    kinds = [
        e.kind
        for e in await SecurityEvent.filter(cabinet=cabinet, kind__startswith="recovery").order_by(
            "id"
        )
    ]
    assert kinds == ["recovery_started", "recovery_email_requested", "recovery_completed"]


async def test_english_texts(api: Api, smtp, smtp_settings) -> None:
    await api.signed_up()
    wrong = await start(api, ACCOUNT_1, "1", accept_language="en-US,en;q=0.8,ru;q=0.5")
    assert wrong["userErrors"][0]["message"].startswith("The account number and payment amount")


async def test_codes_of_the_first_step(api: Api) -> None:
    await api.signed_up()
    unknown = await api.raw(START, {"n": "009999999999", "a": AMOUNT_1})
    wrong = await api.raw(START, {"n": ACCOUNT_1, "a": "1499.99"})
    assert unknown.json() == wrong.json()
    assert codes(wrong.json()["data"]["startRecoveryWithoutEmail"]) == ["INVALID_PROOF"]

    silent = await start(api, SILENT_ACCOUNT, "700")
    assert codes(silent) == ["NO_RECENT_PAYMENTS"]
    assert silent["minimalPayment"] == "10.00"
    assert "минимальный платёж 10.00" in silent["userErrors"][0]["message"]
    assert silent["recoveryToken"] is None

    no_cabinet = await start(api, ACCOUNT_2, AMOUNT_2)
    assert codes(no_cabinet) == ["NO_CABINET"]
    assert "Зарегистрируйте" in no_cabinet["userErrors"][0]["message"]
    assert codes(await start(api, "12a", "x")) == ["INVALID_ACCOUNT_NUMBER", "INVALID_AMOUNT"]


@pytest.mark.parametrize("typed", ["1500", "1500,00", "1 500.00", "1 500,0", "1500.0 ₽"])
async def test_amounts_as_typed(api: Api, typed: str) -> None:
    await api.signed_up()
    assert (await start(api, ACCOUNT_1, typed))["userErrors"] == []


async def test_the_payment_window_edge(api: Api, settings) -> None:
    await api.signed_up()
    account = await Account.get(number=ACCOUNT_1)
    now = clock.now()
    for days, amount in ((364, "111.11"), (366, "222.22")):
        await Payment.create(
            account=account,
            amount=Decimal(amount),
            paid_at=now - dt.timedelta(days=days),
            channel="Касса",
            external_id=f"EDGE-{days}",
        )
    assert (await start(api, ACCOUNT_1, "111.11"))["userErrors"] == []
    assert codes(await start(api, ACCOUNT_1, "222.22")) == ["INVALID_PROOF"]
    from tests.conftest import with_settings

    with_settings(settings, proof_payment_window_days=400)
    assert (await start(api, ACCOUNT_1, "222.22"))["userErrors"] == []


async def test_limits_hold_for_aliases_batches_and_parallel_requests(api: Api) -> None:
    user = await api.signed_up()
    fields = "\n".join(
        f'a{i}: startRecoveryWithoutEmail(input: {{accountNumber: "{ACCOUNT_1}", '
        f'paymentAmount: "{i + 1}"}}) {{ userErrors {{ code }} }}'
        for i in range(20)
    )
    data = await api.data(f"mutation {{ {fields} }}")
    results = [data[f"a{i}"]["userErrors"][0]["code"] for i in range(20)]
    assert results.count("INVALID_PROOF") == 5 and results.count("TOO_MANY_ATTEMPTS") == 15
    right = await start(api)
    assert codes(right) == ["TOO_MANY_ATTEMPTS"]
    assert right["userErrors"][0]["retryAfter"]
    assert right["recoveryToken"] is None
    assert (await api.login("ivanova@mail.ru"))["userErrors"] == []  # login is untouched
    assert (await user.data(ME))["me"]["email"] == "ivanova@mail.ru"

    parallel = await asyncio.gather(*(start(api, ACCOUNT_5, f"{i}.01") for i in range(30)))
    outcomes = [codes(r)[0] for r in parallel]
    assert outcomes.count("INVALID_PROOF") == 5, outcomes


async def test_attempts_are_audited(api: Api) -> None:
    await api.signed_up()
    await start(api, ACCOUNT_1, "1", user_agent="TestAgent/1.0")
    await start(api, ACCOUNT_1, AMOUNT_1, user_agent="TestAgent/1.0")
    rows = await ProofAttempt.filter(purpose="recovery").order_by("id")
    assert [(r.account_number, r.outcome) for r in rows] == [
        (ACCOUNT_1, "invalid_proof"),
        (ACCOUNT_1, "success"),
    ]
    assert all(r.ip == "203.0.113.7" and r.user_agent == "TestAgent/1.0" for r in rows)
    assert rows[1].cabinet_id is not None


async def test_recovery_token_expires_and_is_bound(api: Api, smtp, smtp_settings) -> None:
    await api.signed_up()
    started = await start(api)
    clock.advance(dt.timedelta(minutes=15, seconds=1))
    assert codes(await confirm(api, started["recoveryToken"], "new@mail.ru")) == ["EXPIRED_TOKEN"]
    assert codes(await confirm(api, "forged." + started["recoveryToken"], "new@mail.ru")) == [
        "INVALID_TOKEN"
    ]
    fresh = await start(api)
    assert codes(await confirm(api, fresh["recoveryToken"], "not-an-address")) == ["INVALID_EMAIL"]
    await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    # an address that has a cabinet gets the answer a free one gets (tests/auth/test_mail_abuse.py)
    assert await confirm(api, fresh["recoveryToken"], "PETROV@mail.ru") == {
        "sentTo": "petrov@mail.ru",
        "userErrors": [],
    }
    # a recovery token is not a link token, nor a reset token
    assert codes(await set_password(api, fresh["recoveryToken"])) == ["INVALID_TOKEN"]


async def test_a_second_address_voids_the_first_link(api: Api, smtp, smtp_settings) -> None:
    await api.signed_up()
    started = await start(api)
    await confirm(api, started["recoveryToken"], "first@mail.ru")
    await confirm(api, started["recoveryToken"], "second@mail.ru")
    await deliver_all(smtp_settings)
    [first] = [m for m in smtp.messages if "first@mail.ru" in m["To"]]
    [second] = [m for m in smtp.messages if "second@mail.ru" in m["To"]]
    assert codes(await set_password(api, link_token(first))) == ["INVALID_TOKEN"]
    done = await set_password(api, link_token(second))
    assert done["user"]["email"] == "second@mail.ru"
    assert await api.session_ended() == "REVOKED"  # the cookie too: refused, then deleted
    assert codes(await set_password(api, link_token(second))) == ["INVALID_TOKEN"]  # used


async def test_a_link_for_one_cabinet_never_serves_another(api: Api, smtp, smtp_settings) -> None:
    await api.signed_up()
    await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    started = await start(api)  # Ivanova's cabinet
    await confirm(api, started["recoveryToken"], "new@mail.ru")
    await deliver_all(smtp_settings)
    [message] = [m for m in smtp.messages if "new@mail.ru" in m["To"]]
    await set_password(api, link_token(message))
    assert (await Cabinet.get(email="petrov@mail.ru")).email == "petrov@mail.ru"
    assert (await api.login("petrov@mail.ru"))["userErrors"] == []


ACCOUNTS = "{ me { email accounts { number } } }"
UNLINK = "mutation($id: ID!) { unlinkAccount(input: {accountId: $id}) { userErrors { code } } }"


async def _link_to(api: Api, smtp, smtp_settings, number: str, amount: str, email: str) -> str:
    """A recovery proven with `number`, up to the link mailed to `email`."""
    started = await start(api, number, amount)
    assert started["userErrors"] == []
    await confirm(api, started["recoveryToken"], email)
    await deliver_all(smtp_settings)
    [message] = [m for m in smtp.messages if email in m["To"]]
    return link_token(message)


async def test_a_recovery_moves_only_the_account_it_proved(api: Api, smtp, smtp_settings) -> None:
    """Attack: anyone who can prove one account of a cabinet (say, by paying into it) used
    to get the cabinet with every other account in it. Now the recovered cabinet keeps the
    proven account only; the others are unlinked, free to be linked again with their own
    proofs."""
    owner = await api.signed_up()  # ACCOUNT_1
    assert (await owner.link(ACCOUNT_2, AMOUNT_2))["userErrors"] == []
    token = await _link_to(api, smtp, smtp_settings, ACCOUNT_2, AMOUNT_2, "taker@mail.ru")
    assert (await set_password(api, token))["userErrors"] == []
    assert await api.session_ended() == "REVOKED"  # the owner's cookie: refused, then deleted

    taker = api.as_user((await api.login("taker@mail.ru", NEW_PASSWORD))["token"])
    held = (await taker.data(ACCOUNTS))["me"]
    assert [a["number"] for a in held["accounts"]] == [ACCOUNT_2]
    cabinet = await Cabinet.get(email="taker@mail.ru")
    unlinked = await SecurityEvent.filter(cabinet=cabinet, kind="account_unlinked")
    assert [e.detail for e in unlinked] == [ACCOUNT_1]
    # The account left behind can be registered again by whoever proves it.
    assert (await api.register(ACCOUNT_1, AMOUNT_1, "back@mail.ru"))["userErrors"] == []


async def test_a_proof_that_no_longer_holds_completes_nothing(
    api: Api, smtp, smtp_settings
) -> None:
    """Attack: the recovery was proven with an account the owner unlinks before the link is
    used (say, warned by the notice). Completing it used to move the cabinet anyway."""
    owner = await api.signed_up()
    linked = await owner.link(ACCOUNT_2, AMOUNT_2)
    token = await _link_to(api, smtp, smtp_settings, ACCOUNT_2, AMOUNT_2, "taker@mail.ru")
    gone = await owner.data(UNLINK, {"id": linked["account"]["id"]})
    assert gone["unlinkAccount"]["userErrors"] == []

    refused = await set_password(api, token)
    assert refused == {"user": None, "userErrors": [{"code": "PROOF_NO_LONGER_HOLDS"}]}
    assert (await owner.data(ACCOUNTS))["me"] == {
        "email": "ivanova@mail.ru",
        "accounts": [{"number": ACCOUNT_1}],
    }
    assert codes(await api.login("taker@mail.ru", NEW_PASSWORD)) == ["INVALID_CREDENTIALS"]


async def test_link_expiry_and_the_address_taken_meanwhile(api: Api, smtp, smtp_settings) -> None:
    await api.signed_up()
    started = await start(api)
    await confirm(api, started["recoveryToken"], "petrov@mail.ru")
    await deliver_all(smtp_settings)
    [message] = [m for m in smtp.messages if "petrov@mail.ru" in m["To"]]
    await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")  # someone takes it meanwhile
    assert codes(await set_password(api, link_token(message))) == ["EMAIL_TAKEN"]
    assert (await Cabinet.get(email="ivanova@mail.ru")) is not None

    again = await start(api)
    await confirm(api, again["recoveryToken"], "later@mail.ru")
    await deliver_all(smtp_settings)
    [late] = [m for m in smtp.messages if "later@mail.ru" in m["To"]]
    clock.advance(dt.timedelta(hours=1, seconds=1))
    assert codes(await set_password(api, link_token(late))) == ["EXPIRED_TOKEN"]


async def test_links_die_when_the_password_changes_by_another_route(
    api: Api, smtp, smtp_settings
) -> None:
    user = await api.signed_up()
    started = await start(api)
    await confirm(api, started["recoveryToken"], "new@mail.ru")
    await deliver_all(smtp_settings)
    [message] = [m for m in smtp.messages if "new@mail.ru" in m["To"]]
    change = "mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) { userErrors { code } } }"
    await user.data(change, {"c": PASSWORD, "n": "owner-still-Here-7"})
    assert codes(await set_password(api, link_token(message))) == ["INVALID_TOKEN"]
    assert codes(await confirm(api, started["recoveryToken"], "other@mail.ru")) == ["INVALID_TOKEN"]


async def test_weak_password_keeps_the_link_usable(api: Api, smtp, smtp_settings) -> None:
    await api.signed_up()
    started = await start(api)
    await confirm(api, started["recoveryToken"], "maria@yandex.ru")
    await deliver_all(smtp_settings)
    [message] = [m for m in smtp.messages if "maria@yandex.ru" in m["To"]]
    assert codes(await set_password(api, link_token(message), "maria2026")) == ["WEAK_PASSWORD"]
    assert codes(await set_password(api, link_token(message), "qwertyuiop")) == ["WEAK_PASSWORD"]
    assert (await set_password(api, link_token(message)))["userErrors"] == []


async def test_the_host_header_cannot_move_the_link(api: Api, smtp, smtp_settings) -> None:
    await api.signed_up()
    started = await start(api)
    await api.data(
        CONFIRM,
        {"t": started["recoveryToken"], "e": "maria@yandex.ru"},
        host="evil.example.com",
        x_forwarded_host="evil.example.com",
        forwarded="host=evil.example.com",
    )
    await deliver_all(smtp_settings)
    for message in smtp.messages:
        for url in links_in(message):
            assert url.startswith("https://lk.example.ru/"), url


async def test_a_different_client_address_is_not_the_callers_to_choose(api: Api) -> None:
    """X-Forwarded-For from an untrusted peer is ignored: limits stay on the real peer."""
    await api.signed_up()
    for i in range(1, 6):
        await start(api, ACCOUNT_1, f"{i}", x_forwarded_for=f"198.51.100.{i}")
    rows = await ProofAttempt.filter(purpose="recovery")
    assert {r.ip for r in rows} == {"203.0.113.7"}
    assert codes(await start(api, x_forwarded_for="198.51.100.99")) == ["TOO_MANY_ATTEMPTS"]


async def test_a_payment_made_now_counts_the_same(api: Api) -> None:
    """The customer told to make a minimal payment comes back once it arrived."""
    await api.signed_up(ACCOUNT_5, AMOUNT_5, "volkova@mail.ru")
    await Payment.filter(account__number=ACCOUNT_5).delete()
    assert codes(await start(api, ACCOUNT_5, "10")) == ["NO_RECENT_PAYMENTS"]
    await Payment.create(
        account=await Account.get(number=ACCOUNT_5),
        amount=Decimal("10.00"),
        paid_at=clock.now(),
        channel="Сбербанк Онлайн",
        external_id="MIN-1",
    )
    assert (await start(api, ACCOUNT_5, "10"))["maskedEmail"] == "v***@mail.ru"


async def test_support_reads_the_recovery_log(api: Api, db, smtp, smtp_settings, tmp_path) -> None:
    from tests.ops.test_cli import kabinet

    await api.signed_up()
    await start(api, ACCOUNT_1, "1", user_agent="Agent/2")
    started = await start(api, ACCOUNT_1, AMOUNT_1, user_agent="Agent/2")
    await confirm(api, started["recoveryToken"], "maria@yandex.ru")
    result = kabinet("recovery", "log", "0012 3456 7890", url=db.url, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "proof for register" in lines[0] and "success" in lines[0]
    assert "proof for recovery" in lines[1] and "invalid_proof" in lines[1]
    assert "203.0.113.7" in lines[1] and "Agent/2" in lines[1]
    assert "proof for recovery" in lines[2] and "success" in lines[2]
    assert "link sent to maria@yandex.ru" in lines[3] and "waiting" in lines[3]
    bad = kabinet("recovery", "log", "abc", url=db.url, tmp_path=tmp_path)
    assert bad.returncode == 2 and "not an account number" in bad.stderr


async def test_confirming_is_limited_per_recovery(api: Api, smtp, smtp_settings) -> None:
    await api.signed_up()
    started = await start(api)
    for i in range(5):
        assert (await confirm(api, started["recoveryToken"], f"n{i}@mail.ru"))["userErrors"] == []
    limited = await confirm(api, started["recoveryToken"], "n9@mail.ru")
    assert codes(limited) == ["TOO_MANY_ATTEMPTS"]
