"""The electronic receipt: subscribing (and confirming another address), exactly one mail
with the PDF per new receipt on import, and the unsubscribe link that needs no login."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pypdf
import pytest
import pytest_asyncio

from models.ereceipts import DeliveryState, EReceiptDelivery, EReceiptSubscription
from models.mail import OutboxMessage
from services.billing import importer as billing_import
from services.core.clock import clock
from services.core.timeutil import add_months, format_period
from services.ereceipts.dispatch import Dispatcher
from services.ops import demo
from tests.conftest import with_settings
from tests.mail_fixtures import deliver_all, links_in
from tests.support import Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

MSK = ZoneInfo("Europe/Moscow")
STATE = "{ me { accounts { id number eReceipt { enabled email since pendingEmail } } } }"
SUBSCRIBE = """
mutation($id: ID!, $email: String) {
  subscribeEReceipt(input: {accountId: $id, email: $email}) {
    confirmationSentTo
    account { number eReceipt { enabled email since pendingEmail } }
    userErrors { code field message retryAfter }
  }
}"""
UNSUBSCRIBE = """
mutation($id: ID!) {
  unsubscribeEReceipt(input: {accountId: $id}) {
    account { number eReceipt { enabled email since pendingEmail } }
    userErrors { code field }
  }
}"""
UNLINK = "mutation($id: ID!) { unlinkAccount(input: {accountId: $id}) { userErrors { code } } }"
IVANOVA, KUZNETSOVA = "ivanova@example.com", "kuznetsova@example.com"
OFF = {"enabled": False, "email": None, "since": None, "pendingEmail": None}


@pytest_asyncio.fixture
async def anonymous(settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no session and no cookie: a mail program, a browser opening a link."""
    from server import create_app

    transport = httpx.ASGITransport(app=create_app(settings, manage_db=False))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


async def cabinet(api: Api, email: str = IVANOVA) -> tuple[Api, dict[str, str]]:
    """A demo cabinet logged in, and its account ids by number."""
    await demo.seed_cabinets()
    logged_in = await api.login(email, demo.DEMO_PASSWORD)
    user = api.as_user(logged_in["token"])
    accounts = (await user.data(STATE))["me"]["accounts"]
    return user, {a["number"]: a["id"] for a in accounts}


async def subscribe(user: Api, account_id: str, email: str | None = None) -> dict:
    return (await user.data(SUBSCRIBE, {"id": account_id, "email": email}))["subscribeEReceipt"]


async def state(user: Api, number: str) -> dict:
    accounts = (await user.data(STATE))["me"]["accounts"]
    return next(a["eReceipt"] for a in accounts if a["number"] == number)


def today() -> dt.date:
    return dt.datetime.now(MSK).date()


async def import_month(months_ahead: int = 1) -> billing_import.ImportSummary:
    """The billing system's next export: the demo `months_ahead` months later, which adds
    the receipts of the months in between for all six accounts."""
    summaries = await demo.seed(add_months(today(), months_ahead), MSK)
    return next(s for s in summaries if s.kind == "receipts")


async def dispatch_all(settings, dispatcher: Dispatcher | None = None) -> int:
    dispatcher = dispatcher or Dispatcher(settings)
    claimed = 0
    while batch := await dispatcher.run_once():
        claimed += batch
    return claimed


async def mail_out(smtp, settings) -> list:
    """Render what the import queued, deliver the outbox, and return every receipt mail."""
    await dispatch_all(settings)
    await deliver_all(settings)
    return [m for m in smtp.messages if m["List-Unsubscribe"]]


def attachment_of(message) -> tuple[str, bytes]:
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    return part.get_filename(), part.get_content()


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def unsubscribe_url(message) -> str:
    header = str(message["List-Unsubscribe"]).strip()  # long: folded onto its own line
    assert header.startswith(
        "<https://lk.example.ru/ereceipt/unsubscribe?token="
    ) and header.endswith(">")
    return header[1:-1]


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


# ---------------------------------------------------------------- subscribing


async def test_subscribing_to_the_cabinets_address(api: Api) -> None:
    user, ids = await cabinet(api)
    assert await state(user, "001234567890") == OFF

    done = await subscribe(user, ids["001234567890"])

    assert done["userErrors"] == []
    assert done["confirmationSentTo"] is None
    e_receipt = done["account"]["eReceipt"]
    assert (e_receipt["enabled"], e_receipt["email"], e_receipt["pendingEmail"]) == (
        True,
        IVANOVA,
        None,
    )
    assert dt.datetime.fromisoformat(e_receipt["since"]) <= clock.now()
    again = await subscribe(user, ids["001234567890"])  # idempotent: the same subscription
    assert again["account"]["eReceipt"] == e_receipt
    assert await state(user, "001234567891") == OFF  # the other account is untouched


