"""A planted payment proves nothing at once (issue 16 items 4-5, SECURITY.md 20-21): the
attacker who pays a few roubles into someone else's account and "proves" ownership with
that amount gets a hold, the owner a warning with a one-click cancel, and every security
notice to the old address a link that freezes the cabinet. Over real HTTP, with the real
SMTP fixture, the hold job and the CLI."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from models.accounts import Account
from models.auth import HoldState, ProofHold, SecurityEvent
from models.billing import Payment
from models.cabinets import Cabinet
from models.payments import OnlinePayment, PaymentStatus
from models.questions import Question, QuestionMessage
from services.accounts import proof
from services.core.clock import clock
from services.recovery.rules import complete_due_holds
from tests.conftest import BACKEND
from tests.mail_fixtures import deliver_all, links_in
from tests.questions.support import asked, specialist
from tests.recovery.test_recovery import NEW_PASSWORD, confirm, link_token, start
from tests.support import ACCOUNT_1, ACCOUNT_2, AMOUNT_1, AMOUNT_2, PASSWORD, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

SET = """mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) {
  user { email } hold { until } userErrors { code } } }"""
CHANGE_PASSWORD = """mutation($c: String!, $n: String!) {
  changePassword(input: {currentPassword: $c, newPassword: $n}) { userErrors { code } } }"""
UNFREEZE = """mutation($id: ID!) { unfreezeCabinet(input: {cabinetId: $id}) {
  unfrozen userErrors { code } } }"""
QUEUE = """{ staffQuestions(first: 20) { nodes { subject customer { id email } } } }"""
ATTACKER = "attacker@evil.example"
VICTIM = "ivanova@mail.ru"


async def plant(amount: str = "10.00", *, days_ago: float = 0, number: str = ACCOUNT_1) -> Payment:
    """A payment into the account as the billing import writes it (anyone can pay by number)."""
    return await Payment.create(
        account=await Account.get(number=number),
        amount=Decimal(amount),
        paid_at=clock.now() - dt.timedelta(days=days_ago),
        channel="Сбербанк Онлайн",
        external_id=f"PLANT-{amount}-{days_ago}",
    )


def mails_to(smtp, address: str) -> list:
    return [m for m in smtp.messages if address in m["To"]]


def text(message) -> str:
    return message.get_body(("plain",)).get_content()


def link_path(message, path: str) -> str:
    [url] = [u for u in links_in(message) if urlsplit(u).path == path and "token=" in u]
    return f"{path}?token={parse_qs(urlsplit(url).query)['token'][0]}"


async def attack(api: Api, smtp, smtp_settings, amount: str = "10") -> dict:
    """Recovery with the planted amount, to the attacker's address, up to setPassword."""
    started = await start(api, ACCOUNT_1, amount)
    assert started["userErrors"] == [], started
    assert (await confirm(api, started["recoveryToken"], ATTACKER))["userErrors"] == []
    await deliver_all(smtp_settings)
    [to_attacker] = mails_to(smtp, ATTACKER)
    smtp.messages.clear()
    done = (await api.data(SET, {"t": link_token(to_attacker), "p": NEW_PASSWORD}))["setPassword"]
    await deliver_all(smtp_settings)
    return done


