"""Consent to the personal-data notice (issue 22, item 4): registration records the version
the customer accepted, a new version is asked for at the next login until accepted, every
acceptance is in the security log, and /privacy serves the notice in Russian and English."""

from __future__ import annotations

import datetime as dt

import pytest

from models.auth import ProofAttempt, SecurityEvent, SecurityEventKind
from models.cabinets import Cabinet
from services.core.clock import clock
from services.ops import demo
from tests.conftest import with_settings
from tests.support import ACCOUNT_1, AMOUNT_1, PRIVACY_NOTICE, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

NOTICE = "privacyNotice { version url accepted acceptedVersion acceptedAt }"
ME = f"{{ me {{ {NOTICE} }} }}"
ACCEPT = f"""mutation($v: String!) {{ acceptPrivacyNotice(input: {{version: $v}}) {{
  {NOTICE} userErrors {{ field message code }} }} }}"""
EVENTS = "{ me { securityEvents(first: 20) { nodes { kind detail } } } }"
NEW_VERSION = "2027-03-01"


async def test_registration_needs_the_current_notice_and_records_it(api: Api, settings) -> None:
    moment = dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.UTC)
    clock.freeze(moment)
    for shown in (None, "", "2025-01-01"):
        refused = await api.register(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru", privacy_notice=shown)
        assert codes(refused) == ["PRIVACY_NOTICE_NOT_ACCEPTED"]
        [error] = refused["userErrors"]
        assert error["field"] == ["acceptPrivacyNotice"]
        assert PRIVACY_NOTICE in error["message"]
        assert "https://lk.example.ru/privacy" in error["message"]
    # refused before the proof: nothing was created and no attempt was used up
    assert not await Cabinet.exists()
    assert not await ProofAttempt.exists()
    # every problem of the form at once
    several = await api.register(ACCOUNT_1, AMOUNT_1, "not an address", privacy_notice=None)
    assert set(codes(several)) == {"INVALID_EMAIL", "PRIVACY_NOTICE_NOT_ACCEPTED"}

    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
    notice = (await user.data(ME))["me"]["privacyNotice"]
    assert notice == {
        "version": PRIVACY_NOTICE,
        "url": "https://lk.example.ru/privacy",
        "accepted": True,
        "acceptedVersion": PRIVACY_NOTICE,
        "acceptedAt": "2026-12-06T09:30:00Z",
    }
    events = (await user.data(EVENTS))["me"]["securityEvents"]["nodes"]
    assert {"kind": "PRIVACY_NOTICE_ACCEPTED", "detail": PRIVACY_NOTICE} in events


async def test_a_new_version_is_asked_for_at_the_next_login_until_accepted(
    api: Api, settings
) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock.freeze(start)
    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, "ivanova@mail.ru")
    cabinet = await Cabinet.get(email="ivanova@mail.ru")

    with_settings(settings, privacy_notice_version=NEW_VERSION)
    login = await api.data(
        'mutation { login(input: {email: "ivanova@mail.ru", password: "synthetic-Lamp-42-river"}) '
        f"{{ token user {{ {NOTICE} }} }} }}"
    )
    notice = login["login"]["user"]["privacyNotice"]
    assert notice["version"] == NEW_VERSION
    assert notice["accepted"] is False
    assert notice["acceptedVersion"] == PRIVACY_NOTICE
    user = user.as_user(login["login"]["token"])

    # the version the client showed must be the current one
    stale = (await user.data(ACCEPT, {"v": PRIVACY_NOTICE}))["acceptPrivacyNotice"]
    assert codes(stale) == ["PRIVACY_NOTICE_NOT_ACCEPTED"]
    assert stale["privacyNotice"] is None
    assert NEW_VERSION in stale["userErrors"][0]["message"]
    assert (await user.data(ME))["me"]["privacyNotice"]["accepted"] is False

    clock.freeze(start + dt.timedelta(hours=1))
    when = f"{start + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%S}Z"
    accepted = (await user.data(ACCEPT, {"v": NEW_VERSION}))["acceptPrivacyNotice"]
    assert accepted["userErrors"] == []
    assert accepted["privacyNotice"]["accepted"] is True
    assert accepted["privacyNotice"]["acceptedAt"] == when
    assert (await user.data(ME))["me"]["privacyNotice"]["accepted"] is True
    # accepting again changes nothing and logs nothing
    again = (await user.data(ACCEPT, {"v": NEW_VERSION}))["acceptPrivacyNotice"]
    assert again["privacyNotice"]["acceptedAt"] == when
    logged = await SecurityEvent.filter(
        cabinet_id=cabinet.id, kind=SecurityEventKind.PRIVACY_NOTICE_ACCEPTED
    ).values_list("detail", flat=True)
    assert sorted(logged) == [PRIVACY_NOTICE, NEW_VERSION]


async def test_anyone_may_read_the_current_version(api: Api, settings) -> None:
    with_settings(settings, privacy_notice_version=NEW_VERSION)
    data = await api.data(f"{{ {NOTICE} }}")
    assert data["privacyNotice"] == {
        "version": NEW_VERSION,
        "url": "https://lk.example.ru/privacy",
        "accepted": False,
        "acceptedVersion": None,
        "acceptedAt": None,
    }


async def test_specialists_are_not_asked(api: Api) -> None:
    email, _name = demo.DEMO_SPECIALIST
    await demo.seed_specialist()
    specialist = api.as_user((await api.login(email, demo.DEMO_PASSWORD))["token"])
    assert (await specialist.data(ME))["me"]["privacyNotice"] is None
    body = await specialist(ACCEPT, {"v": PRIVACY_NOTICE})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("query", "headers", "language", "words"),
    [
        ("", {}, "ru", "Уведомление об обработке персональных данных"),
        ("?lang=en", {}, "en", "Personal data notice"),
        ("", {"Accept-Language": "en-GB,en;q=0.9"}, "en", "Personal data notice"),
        ("?lang=ru", {"Accept-Language": "en"}, "ru", "Редакция от"),
        ("?lang=xx", {}, "ru", "Редакция от"),
    ],
)
async def test_the_notice_page(client, settings, query, headers, language, words) -> None:
    page = await client.get(f"/privacy{query}", headers=headers)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-language"] == language
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert f'<html lang="{language}">' in page.text
    assert words in page.text
    assert f'id="privacy-version">{PRIVACY_NOTICE}<' in page.text
    assert " 90 " in page.text and " 1095 " in page.text  # the deployment's own periods