async def test_an_unconfirmed_cabinet_address_is_refused(api: Api) -> None:
    user = await api.signed_up("001234567894", "900.00", "volkova@mail.ru")
    account_id = (await user.data(STATE))["me"]["accounts"][0]["id"]
    refused = await subscribe(user, account_id)
    assert codes(refused) == ["EMAIL_NOT_VERIFIED"]
    assert refused["userErrors"][0]["field"] == ["email"]
    assert "подтвердите" in refused["userErrors"][0]["message"].lower()


async def test_another_customers_account_is_not_found(api: Api) -> None:
    _owner, ids = await cabinet(api)
    other = await api.signed_up("001234567894", "900.00", "volkova@mail.ru")
    for account_id in (ids["001234567890"], "bm9uc2Vuc2U", "QWNjb3VudDo5OTk5"):
        assert codes(await subscribe(other, account_id, "volkova@mail.ru")) == ["NOT_FOUND"]
        unsubscribed = (await other.data(UNSUBSCRIBE, {"id": account_id}))["unsubscribeEReceipt"]
        assert codes(unsubscribed) == ["NOT_FOUND"]


async def test_a_bad_address_is_refused(api: Api) -> None:
    user, ids = await cabinet(api)
    refused = await subscribe(user, ids["001234567890"], "not an address")
    assert codes(refused) == ["INVALID_EMAIL"]


async def test_unsubscribing(api: Api) -> None:
    user, ids = await cabinet(api)
    await subscribe(user, ids["001234567890"])
    done = (await user.data(UNSUBSCRIBE, {"id": ids["001234567890"]}))["unsubscribeEReceipt"]
    assert done == {"account": {"number": "001234567890", "eReceipt": OFF}, "userErrors": []}
    again = (await user.data(UNSUBSCRIBE, {"id": ids["001234567890"]}))["unsubscribeEReceipt"]
    assert again["userErrors"] == []  # off already: nothing to do, not an error


async def test_unlinking_the_account_ends_its_subscription(api: Api, settings) -> None:
    user, ids = await cabinet(api)
    await subscribe(user, ids["001234567891"])
    assert (await user.data(UNLINK, {"id": ids["001234567891"]}))["unlinkAccount"][
        "userErrors"
    ] == []
    assert not await EReceiptSubscription.exists()
    assert (await import_month()).ereceipts_queued == 0


# ---------------------------------------------------------------- another address


async def test_another_address_gets_bills_once_its_link_is_followed(
    api: Api, anonymous, smtp, smtp_settings
) -> None:
    user, ids = await cabinet(api)
    asked = await subscribe(user, ids["001234567890"], " Maria.Family@Mail.RU ")
    assert asked["userErrors"] == []
    assert asked["confirmationSentTo"] == "maria.family@mail.ru"
    assert asked["account"]["eReceipt"] == {**OFF, "pendingEmail": "maria.family@mail.ru"}

    # Not confirmed yet: an import sends nothing there.
    assert (await import_month(1)).ereceipts_queued == 0
    await deliver_all(smtp_settings)
    [confirmation] = smtp.messages
    assert confirmation["To"] == "maria.family@mail.ru"
    assert "001234567890" in confirmation.get_body(preferencelist=("plain",)).get_content()
    [link] = [u for u in links_in(confirmation) if urlsplit(u).path == "/ereceipt/confirm"]
    assert link.startswith("https://lk.example.ru/ereceipt/confirm?token=")

    # Given the link, when the page is opened, it asks first (link scanners only GET)...
    page = await anonymous.get(local(link))
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "001234567890" in page.text and "maria.family@mail.ru" in page.text
    assert '<form method="post"' in page.text
    assert (await state(user, "001234567890"))["enabled"] is False

    # ...and the button confirms, without any login.
    confirmed = await anonymous.post(local(link))
    assert confirmed.status_code == 200
    assert "Готово" in confirmed.text
    now_on = await state(user, "001234567890")
    assert (now_on["enabled"], now_on["email"], now_on["pendingEmail"]) == (
        True,
        "maria.family@mail.ru",
        None,
    )
    assert (await anonymous.post(local(link))).status_code == 404  # single use

    assert (await import_month(2)).ereceipts_queued == 1
    [bill] = await mail_out(smtp, smtp_settings)
    assert bill["To"] == "maria.family@mail.ru"