async def test_a_planted_payment_is_held_and_the_owner_cancels(api: Api, smtp, smtp_settings):
    # given the owner's cabinet, logged in, and a fresh payment someone made into the account
    phone = await api.signed_up()
    await deliver_all(smtp_settings)
    smtp.messages.clear()
    await plant()
    before = await Cabinet.get(email=VICTIM)

    # when the attacker recovers with that amount
    done = await attack(api, smtp, smtp_settings)

    # then it is held 48 hours, and nothing changed in the cabinet
    assert done["user"] is None and done["userErrors"] == []
    until = dt.datetime.fromisoformat(done["hold"]["until"])
    assert dt.timedelta(hours=47, minutes=59) < until - clock.now() <= dt.timedelta(hours=48)
    assert (await phone.data("{ me { email } }"))["me"]["email"] == VICTIM
    assert (await api.login(ATTACKER, NEW_PASSWORD))["userErrors"] != []
    assert (await api.login(VICTIM))["userErrors"] == []

    # and the owner's address is warned at once, with a one-click cancel
    [warning] = mails_to(smtp, VICTIM)
    assert "a***@evil.example" in text(warning)
    cancel = link_path(warning, "/security/cancel-hold")

    # a GET (a mail scanner) shows the question and changes nothing
    shown = await api.http.get(cancel)
    assert shown.status_code == 200 and "<form" in shown.text and "a***@evil.example" in shown.text
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert (await ProofHold.get()).state == HoldState.HELD

    # the POST cancels it; once is enough
    canceled = await api.http.post(cancel)
    assert canceled.status_code == 200 and "<form" not in canceled.text
    assert (await ProofHold.get()).state == HoldState.CANCELED
    assert (await api.http.post(cancel)).status_code == 404

    # past the hold the job changes nothing
    clock.advance(dt.timedelta(hours=49))
    assert await complete_due_holds() == 0
    cabinet = await Cabinet.get(email=VICTIM)
    assert cabinet.password_hash == before.password_hash
    assert (await api.login(ATTACKER, NEW_PASSWORD))["userErrors"] != []
    kinds = await SecurityEvent.filter(cabinet=cabinet).values_list("kind", flat=True)
    assert "proof_held" in kinds and "proof_hold_canceled" in kinds
    assert "recovery_completed" not in kinds


async def test_an_unanswered_hold_completes_once_when_it_ends(api: Api, smtp, smtp_settings):
    phone = await api.signed_up()
    await plant()
    done = await attack(api, smtp, smtp_settings)
    assert done["hold"] is not None
    smtp.messages.clear()

    # before the end: nothing
    clock.advance(dt.timedelta(hours=47))
    assert await complete_due_holds() == 0
    assert (await Cabinet.get(id=(await ProofHold.get()).cabinet_id)).email == VICTIM  # type: ignore[attr-defined]

    # at the end: two job rounds at once (two processes) complete it exactly once
    clock.advance(dt.timedelta(hours=1, seconds=1))
    if BACKEND == "postgres":
        rounds = await asyncio.gather(complete_due_holds(), complete_due_holds())
    else:
        rounds = [await complete_due_holds(), await complete_due_holds()]
    assert sorted(rounds) == [0, 1]
    hold = await ProofHold.get()
    assert hold.state == HoldState.DONE and hold.password_hash == ""

    # bound exactly as an immediate recovery binds: new address and password, sessions over
    assert await phone.session_ended() == "REVOKED"
    assert await api.session_ended() == "REVOKED"  # the cookie too: refused, then deleted
    assert (await api.login(ATTACKER, NEW_PASSWORD))["userErrors"] == []
    assert codes(await api.login(VICTIM)) == ["INVALID_CREDENTIALS"]
    await deliver_all(smtp_settings)
    [old_notice] = mails_to(smtp, VICTIM)
    assert "/security/freeze" in " ".join(links_in(old_notice))
    assert len(mails_to(smtp, ATTACKER)) == 1


async def test_an_old_payment_completes_at_once(api: Api, smtp, smtp_settings):
    await api.signed_up()
    smtp.messages.clear()
    started = await start(api, ACCOUNT_1, AMOUNT_1)
    await confirm(api, started["recoveryToken"], "maria@yandex.ru")
    await deliver_all(smtp_settings)
    [to_new] = mails_to(smtp, "maria@yandex.ru")
    done = (await api.data(SET, {"t": link_token(to_new), "p": NEW_PASSWORD}))["setPassword"]
    assert done == {"user": {"email": "maria@yandex.ru"}, "hold": None, "userErrors": []}
    assert not await ProofHold.exists()


