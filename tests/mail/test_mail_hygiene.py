"""Addresses the mailer cannot send to are refused where they are typed, and delivered
mail does not keep its live links in the database (issue 17, item 10). Real HTTP, a real
SMTP server, both databases."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from models.mail import MailState, OutboxMessage
from services.ops import demo
from tests.mail_fixtures import deliver_all, links_in
from tests.support import ACCOUNT_1, ACCOUNT_6, AMOUNT_1, AMOUNT_6, RESET, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

CHANGE_EMAIL = "mutation($p: String!, $e: String!) { changeEmail(input: {password: $p, newEmail: $e}) { sentTo userErrors { code field } } }"
SUBSCRIBE = """mutation($id: ID!, $email: String) {
  subscribeEReceipt(input: {accountId: $id, email: $email}) { userErrors { code field } } }"""
START = """mutation($n: String!, $a: String!) {
  startRecoveryWithoutEmail(input: {accountNumber: $n, paymentAmount: $a}) {
    recoveryToken userErrors { code } } }"""
CONFIRM = """mutation($t: String!, $e: String!) {
  confirmNewEmail(input: {recoveryToken: $t, newEmail: $e}) { sentTo userErrors { code } } }"""

CYRILLIC = "иван@mail.ru"  # a mailbox name beyond ASCII: the mailer would refuse it


async def test_a_non_ascii_mailbox_name_is_invalid_email_wherever_an_address_is_typed(
    api: Api,
) -> None:
    registered = await api.register(ACCOUNT_6, AMOUNT_6, CYRILLIC)
    assert codes(registered) == ["INVALID_EMAIL"]  # not a masked "Unexpected error"
    reset = (await api.data(RESET, {"e": "José@mail.ru"}))["requestPasswordReset"]
    assert codes(reset) == ["INVALID_EMAIL"]

    await demo.seed_cabinets()
    user = api.as_user((await api.login("ivanova@example.com", demo.DEMO_PASSWORD))["token"])
    changed = await user.data(CHANGE_EMAIL, {"p": demo.DEMO_PASSWORD, "e": CYRILLIC})
    assert changed["changeEmail"]["userErrors"] == [
        {"code": "INVALID_EMAIL", "field": ["newEmail"]}
    ]
    accounts = (await user.data("{ me { accounts { id } } }"))["me"]["accounts"]
    subscribed = await user.data(SUBSCRIBE, {"id": accounts[0]["id"], "email": CYRILLIC})
    assert codes(subscribed["subscribeEReceipt"]) == ["INVALID_EMAIL"]

    started = (await api.data(START, {"n": ACCOUNT_1, "a": AMOUNT_1}))["startRecoveryWithoutEmail"]
    assert started["userErrors"] == []
    confirmed = await api.data(CONFIRM, {"t": started["recoveryToken"], "e": CYRILLIC})
    assert codes(confirmed["confirmNewEmail"]) == ["INVALID_EMAIL"]


async def test_a_domain_the_mailer_would_spell_otherwise_is_invalid_email(api: Api) -> None:
    # IDNA 2008 (the address) says xn--strae-oqa.de, IDNA 2003 (the mailer) strasse.de:
    # another domain, whose owner would get this cabinet's links.
    for address in ("maria@straße.de", "maria@ςx.gr"):
        reset = (await api.data(RESET, {"e": address}))["requestPasswordReset"]
        assert codes(reset) == ["INVALID_EMAIL"], address


async def test_an_international_domain_is_still_welcome(api: Api, smtp, smtp_settings) -> None:
    registered = await api.register("001234567890", "1500", "ivan@почта.рф")
    assert registered["userErrors"] == []
    await deliver_all(smtp_settings)
    [message] = smtp.messages
    assert message["To"] == "ivan@xn--80a1acny.xn--p1ai"


async def test_delivered_mail_keeps_its_headers_but_not_its_links(
    api: Api, smtp, smtp_settings
) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    await api.data(RESET, {"e": "ivanova@mail.ru"})
    [waiting, _] = await OutboxMessage.all().order_by("id")
    queued = message_from_bytes(waiting.content, policy=policy.default)
    assert [u for u in links_in(queued) if "token=" in u]  # queued: the whole message

    await deliver_all(smtp_settings)
    assert len(smtp.messages) == 2 and all(links_in(m) for m in smtp.messages)
    rows = await OutboxMessage.all().order_by("id")
    for row, received in zip(rows, smtp.messages, strict=True):
        assert row.state == MailState.SENT
        assert row.content == b""  # the body, and the live link in it, is gone
        # what was sent to whom and when stays, for audit
        assert (row.recipient, row.message_id) == ("ivanova@mail.ru", received["Message-ID"])
        assert row.subject == received["Subject"]
        assert row.created_at is not None and row.sent_at is not None


async def test_undelivered_mail_keeps_its_body_for_the_next_attempt(
    api: Api, smtp, smtp_settings
) -> None:
    await api.data(RESET, {"e": "someone@mail.ru"})
    smtp.answer("550 5.1.1 No such user", times=1)
    await deliver_all(smtp_settings)
    [row] = await OutboxMessage.all()
    assert row.state == MailState.FAILED
    assert row.content != b""  # `kabinet mail retry` sends the very same bytes
