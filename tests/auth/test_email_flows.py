"""Verification, password reset and change, e-mail change: the links, the notices, the
tokens (SECURITY.md 6-8, 12-15), with a real SMTP server."""

from __future__ import annotations

import asyncio
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from models.auth import ActionToken, TokenPurpose
from models.cabinets import Cabinet
from services.core.clock import clock
from tests.mail_fixtures import deliver_all, links_in
from tests.support import ACCOUNT_2, AMOUNT_2, PASSWORD, RESET, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

VERIFY = "mutation($t: String!) { verifyEmail(input: {token: $t}) { user { email emailVerified } userErrors { code message } } }"
SET = "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) { user { email } userErrors { code message } } }"
CHANGE_PASSWORD = "mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) { user { email } userErrors { code field } } }"
CHANGE_EMAIL = "mutation($p: String!, $e: String!) { changeEmail(input: {password: $p, newEmail: $e}) { sentTo userErrors { code field } } }"
ME = "{ me { email emailVerified } }"
NEW_PASSWORD = "another-Brass-57-kettle"


async def mail_to(smtp, settings, address: str) -> list:
    await deliver_all(settings)
    return [m for m in smtp.messages if address in m["To"]]


def token_of(message, path: str) -> str:
    [url] = [u for u in links_in(message) if urlsplit(u).path == path]
    assert url.startswith("https://lk.example.ru/")
    return parse_qs(urlsplit(url).query)["token"][0]


async def test_registration_mails_a_link_that_verifies(api: Api, smtp, smtp_settings) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    [message] = await mail_to(smtp, smtp_settings, "ivanova@mail.ru")
    assert "Подтвердите" in message["Subject"]
    token = token_of(message, "/verify-email")
    verified = (await api.data(VERIFY, {"t": token}))["verifyEmail"]
    assert verified == {
        "user": {"email": "ivanova@mail.ru", "emailVerified": True},
        "userErrors": [],
    }
    again = (await api.data(VERIFY, {"t": token}))["verifyEmail"]
    assert codes(again) == ["INVALID_TOKEN"]


async def test_english_cabinets_get_english_mail(api: Api, smtp, smtp_settings) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru", accept_language="en")
    [message] = await mail_to(smtp, smtp_settings, "ivanova@mail.ru")
    assert "Confirm" in message["Subject"]


async def test_verification_link_expires_after_an_hour(api: Api, smtp, smtp_settings) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    [message] = await mail_to(smtp, smtp_settings, "ivanova@mail.ru")
    clock.advance(dt.timedelta(minutes=61))
    result = (await api.data(VERIFY, {"t": token_of(message, "/verify-email")}))["verifyEmail"]
    assert codes(result) == ["EXPIRED_TOKEN"]
    assert "истёк" in result["userErrors"][0]["message"]


async def test_resend_voids_the_earlier_link(api: Api, smtp, smtp_settings) -> None:
    user = await api.signed_up()
    first = token_of((await mail_to(smtp, smtp_settings, "ivanova@mail.ru"))[0], "/verify-email")
    resent = await user.data("mutation { resendVerification { sentTo userErrors { code } } }")
    assert resent["resendVerification"] == {"sentTo": "ivanova@mail.ru", "userErrors": []}
    messages = await mail_to(smtp, smtp_settings, "ivanova@mail.ru")
    second = token_of(messages[-1], "/verify-email")
    assert codes((await api.data(VERIFY, {"t": first}))["verifyEmail"]) == ["INVALID_TOKEN"]
    assert (await api.data(VERIFY, {"t": second}))["verifyEmail"]["userErrors"] == []
    done = await user.data("mutation { resendVerification { sentTo userErrors { code } } }")
    assert codes(done["resendVerification"]) == ["ALREADY_VERIFIED"]


async def test_forged_and_foreign_tokens(api: Api, smtp, smtp_settings) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    token = token_of((await mail_to(smtp, smtp_settings, "ivanova@mail.ru"))[0], "/verify-email")
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert codes((await api.data(VERIFY, {"t": tampered}))["verifyEmail"]) == ["INVALID_TOKEN"]
    assert codes((await api.data(VERIFY, {"t": "garbage"}))["verifyEmail"]) == ["INVALID_TOKEN"]
    # a verification token is no reset token
    result = (await api.data(SET, {"t": token, "p": NEW_PASSWORD}))["setPassword"]
    assert codes(result) == ["INVALID_TOKEN"]