async def test_what_counts_as_planted(api: Api):
    await api.signed_up()
    owner = await Cabinet.get(email=VICTIM)
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    assert other is not None
    stranger = await Cabinet.get(email="petrov@mail.ru")
    moment = clock.now()

    async def online(payment: Payment, cabinet: Cabinet) -> None:
        await OnlinePayment.create(
            cabinet=cabinet,
            account_id=payment.account_id,  # type: ignore[attr-defined]
            amount=payment.amount,
            idempotency_key=f"k{payment.id}",
            status=PaymentStatus.SUCCEEDED,
            provider="sandbox",
            external_id=f"x{payment.id}",
            ledger_payment=payment,
            created_at=payment.paid_at,
            updated_at=payment.paid_at,
        )

    fresh = await plant("11.00", days_ago=2.9)
    settled = await plant("12.00", days_ago=3.1)
    from_stranger = await plant("13.00", days_ago=30)
    await online(from_stranger, stranger)
    from_owner = await plant("14.00", days_ago=30)
    await online(from_owner, owner)

    def judge(payment: Payment):
        return proof.suspicious_payment(payment.id, holder_cabinet_id=owner.id, at=moment)

    assert await judge(fresh) == proof.Suspicion.FRESH
    assert await judge(settled) is None
    assert await judge(from_stranger) == proof.Suspicion.OTHER_CABINET
    assert await judge(from_owner) is None