async def test_the_confirmation_link_expires(api: Api, anonymous, smtp, smtp_settings) -> None:
    user, ids = await cabinet(api)
    await subscribe(user, ids["001234567890"], "maria.family@mail.ru")
    await deliver_all(smtp_settings)
    [link] = [u for u in links_in(smtp.messages[0]) if "/ereceipt/confirm" in u]
    clock.advance(dt.timedelta(minutes=61))
    expired = await anonymous.post(local(link))
    assert expired.status_code == 410
    assert "истёк" in expired.text
    assert (await state(user, "001234567890"))["enabled"] is False


async def test_a_newer_request_replaces_the_pending_address(
    api: Api, anonymous, smtp, smtp_settings
) -> None:
    user, ids = await cabinet(api)
    await subscribe(user, ids["001234567890"])
    await subscribe(user, ids["001234567890"], "first@mail.ru")
    await subscribe(user, ids["001234567890"], "second@mail.ru")
    await deliver_all(smtp_settings)
    links = {
        m["To"]: next(u for u in links_in(m) if "/ereceipt/confirm" in u) for m in smtp.messages
    }

    assert (await anonymous.post(local(links["first@mail.ru"]))).status_code == 404
    current = await state(user, "001234567890")
    assert (current["email"], current["pendingEmail"]) == (IVANOVA, "second@mail.ru")
    assert (await anonymous.post(local(links["second@mail.ru"]))).status_code == 200
    assert (await state(user, "001234567890"))["email"] == "second@mail.ru"


async def test_confirmation_mails_are_limited(api: Api) -> None:
    user, ids = await cabinet(api)
    for n in range(5):
        assert (await subscribe(user, ids["001234567890"], f"a{n}@mail.ru"))["userErrors"] == []
    refused = await subscribe(user, ids["001234567890"], "a5@mail.ru")
    assert codes(refused) == ["TOO_MANY_ATTEMPTS"]
    assert refused["userErrors"][0]["retryAfter"]


# ---------------------------------------------------------------- mailing on import


async def test_each_new_receipt_is_mailed_once_with_its_pdf(api: Api, smtp, smtp_settings) -> None:
    user, ids = await cabinet(api)
    await subscribe(user, ids["001234567890"])

    summary = await import_month()

    assert summary.inserted == 6  # a receipt for each demo account, one of them subscribed
    assert summary.ereceipts_queued == 1
    [message] = await mail_out(smtp, smtp_settings)
    period = format_period(today())
    assert message["To"] == IVANOVA
    assert "001234567890" in message["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url(message)
    name, pdf = attachment_of(message)
    assert name == f"kvitanciya-001234567890-{period}.pdf"
    text = pdf_text(pdf)
    assert "001234567890" in text and "Иванова Мария Петровна" in text
    assert unsubscribe_url(message) in links_in(message)
    [delivery] = await EReceiptDelivery.all()
    assert delivery.state == DeliveryState.SENT
    assert delivery.message_id == (await OutboxMessage.get(message_id=message["Message-ID"])).id  # type: ignore[attr-defined]

    # The same export again: nothing is new, nothing is sent.
    again = await import_month()
    assert (again.inserted, again.ereceipts_queued) == (0, 0)
    assert await mail_out(smtp, smtp_settings) == [message]
    assert await EReceiptDelivery.all().count() == 1


async def test_a_rejected_import_mails_nothing(api: Api, settings, tmp_path) -> None:
    user, ids = await cabinet(api)
    await subscribe(user, ids["001234567890"])
    month = format_period(add_months(today(), 1))
    bad = tmp_path / "receipts.csv"
    bad.write_text(
        "account_number,period,issued_on,due_on,opening_balance,charged,paid,amount_due\n"
        f"001234567890,{month},2030-01-01,2030-01-10,0,100,0,100\n"
        f"009999999999,{month},2030-01-01,2030-01-10,0,100,0,100\n",  # an unknown account
        encoding="utf-8",
    )
    with pytest.raises(billing_import.ImportFailed):
        await billing_import.import_file("receipts", bad, tz=MSK)
    assert not await EReceiptDelivery.exists()
    assert await dispatch_all(settings) == 0


async def test_a_bill_of_an_account_unsubscribed_before_dispatch_is_not_mailed(
    api: Api, smtp, smtp_settings
) -> None:
    user, ids = await cabinet(api)
    await subscribe(user, ids["001234567890"])
    await subscribe(user, ids["001234567891"])
    assert (await import_month()).ereceipts_queued == 2
    await user.data(UNSUBSCRIBE, {"id": ids["001234567891"]})

    [message] = await mail_out(smtp, smtp_settings)

    assert "001234567890" in message["Subject"]
    states = sorted(d.state for d in await EReceiptDelivery.all())
    assert states == [DeliveryState.SENT, DeliveryState.SKIPPED]


async def test_concurrent_dispatchers_mail_each_receipt_once(api: Api, smtp, smtp_settings) -> None:
    user, ids = await cabinet(api)
    for account_id in ids.values():
        await subscribe(user, account_id)
    english, english_ids = await cabinet(api, KUZNETSOVA)
    await subscribe(english, english_ids["001234567892"])
    settings = with_settings(smtp_settings, ereceipt_batch_size=1)

    assert (await import_month(2)).ereceipts_queued == 6  # two months of three accounts
    dispatchers = [Dispatcher(settings, name=f"d{n}") for n in range(3)]
    claimed = await asyncio.gather(*(dispatch_all(settings, d) for d in dispatchers))

    assert sum(claimed) == 6
    assert await OutboxMessage.filter(template="ereceipt").count() == 6
    await deliver_all(settings)
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert len(subjects) == len(set(subjects)) == 6
    assert sum(s.startswith("Your electricity bill") for s in subjects) == 2  # en cabinet


async def test_a_dispatcher_that_died_is_taken_over_without_a_second_mail(
    api: Api, smtp_settings
) -> None:
    user, ids = await cabinet(api)
    await subscribe(user, ids["001234567890"])
    await import_month()
    crashed, other = Dispatcher(smtp_settings, name="crashed"), Dispatcher(smtp_settings)
    token, batch = await crashed.claim()  # ...and dies before mailing it
    assert len(batch) == 1

    assert await other.run_once() == 0  # the claim holds for its lease
    clock.advance(dt.timedelta(seconds=smtp_settings.mail_lease_seconds + 1))
    assert await other.run_once() == 1
    assert await OutboxMessage.filter(template="ereceipt").count() == 1

    await crashed.deliver(token, batch)  # it comes back to life: its claim is gone
    assert await OutboxMessage.filter(template="ereceipt").count() == 1
    [delivery] = await EReceiptDelivery.all()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)