async def test_password_reset_end_to_end(api: Api, smtp, smtp_settings) -> None:
    user = await api.signed_up()
    other_device = api.as_user((await api.login("ivanova@mail.ru"))["token"])
    await deliver_all(smtp_settings)
    smtp.messages.clear()

    unknown = (await api.data(RESET, {"e": "nobody@mail.ru"}))["requestPasswordReset"]
    known = (await api.data(RESET, {"e": "Ivanova@mail.ru"}))["requestPasswordReset"]
    assert unknown == known == {"accepted": True, "userErrors": []}
    [message] = await mail_to(smtp, smtp_settings, "ivanova@mail.ru")
    [no_cabinet] = [m for m in smtp.messages if "nobody@mail.ru" in m["To"]]
    assert "ни один кабинет" in no_cabinet.get_body(("plain",)).get_content()
    assert not links_in(no_cabinet) or "/set-password" not in str(links_in(no_cabinet))
    token = token_of(message, "/set-password")

    weak = (await api.data(SET, {"t": token, "p": "qwerty123"}))["setPassword"]
    assert codes(weak) == ["WEAK_PASSWORD"]
    response = await api.raw(SET, {"t": token, "p": NEW_PASSWORD})
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.json()["data"]["setPassword"]["userErrors"] == []
    assert await api.session_ended() == "REVOKED"  # the cookie's session ended too: deleted
    assert codes((await api.data(SET, {"t": token, "p": NEW_PASSWORD}))["setPassword"]) == [
        "INVALID_TOKEN"
    ]
    # every session ended, the old password is dead, the new one works
    assert await user.session_ended() == "REVOKED"
    assert await other_device.session_ended() == "REVOKED"
    assert codes(await api.login("ivanova@mail.ru", PASSWORD)) == ["INVALID_CREDENTIALS"]
    assert (await api.login("ivanova@mail.ru", NEW_PASSWORD))["userErrors"] == []
    notices = await mail_to(smtp, smtp_settings, "ivanova@mail.ru")
    assert any("пароль" in m["Subject"].lower() and "изменён" in m["Subject"] for m in notices)
    assert (await Cabinet.get(email="ivanova@mail.ru")).email_verified_at is not None


async def test_reset_link_expires_and_a_newer_one_voids_it(api: Api, smtp, smtp_settings) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    await api.data(RESET, {"e": "ivanova@mail.ru"})
    await api.data(RESET, {"e": "ivanova@mail.ru"})
    messages = [
        m
        for m in await mail_to(smtp, smtp_settings, "ivanova@mail.ru")
        if "/set-password" in str(links_in(m))
    ]
    first, second = (token_of(m, "/set-password") for m in messages)
    assert codes((await api.data(SET, {"t": first, "p": NEW_PASSWORD}))["setPassword"]) == [
        "INVALID_TOKEN"
    ]
    clock.advance(dt.timedelta(hours=1, seconds=1))
    assert codes((await api.data(SET, {"t": second, "p": NEW_PASSWORD}))["setPassword"]) == [
        "EXPIRED_TOKEN"
    ]


async def test_reset_requests_are_throttled_per_address(api: Api, smtp, smtp_settings) -> None:
    for _ in range(5):
        assert (await api.data(RESET, {"e": "someone@mail.ru"}))["requestPasswordReset"]["accepted"]
    limited = (await api.data(RESET, {"e": "someone@mail.ru"}))["requestPasswordReset"]
    assert codes(limited) == ["TOO_MANY_ATTEMPTS"]
    assert codes((await api.data(RESET, {"e": "not an address"}))["requestPasswordReset"]) == [
        "INVALID_EMAIL"
    ]


async def test_one_link_two_clicks_at_once(api: Api, smtp, smtp_settings) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    await api.data(RESET, {"e": "ivanova@mail.ru"})
    token = token_of((await mail_to(smtp, smtp_settings, "ivanova@mail.ru"))[-1], "/set-password")
    results = await asyncio.gather(
        api.data(SET, {"t": token, "p": NEW_PASSWORD}),
        api.data(SET, {"t": token, "p": NEW_PASSWORD + "x"}),
    )
    outcomes = sorted(codes(r["setPassword"]) for r in results)
    assert outcomes == [[], ["INVALID_TOKEN"]]


async def test_change_password_keeps_this_session_only(api: Api, smtp, smtp_settings) -> None:
    user = await api.signed_up()
    other = api.as_user((await api.login("ivanova@mail.ru"))["token"])
    wrong = await user.data(CHANGE_PASSWORD, {"c": "not-it-at-all", "n": NEW_PASSWORD})
    assert codes(wrong["changePassword"]) == ["WRONG_PASSWORD"]
    assert wrong["changePassword"]["userErrors"][0]["field"] == ["currentPassword"]
    weak = await user.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": "short"})
    assert codes(weak["changePassword"]) == ["WEAK_PASSWORD"]
    done = await user.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD})
    assert done["changePassword"]["userErrors"] == []
    assert (await user.data(ME))["me"] is not None
    assert await other.session_ended() == "REVOKED"
    notices = await mail_to(smtp, smtp_settings, "ivanova@mail.ru")
    assert "изменён" in notices[-1]["Subject"]


