"""`GET /receipts/{id}.pdf`: the bill as a file, for its owner only (SECURITY.md 18), with
the session or with the short-lived signed link of `Receipt.pdfUrl`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pypdf
import pytest
import pytest_asyncio

from services.core.clock import clock
from services.core.timeutil import format_month_ru
from services.ops import demo
from services.receipts import files as receipt_files
from tests.support import ACCOUNT_2, Api, count_queries

pytestmark = pytest.mark.usefixtures("demo_data")

RECEIPTS = """
query { me { accounts { id number receipts(first: 2) { nodes { id period amountDue pdfUrl } } } } }
"""
UNLINK = "mutation($id: ID!) { unlinkAccount(input: {accountId: $id}) { userErrors { code } } }"


@pytest_asyncio.fixture
async def anonymous(settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of its own: no session, no cookie (a system PDF viewer, a leaked link)."""
    from server import create_app

    transport = httpx.ASGITransport(app=create_app(settings, manage_db=False))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


async def demo_cabinet(api: Api, email: str = "ivanova@example.com") -> Api:
    """Log in to a demo cabinet (ivanova holds 001234567890 and 001234567891)."""
    await demo.seed_cabinets()
    logged_in = await api.login(email, demo.DEMO_PASSWORD)
    assert logged_in["userErrors"] == [], logged_in
    return api.as_user(logged_in["token"])