# ---------------------------------------------------------------- unsubscribing by link


async def subscribed_and_mailed(api: Api, smtp, settings) -> tuple[Api, str]:
    """Ivanova's first account subscribed and a bill mailed; (her cabinet, its
    List-Unsubscribe address)."""
    user, ids = await cabinet(api)
    await subscribe(user, ids["001234567890"])
    await import_month(1)
    [message] = await mail_out(smtp, settings)
    return user, unsubscribe_url(message)


async def test_one_click_unsubscribe_needs_no_login(
    api: Api, anonymous, smtp, smtp_settings
) -> None:
    user, url = await subscribed_and_mailed(api, smtp, smtp_settings)

    # RFC 8058: the mail program POSTs this body to the List-Unsubscribe address.
    response = await anonymous.post(
        local(url),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200
    assert await state(user, "001234567890") == OFF
    assert (await import_month(2)).ereceipts_queued == 0
    again = await anonymous.post(local(url))
    assert again.status_code == 200  # the same answer: it is off


async def test_the_unsubscribe_page_asks_before_acting(
    api: Api, anonymous, smtp, smtp_settings
) -> None:
    user, url = await subscribed_and_mailed(api, smtp, smtp_settings)

    page = await anonymous.get(local(url), headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "001234567890" in page.text and IVANOVA in page.text
    assert "Stop the electronic receipt" in page.text and '<form method="post"' in page.text
    assert (await state(user, "001234567890"))["enabled"] is True  # a GET changes nothing

    token = parse_qs(urlsplit(url).query)["token"][0]
    done = await anonymous.post(f"/ereceipt/unsubscribe?token={token}")
    assert done.status_code == 200 and "Готово" in done.text
    assert await state(user, "001234567890") == OFF

    tampered = await anonymous.post(f"/ereceipt/unsubscribe?token={token[:-2]}xx")
    assert tampered.status_code == 404


async def test_an_old_unsubscribe_link_does_not_stop_a_new_subscription(
    api: Api, anonymous, smtp, smtp_settings
) -> None:
    user, url = await subscribed_and_mailed(api, smtp, smtp_settings)
    account_id = (await user.data(STATE))["me"]["accounts"][0]["id"]
    await user.data(UNSUBSCRIBE, {"id": account_id})
    clock.advance(dt.timedelta(seconds=2))
    await subscribe(user, account_id)

    stale = await anonymous.post(local(url))

    assert stale.status_code == 200
    assert "уже" in stale.text
    assert (await state(user, "001234567890"))["enabled"] is True
