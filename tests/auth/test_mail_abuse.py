"""Mail a caller can cause is budgeted, tells no one which addresses have cabinets, and
never holds up a security notice (SECURITY.md 4, 22; issue 17, item 2). Real HTTP, a
real SMTP server, both databases."""

from __future__ import annotations

import re

import pytest

from mail import send
from mail.worker import MailWorker
from models.mail import MailLane
from tests.conftest import with_settings
from tests.mail_fixtures import deliver_all, links_in
from tests.support import ACCOUNT_2, AMOUNT_2, PASSWORD, RESET, Api, codes, count_queries

pytestmark = pytest.mark.usefixtures("demo_data")

CHANGE_EMAIL = "mutation($p: String!, $e: String!) { changeEmail(input: {password: $p, newEmail: $e}) { sentTo userErrors { code field retryAfter } } }"
BULK = {"name": "", "title": "Квитанция", "paragraphs": ["Текст."], "action": None}
RESEND = "mutation { resendVerification { sentTo userErrors { code retryAfter } } }"
START = """mutation($n: String!, $a: String!) {
  startRecoveryWithoutEmail(input: {accountNumber: $n, paymentAmount: $a}) {
    recoveryToken userErrors { code } } }"""
CONFIRM = """mutation($t: String!, $e: String!) {
  confirmNewEmail(input: {recoveryToken: $t, newEmail: $e}) { sentTo userErrors { code } } }"""


async def test_thirty_aliases_in_one_request_cannot_send_thirty_mails(
    api: Api, smtp, smtp_settings
) -> None:
    user = await api.signed_up()
    await deliver_all(smtp_settings)
    smtp.messages.clear()
    # The attack: one document, 30 changeEmail calls to 30 addresses, the right password.
    aliases = " ".join(
        f'a{n}: changeEmail(input: {{password: "{PASSWORD}", newEmail: "probe{n}@mail.ru"}}) '
        "{ sentTo userErrors { code retryAfter } }"
        for n in range(30)
    )
    data = await user.data(f"mutation {{ {aliases} }}")
    answers = [data[f"a{n}"] for n in range(30)]
    sent = [a for a in answers if a["userErrors"] == []]
    refused = [a for a in answers if codes(a) == ["TOO_MANY_EMAILS"]]
    assert (len(sent), len(refused)) == (10, 20)  # MAIL_BUDGET_PER_CABINET
    assert all(a["userErrors"][0]["retryAfter"] for a in refused)

    await deliver_all(smtp_settings)
    probed = {m["To"] for m in smtp.messages if m["To"].startswith("probe")}
    assert len(probed) == 10
    # The budget is the cabinet's, whatever sends the mail.
    again = (await user.data(RESEND))["resendVerification"]
    assert codes(again) == ["TOO_MANY_EMAILS"]


async def test_the_budget_is_a_setting_and_counts_every_kind_of_call(api: Api, settings) -> None:
    with_settings(settings, mail_budget_per_cabinet=3)
    user = await api.signed_up()
    assert (await user.data(RESEND))["resendVerification"]["userErrors"] == []
    changed = await user.data(CHANGE_EMAIL, {"p": PASSWORD, "e": "new@mail.ru"})
    assert changed["changeEmail"]["userErrors"] == []
    assert (await user.data(RESEND))["resendVerification"]["userErrors"] == []
    over = await user.data(CHANGE_EMAIL, {"p": PASSWORD, "e": "newer@mail.ru"})
    assert codes(over["changeEmail"]) == ["TOO_MANY_EMAILS"]


async def test_change_email_answers_alike_for_taken_and_free_addresses(
    api: Api, smtp, smtp_settings
) -> None:
    user = await api.signed_up()
    await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    await deliver_all(smtp_settings)
    smtp.messages.clear()

    taken = await user.raw(CHANGE_EMAIL, {"p": PASSWORD, "e": "petrov@mail.ru"})
    free = await user.raw(CHANGE_EMAIL, {"p": PASSWORD, "e": "fresh@mail.ru"})
    assert taken.status_code == free.status_code == 200
    taken, free = taken.json(), free.json()
    # the whole answer, the address it echoes aside, is the same
    assert taken == {"data": {"changeEmail": {"sentTo": "petrov@mail.ru", "userErrors": []}}}
    assert free == {"data": {"changeEmail": {"sentTo": "fresh@mail.ru", "userErrors": []}}}

    await deliver_all(smtp_settings)
    [told] = [m for m in smtp.messages if m["To"] == "petrov@mail.ru"]
    assert "already has a cabinet" in told["Subject"] or "занят" in told["Subject"]
    assert not [u for u in links_in(told) if "token=" in u]  # nothing to act on
    [link] = [m for m in smtp.messages if m["To"] == "fresh@mail.ru"]
    assert [u for u in links_in(link) if "/verify-email?token=" in u]
    # the old address hears of both requests alike
    notices = [m for m in smtp.messages if m["To"] == "ivanova@mail.ru"]
    assert [m["Subject"] for m in notices] == [notices[0]["Subject"]] * 2