async def test_freeze_from_a_notice_and_unfreeze(api: Api, db, smtp, smtp_settings, tmp_path):
    from tests.ops.test_cli import kabinet

    # given the owner logged in on two devices, and a password change someone made
    phone = await api.signed_up()
    laptop = api.as_user((await api.login(VICTIM))["token"])
    await deliver_all(smtp_settings)
    smtp.messages.clear()
    changed = await phone.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD})
    assert changed["changePassword"]["userErrors"] == []
    await deliver_all(smtp_settings)
    [notice] = mails_to(smtp, VICTIM)
    freeze = link_path(notice, "/security/freeze")

    # a GET only asks
    asked = await api.http.get(freeze, headers={"accept-language": "en"})
    assert asked.status_code == 200 and "Freeze the cabinet?" in asked.text
    assert (await Cabinet.get(email=VICTIM)).frozen_at is None
    assert await phone.session_ended() is None

    # the POST freezes: sessions end, login and recovery answer CABINET_FROZEN
    frozen = await api.http.post(freeze)
    assert frozen.status_code == 200 and "заморожен" in frozen.text
    assert (await Cabinet.get(email=VICTIM)).frozen_at is not None
    assert await phone.session_ended() == "REVOKED"
    assert await laptop.session_ended() == "REVOKED"
    assert await api.session_ended() == "REVOKED"  # the cookie too: refused, then deleted
    assert codes(await api.login(VICTIM, NEW_PASSWORD)) == ["CABINET_FROZEN"]
    assert codes(await api.login(VICTIM, "wrong-password-1")) == ["INVALID_CREDENTIALS"]
    assert codes(await start(api, ACCOUNT_1, AMOUNT_1)) == ["CABINET_FROZEN"]

    # a question waits for the specialists, with the security log
    question = await Question.get(cabinet__email=VICTIM)
    [message] = await QuestionMessage.filter(question=question)
    assert "password_changed" in message.body and "login" in message.body
    staff = await specialist(api)
    queue = (await staff.data(QUEUE))["staffQuestions"]["nodes"]
    [listed] = [q for q in queue if q["customer"]["email"] == VICTIM]

    # the CLI lifts it
    result = kabinet("cabinet", "unfreeze", VICTIM, url=db.url, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (await api.login(VICTIM, NEW_PASSWORD))["userErrors"] == []
    missing = kabinet("cabinet", "unfreeze", "nobody@mail.ru", url=db.url, tmp_path=tmp_path)
    assert missing.returncode == 1

    # freeze again from another notice; the staff mutation lifts it; a customer may not
    owner = api.as_user((await api.login(VICTIM, NEW_PASSWORD))["token"])
    smtp.messages.clear()
    await owner.data(CHANGE_PASSWORD, {"c": NEW_PASSWORD, "n": "another-Quiet-77-harbor"})
    await deliver_all(smtp_settings)
    [second] = mails_to(smtp, VICTIM)
    assert (await api.http.post(link_path(second, "/security/freeze"))).status_code == 200
    api.http.cookies.clear()  # the session cookie of the login above, ended by the freeze
    assert codes(await api.login(VICTIM, "another-Quiet-77-harbor")) == ["CABINET_FROZEN"]
    refused = await owner(UNFREEZE, {"id": listed["customer"]["id"]})
    assert refused.get("errors")
    lifted = (await staff.data(UNFREEZE, {"id": listed["customer"]["id"]}))["unfreezeCabinet"]
    assert lifted == {"unfrozen": True, "userErrors": []}
    assert (await api.login(VICTIM, "another-Quiet-77-harbor"))["userErrors"] == []
    unknown = (await staff.data(UNFREEZE, {"id": "nope"}))["unfreezeCabinet"]
    assert codes(unknown) == ["NOT_FOUND"]


FROZEN_QUEUE = """query($frozen: Boolean) { staffQuestions(first: 20, frozen: $frozen) {
  totalCount nodes { subject customer { id email frozenAt } } } }"""


async def test_frozen_cabinets_are_a_queue_of_their_own(api: Api, smtp, smtp_settings):
    # given a customer with an ordinary question, and the owner of another who freezes it
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    await asked(other, subject="Переплата", body="Верните деньги")
    owner = await api.signed_up()
    await deliver_all(smtp_settings)
    smtp.messages.clear()
    await owner.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD})
    await deliver_all(smtp_settings)
    [notice] = mails_to(smtp, VICTIM)
    assert (await api.http.post(link_path(notice, "/security/freeze"))).status_code == 200
    api.http.cookies.clear()
    staff = await specialist(api)

    # the frozen queue holds the system's question, its customer frozen; the rest do not
    frozen = (await staff.data(FROZEN_QUEUE, {"frozen": True}))["staffQuestions"]
    assert frozen["totalCount"] == 1
    [listed] = frozen["nodes"]
    assert listed["customer"]["email"] == VICTIM and listed["customer"]["frozenAt"]
    others = (await staff.data(FROZEN_QUEUE, {"frozen": False}))["staffQuestions"]
    emails = {q["customer"]["email"] for q in others["nodes"]}
    assert "petrov@mail.ru" in emails and VICTIM not in emails
    assert all(q["customer"]["frozenAt"] is None for q in others["nodes"])
    everyone = (await staff.data(FROZEN_QUEUE, {"frozen": None}))["staffQuestions"]
    assert everyone["totalCount"] == others["totalCount"] + 1

    # unfrozen, the cabinet leaves the frozen queue
    lifted = (await staff.data(UNFREEZE, {"id": listed["customer"]["id"]}))["unfreezeCabinet"]
    assert lifted["userErrors"] == []
    assert (await staff.data(FROZEN_QUEUE, {"frozen": True}))["staffQuestions"]["nodes"] == []


async def test_a_freeze_cancels_a_held_recovery(api: Api, smtp, smtp_settings):
    await api.signed_up()
    # an earlier notice of the owner's (a password change) carries the freeze link
    owner = api.as_user((await api.login(VICTIM))["token"])
    await deliver_all(smtp_settings)
    smtp.messages.clear()
    await owner.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": "owner-Maple-55-river"})
    await deliver_all(smtp_settings)
    [notice] = mails_to(smtp, VICTIM)
    smtp.messages.clear()
    await plant()
    assert (await attack(api, smtp, smtp_settings))["hold"] is not None
    assert (await api.http.post(link_path(notice, "/security/freeze"))).status_code == 200
    assert (await ProofHold.get()).state == HoldState.CANCELED
    clock.advance(dt.timedelta(hours=49))
    assert await complete_due_holds() == 0
    assert await Cabinet.exists(email=VICTIM)


LINK = """mutation($n: String!, $a: String!) { linkAccount(input: {accountNumber: $n,
  paymentAmount: $a}) { account { number } hold { until } userErrors { code } } }"""