async def latest_receipts(user: Api) -> dict[str, dict]:
    """The newest receipt of each account of the cabinet, by account number."""
    accounts = (await user.data(RECEIPTS))["me"]["accounts"]
    return {a["number"]: {**a["receipts"]["nodes"][0], "accountId": a["id"]} for a in accounts}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def bearer(user: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


async def test_the_owner_gets_the_bill_with_the_session(api: Api, client) -> None:
    user = await demo_cabinet(api)
    receipt = (await latest_receipts(user))["001234567890"]
    path = f"/receipts/{receipt['id']}.pdf"

    response = await client.get(path, headers=bearer(user))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private, no-store"
    period = receipt["period"]
    assert response.headers["content-disposition"] == (
        f'inline; filename="kvitanciya-001234567890-{period}.pdf"; '
        f"filename*=UTF-8''{'%D0%BA%D0%B2%D0%B8%D1%82%D0%B0%D0%BD%D1%86%D0%B8%D1%8F'}"
        f"-001234567890-{period}.pdf"
    )
    encoded = response.headers["content-disposition"].split("filename*=UTF-8''")[1]
    assert unquote(encoded) == f"квитанция-001234567890-{period}.pdf"
    text = text_of(response.content)
    assert "001234567890" in text
    assert "Иванова Мария Петровна" in text
    assert format_month_ru(dt.date.fromisoformat(f"{period}-01")) in text

    download = await client.get(f"{path}?download=1", headers=bearer(user))
    assert download.headers["content-disposition"].startswith("attachment; ")
    assert download.content == response.content  # the same data, the same bytes


async def test_the_session_cookie_opens_it_too_but_not_from_another_site(api: Api, client) -> None:
    await demo_cabinet(api)  # the login left the session cookie in `client`
    user = api.as_user(None)
    receipt = (await latest_receipts(user))["001234567891"]
    path = f"/receipts/{receipt['id']}.pdf"

    assert (await client.get(path)).status_code == 200
    cross_site = await client.get(path, headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 401


async def test_without_a_session_it_asks_to_log_in(api: Api, anonymous) -> None:
    user = await demo_cabinet(api)
    receipt = (await latest_receipts(user))["001234567890"]
    response = await anonymous.get(f"/receipts/{receipt['id']}.pdf")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    expired = await anonymous.get(
        f"/receipts/{receipt['id']}.pdf", headers={"Authorization": "Bearer not-a-session"}
    )
    assert expired.status_code == 401


async def test_another_customers_bill_is_as_missing_as_a_missing_one(api: Api, client) -> None:
    owner = await demo_cabinet(api)
    theirs = (await latest_receipts(owner))["001234567890"]
    other = await api.signed_up("001234567894", "900.00", "volkova@mail.ru")
    mine = (await latest_receipts(other))["001234567894"]
    assert (
        await client.get(f"/receipts/{mine['id']}.pdf", headers=bearer(other))
    ).status_code == 200

    answers = [
        await client.get(f"/receipts/{receipt_id}.pdf", headers=bearer(other))
        for receipt_id in (
            theirs["id"],  # another customer's
            "UmVjZWlwdDo5OTk5OTk5",  # Receipt:9999999, no such receipt
            "QWNjb3VudDox",  # Account:1, not a receipt id
            "%%%",
        )
    ]
    assert [a.status_code for a in answers] == [404] * 4
    assert len({(a.text, a.headers["content-type"]) for a in answers}) == 1


async def test_the_signed_link_opens_the_bill_without_a_session(api: Api, anonymous) -> None:
    user = await demo_cabinet(api)
    receipt = (await latest_receipts(user))["001234567890"]
    url = receipt["pdfUrl"]
    assert url.startswith(f"https://lk.example.ru/receipts/{receipt['id']}.pdf?token=")

    response = await anonymous.get(path_of(url))

    assert response.status_code == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "private, no-store"
    assert "001234567890" in text_of(response.content)


async def test_the_signed_link_lives_ten_minutes(api: Api, anonymous) -> None:
    user = await demo_cabinet(api)
    url = (await latest_receipts(user))["001234567890"]["pdfUrl"]

    clock.advance(dt.timedelta(minutes=9, seconds=50))
    assert (await anonymous.get(path_of(url))).status_code == 200
    clock.advance(dt.timedelta(seconds=20))
    assert (await anonymous.get(path_of(url))).status_code == 404


async def test_a_tampered_link_opens_nothing(api: Api, anonymous) -> None:
    user = await demo_cabinet(api)
    receipts = await latest_receipts(user)
    first, second = receipts["001234567890"], receipts[ACCOUNT_2]
    token = parse_qs(urlsplit(first["pdfUrl"]).query)["token"][0]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    payload, _, _signature = token.partition(".")

    for path in (
        f"/receipts/{first['id']}.pdf?token={flipped}",  # a changed signature
        f"/receipts/{second['id']}.pdf?token={token}",  # another receipt with this link
        f"/receipts/{first['id']}.pdf?token={payload}",  # no signature at all
        f"/receipts/{first['id']}.pdf?token=",
    ):
        response = await anonymous.get(path)
        assert response.status_code == 404, path
        assert response.text == "Not found"


async def test_a_link_signed_for_another_cabinet_opens_nothing(api: Api, anonymous) -> None:
    owner = await demo_cabinet(api)
    receipt = (await latest_receipts(owner))["001234567890"]
    other = await api.signed_up("001234567894", "900.00", "volkova@mail.ru")
    other_id = (await other.data("{ me { id } }"))["me"]["id"]
    from schema.relay import decode_id

    # A correctly signed link, but for a cabinet that does not hold the account.
    receipt_pk = decode_id("Receipt", receipt["id"])
    forged = receipt_files.sign_link(receipt_pk, decode_id("User", other_id)).token
    response = await anonymous.get(f"/receipts/{receipt['id']}.pdf?token={forged}")
    assert response.status_code == 404


async def test_a_leaked_link_dies_when_the_account_leaves_the_cabinet(
    api: Api, client, anonymous
) -> None:
    user = await demo_cabinet(api)
    receipt = (await latest_receipts(user))[ACCOUNT_2]
    assert (await anonymous.get(path_of(receipt["pdfUrl"]))).status_code == 200

    unlinked = await user.data(UNLINK, {"id": receipt["accountId"]})
    assert unlinked["unlinkAccount"]["userErrors"] == []

    assert (await anonymous.get(path_of(receipt["pdfUrl"]))).status_code == 404
    session = await client.get(f"/receipts/{receipt['id']}.pdf", headers=bearer(user))
    assert session.status_code == 404


async def test_pdf_urls_cost_no_queries(api: Api) -> None:
    user = await demo_cabinet(api)
    query = "query($u: Boolean!) { me { accounts { receipts(first: 12) { nodes { id pdfUrl @include(if: $u) } } } } }"
    with count_queries() as without:
        await user.data(query, {"u": False})
    with count_queries() as with_urls:
        data = await user.data(query, {"u": True})
    urls = [n["pdfUrl"] for a in data["me"]["accounts"] for n in a["receipts"]["nodes"]]
    assert len(urls) == 24 and len(set(urls)) == 24
    assert len(with_urls.queries) == len(without.queries)


def test_file_names_name_the_account_and_the_month() -> None:
    doc = dataclasses.make_dataclass("Doc", ["account_number", "period"])(
        "001234567890", dt.date(2026, 10, 1)
    )
    assert receipt_files.file_names(doc) == (  # type: ignore[arg-type]
        "kvitanciya-001234567890-2026-10.pdf",
        "квитанция-001234567890-2026-10.pdf",
    )