async def test_confirm_new_email_answers_alike_and_throttles_before_looking(
    api: Api, smtp, smtp_settings
) -> None:
    await api.signed_up()
    await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    await deliver_all(smtp_settings)
    smtp.messages.clear()
    started = (await api.data(START, {"n": "001234567890", "a": "1500"}))[
        "startRecoveryWithoutEmail"
    ]
    token = started["recoveryToken"]

    async def confirm(email: str) -> dict:
        return (await api.data(CONFIRM, {"t": token, "e": email}))["confirmNewEmail"]

    assert await confirm("petrov@mail.ru") == {"sentTo": "petrov@mail.ru", "userErrors": []}
    assert await confirm("free@mail.ru") == {"sentTo": "free@mail.ru", "userErrors": []}
    for n in range(3):
        assert (await confirm(f"more{n}@mail.ru"))["userErrors"] == []
    # Past the throttle a taken address is refused exactly as a free one: no lookup first.
    assert codes(await confirm("petrov@mail.ru")) == codes(await confirm("free2@mail.ru"))
    assert codes(await confirm("petrov@mail.ru")) == ["TOO_MANY_ATTEMPTS"]

    await deliver_all(smtp_settings)
    [told] = [m for m in smtp.messages if m["To"] == "petrov@mail.ru"]
    assert not [u for u in links_in(told) if "token=" in u]


def _shape(statement: str) -> str:
    """A logged statement without its values: what the database was asked to do."""
    statement = re.split(r"\s*:\s*[\[(]", statement, maxsplit=1)[0]
    statement = re.sub(r"'[^']*'", "?", statement)
    return re.sub(r"\b\d+\b", "N", statement)


async def test_password_reset_runs_the_same_statements_for_known_and_unknown_addresses(
    api: Api, smtp, smtp_settings
) -> None:
    await api.signed_up()
    await api.data(RESET, {"e": "warm-up@mail.ru"})  # the first request of a process differs
    with count_queries() as known:
        answer_known = await api.data(RESET, {"e": "ivanova@mail.ru"})
    with count_queries() as unknown:
        answer_unknown = await api.data(RESET, {"e": "nobody@mail.ru"})
    assert answer_known == answer_unknown
    assert [_shape(q) for q in known.queries] == [_shape(q) for q in unknown.queries]
    assert len(known.queries) > 3

    await deliver_all(smtp_settings)
    assert [
        m
        for m in smtp.messages
        if m["To"] == "ivanova@mail.ru" and "/set-password" in str(links_in(m))
    ]
    [none] = [m for m in smtp.messages if m["To"] == "nobody@mail.ru"]
    assert "/set-password" not in str(links_in(none))


async def test_a_flood_of_routine_mail_does_not_delay_a_security_notice(
    api: Api, smtp, smtp_settings
) -> None:
    settings = with_settings(smtp_settings, mail_batch_size=10)
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    await deliver_all(settings)
    smtp.messages.clear()
    # A month's e-receipts, or whatever routine mail a caller manages to cause, queued first.
    for n in range(40):
        await send(
            "notice",
            to=f"bulk{n}@mail.ru",
            context=BULK,
        )
    # Then the owner asks for a reset link: it is the next message out, not the 41st.
    await api.data(RESET, {"e": "ivanova@mail.ru"})
    worker = MailWorker(settings)
    assert await worker.run_once() == 10
    assert smtp.messages[0]["To"] == "ivanova@mail.ru"
    assert "/set-password" in str(links_in(smtp.messages[0]))


async def test_mail_lanes_are_stored(api: Api) -> None:
    await api.register("001234567890", "1500", "ivanova@mail.ru")
    from models.mail import OutboxMessage

    [row] = await OutboxMessage.all()
    assert row.lane == MailLane.SECURITY