async def test_change_email_confirms_the_new_and_tells_the_old(
    api: Api, smtp, smtp_settings
) -> None:
    user = await api.signed_up()
    await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    taken = await user.data(CHANGE_EMAIL, {"p": PASSWORD, "e": "petrov@mail.ru"})
    assert taken["changeEmail"] == {"sentTo": "petrov@mail.ru", "userErrors": []}  # as if free
    wrong = await user.data(CHANGE_EMAIL, {"p": "nope-nope-nope", "e": "new@mail.ru"})
    assert codes(wrong["changeEmail"]) == ["WRONG_PASSWORD"]
    same = await user.data(CHANGE_EMAIL, {"p": PASSWORD, "e": "IVANOVA@mail.ru"})
    assert codes(same["changeEmail"]) == ["SAME_EMAIL"]
    asked = await user.data(CHANGE_EMAIL, {"p": PASSWORD, "e": "Maria.New@Yandex.ru"})
    assert asked["changeEmail"] == {"sentTo": "maria.new@yandex.ru", "userErrors": []}

    await deliver_all(smtp_settings)
    [confirm] = [m for m in smtp.messages if "maria.new@yandex.ru" in m["To"]]
    [told] = [m for m in smtp.messages if "petrov@mail.ru" in m["To"] and "занят" in m["Subject"]]
    assert not [u for u in links_in(told) if "/verify-email" in u]
    [warning] = [
        m
        for m in smtp.messages
        if "ivanova@mail.ru" in m["To"] and "m***@yandex.ru" in m.get_body(("plain",)).get_content()
    ]
    assert "8 800 100-00-00" in warning.get_body(("plain",)).get_content()
    assert (await user.data(ME))["me"]["email"] == "ivanova@mail.ru"  # not yet

    done = (await api.data(VERIFY, {"t": token_of(confirm, "/verify-email")}))["verifyEmail"]
    assert done["user"] == {"email": "maria.new@yandex.ru", "emailVerified": True}
    assert (await user.data(ME))["me"]["email"] == "maria.new@yandex.ru"
    await deliver_all(smtp_settings)
    old_notices = [m for m in smtp.messages if "ivanova@mail.ru" in m["To"]]
    assert "больше не используется" in old_notices[-1].get_body(("plain",)).get_content()
    assert (await api.login("maria.new@yandex.ru"))["userErrors"] == []


async def test_tokens_die_when_the_password_changes_elsewhere(
    api: Api, smtp, smtp_settings
) -> None:
    user = await api.signed_up()
    await api.data(RESET, {"e": "ivanova@mail.ru"})
    reset = token_of((await mail_to(smtp, smtp_settings, "ivanova@mail.ru"))[-1], "/set-password")
    await user.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD})
    assert codes((await api.data(SET, {"t": reset, "p": "third-Password-99"}))["setPassword"]) == [
        "INVALID_TOKEN"
    ]
    live = ActionToken.filter(used_at__isnull=True, voided_at__isnull=True)
    # Only the "this wasn't me" link of the password-changed notice outlives the change.
    assert await live.values_list("purpose", flat=True) == [TokenPurpose.FREEZE]


async def test_links_ignore_the_host_header(api: Api, smtp, smtp_settings) -> None:
    await api.data(
        RESET,
        {"e": "ivanova@mail.ru"},
        host="evil.example.com",
        x_forwarded_host="evil.example.com",
    )
    await api.register("001234567890", "1500", "ivanova@mail.ru", host="evil.example.com")
    await api.data(RESET, {"e": "ivanova@mail.ru"}, x_forwarded_host="evil.example.com")
    for message in await mail_to(smtp, smtp_settings, "ivanova@mail.ru"):
        for url in links_in(message):
            assert url.startswith("https://lk.example.ru/"), url


async def test_the_remaining_codes(api: Api, smtp, smtp_settings) -> None:
    user = await api.signed_up()
    # resendVerification is limited to a handful an hour
    resend = "mutation { resendVerification { userErrors { code retryAfter } } }"
    for _ in range(5):
        assert (await user.data(resend))["resendVerification"]["userErrors"] == []
    limited = (await user.data(resend))["resendVerification"]["userErrors"][0]
    assert limited["code"] == "TOO_MANY_ATTEMPTS" and limited["retryAfter"]
    # changeEmail checks the address before anything else
    bad = await user.data(CHANGE_EMAIL, {"p": PASSWORD, "e": "not-an-address"})
    assert codes(bad["changeEmail"]) == ["INVALID_EMAIL"]
    # guessing the current password is throttled like a login
    for _ in range(6):
        await user.data(CHANGE_PASSWORD, {"c": "a-wrong-guess", "n": NEW_PASSWORD})
    throttled = await user.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD})
    assert codes(throttled["changePassword"]) == ["TOO_MANY_ATTEMPTS"]
    clock.advance(dt.timedelta(minutes=16))
    throttled = await user.data(CHANGE_EMAIL, {"p": "a-wrong-guess", "e": "x@mail.ru"})
    assert codes(throttled["changeEmail"]) == ["WRONG_PASSWORD"]


async def test_a_new_address_taken_before_the_link_is_followed(
    api: Api, smtp, smtp_settings
) -> None:
    user = await api.signed_up()
    await user.data(CHANGE_EMAIL, {"p": PASSWORD, "e": "petrov@mail.ru"})
    await deliver_all(smtp_settings)
    [confirm] = [m for m in smtp.messages if "petrov@mail.ru" in m["To"]]
    await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    taken = (await api.data(VERIFY, {"t": token_of(confirm, "/verify-email")}))["verifyEmail"]
    assert codes(taken) == ["EMAIL_TAKEN"]
    assert (await user.data(ME))["me"]["email"] == "ivanova@mail.ru"