ACCOUNTS = "{ me { accounts { number } } }"


async def test_a_link_with_a_planted_payment_waits(api: Api):
    from services.accounts.holds import complete_due

    user = await api.signed_up()
    await plant("10.00", number=ACCOUNT_2)  # ACCOUNT_2 is in no cabinet
    held = (await user.data(LINK, {"n": ACCOUNT_2, "a": "10"}))["linkAccount"]
    assert held["account"] is None and held["userErrors"] == []
    assert held["hold"]["until"]
    assert [a["number"] for a in (await user.data(ACCOUNTS))["me"]["accounts"]] == [ACCOUNT_1]

    clock.advance(dt.timedelta(hours=48, seconds=1))
    assert [await complete_due(), await complete_due()] == [1, 0]
    numbers = {a["number"] for a in (await user.data(ACCOUNTS))["me"]["accounts"]}
    assert numbers == {ACCOUNT_1, ACCOUNT_2}


async def test_a_registration_with_a_planted_payment_waits(api: Api):
    from services.accounts.holds import complete_due

    await plant("10.00")
    registered = await api.register(ACCOUNT_1, "10", "stranger@mail.ru")
    assert registered["userErrors"] == []
    user = await api.login("stranger@mail.ru")
    stranger = api.as_user(user["token"])
    assert (await stranger.data(ACCOUNTS))["me"]["accounts"] == []

    # the owner registers meanwhile with an old payment: theirs at once, the hold fails
    assert (await api.register(ACCOUNT_1, AMOUNT_1, VICTIM))["userErrors"] == []
    clock.advance(dt.timedelta(hours=48, seconds=1))
    assert await complete_due() == 0
    assert (await ProofHold.get()).state == HoldState.FAILED
    assert (await stranger.data(ACCOUNTS))["me"]["accounts"] == []


async def test_an_unclaimed_registration_hold_links_at_its_end(api: Api):
    from services.accounts.holds import complete_due

    await plant("10.00")
    assert (await api.register(ACCOUNT_1, "10", "late@mail.ru"))["userErrors"] == []
    clock.advance(dt.timedelta(hours=48, seconds=1))
    if BACKEND == "postgres":
        rounds = await asyncio.gather(complete_due(), complete_due())
    else:
        rounds = [await complete_due(), await complete_due()]
    assert sorted(rounds) == [0, 1]
    user = api.as_user((await api.login("late@mail.ru"))["token"])
    assert (await user.data(ACCOUNTS))["me"]["accounts"] == [{"number": ACCOUNT_1}]


async def test_a_hold_never_undoes_what_the_owner_did_since(api: Api, smtp, smtp_settings):
    owner = await api.signed_up()
    await plant()
    assert (await attack(api, smtp, smtp_settings))["hold"] is not None
    # the owner, warned, only changes the password (and never clicks cancel)
    changed = await owner.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": "owner-Maple-55-river"})
    assert changed["changePassword"]["userErrors"] == []
    clock.advance(dt.timedelta(hours=48, seconds=1))
    assert await complete_due_holds() == 0
    hold = await ProofHold.get()
    assert (hold.state, hold.outcome) == (HoldState.FAILED, "changed_since")
    assert await Cabinet.exists(email=VICTIM)


async def test_ended_holds_go_with_the_security_log(api: Api, smtp, smtp_settings):
    from services.privacy import retention

    await api.signed_up()
    # confirmed, so the cabinet itself is no unverified one retention would remove
    await Cabinet.filter(email=VICTIM).update(email_verified_at=clock.now())
    await plant()
    assert (await attack(api, smtp, smtp_settings))["hold"] is not None
    clock.advance(dt.timedelta(days=1094))
    await retention.run_round()
    assert await ProofHold.exists()  # still held: a held one is never removed
    assert await complete_due_holds() == 1
    clock.advance(dt.timedelta(days=2))
    await retention.run_round()
    assert not await ProofHold.exists()
