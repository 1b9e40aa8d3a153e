"""The cabinet's data through the viewer: accounts, meters, histories, linking (SECURITY.md 18)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from models.accounts import Account
from models.auth import SecurityEvent
from models.billing import Payment
from models.metering import Meter
from services.core.clock import clock
from tests.support import (
    ACCOUNT_1,
    ACCOUNT_2,
    ACCOUNT_3,
    ACCOUNT_5,
    ACCOUNT_6,
    AMOUNT_2,
    AMOUNT_3,
    AMOUNT_5,
    AMOUNT_6,
    Api,
    codes,
    count_queries,
)

pytestmark = pytest.mark.usefixtures("demo_data")

DASHBOARD = """
query Dashboard($n: Int!) {
  me {
    email
    accounts {
      id number holderName address tariff balance balanceOn
      meters { id serial model digits zones { number name } lastReading { takenOn values { zone value } } }
      readings(first: $n) { totalCount pageInfo { hasNextPage endCursor }
        nodes { id takenOn source status values { zone name value } } }
      payments(first: $n) { totalCount pageInfo { hasNextPage endCursor }
        nodes { id amount paidAt channel } }
      receipts(first: $n) { totalCount pageInfo { hasNextPage endCursor }
        nodes { id period issuedOn dueOn openingBalance charged paid amountDue
          lines { zone name previous current consumption rate amount } } }
    }
  }
}"""


def gid(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


async def test_the_dashboard(api: Api) -> None:
    user = await api.signed_up()
    data = await user.data(DASHBOARD, {"n": 12})
    [account] = data["me"]["accounts"]
    stored = await Account.get(number="001234567890")
    assert account["number"] == "001234567890"
    assert account["holderName"] == "Иванова Мария Петровна"
    assert account["balance"] == f"{stored.balance:.2f}"
    [meter] = account["meters"]
    assert [z["name"] for z in meter["zones"]] == ["День", "Ночь"]
    assert len(meter["lastReading"]["values"]) == 2
    payments = account["payments"]
    assert payments["totalCount"] == await Payment.filter(account=stored).count()
    assert len(payments["nodes"]) == 12 and payments["pageInfo"]["hasNextPage"]
    paid_at = [p["paidAt"] for p in payments["nodes"]]
    assert paid_at == sorted(paid_at, reverse=True)
    assert {p["amount"] for p in payments["nodes"]} == {"1500.00"}
    receipts = account["receipts"]["nodes"]
    assert receipts[0]["lines"][0]["name"] == "День"
    periods = [r["period"] for r in receipts]
    assert periods == sorted(periods, reverse=True)
    assert account["readings"]["totalCount"] == 25


async def test_english_names(api: Api) -> None:
    user = await api.signed_up()
    data = await user.data(DASHBOARD, {"n": 1}, accept_language="en")
    meter = data["me"]["accounts"][0]["meters"][0]
    assert [z["name"] for z in meter["zones"]] == ["Day", "Night"]


async def test_paging_walks_the_whole_history_once(api: Api) -> None:
    user = await api.signed_up()
    account_id = (await user.data("{ me { accounts { id } } }"))["me"]["accounts"][0]["id"]
    query = """query($id: ID!, $after: String) { account(id: $id) {
        payments(first: 7, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
          edges { cursor node { id paidAt } } } } }"""
    seen, after, pages = [], None, 0
    while True:
        page = (await user.data(query, {"id": account_id, "after": after}))["account"]["payments"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"]
    assert pages == -(-len(seen) // 7)


async def test_date_filters(api: Api) -> None:
    user = await api.signed_up()
    query = """{ me { accounts {
        payments(from: "2026-01-01", to: "2026-03-31") { totalCount nodes { paidAt } }
        receipts(from: "2026-01-15", to: "2026-02-01") { totalCount nodes { period } }
        readings(from: "2026-01-25", to: "2026-01-25") { totalCount nodes { takenOn } } } } }"""
    account = (await user.data(query))["me"]["accounts"][0]
    assert account["payments"]["totalCount"] == 3
    assert all(p["paidAt"].startswith("2026-0") for p in account["payments"]["nodes"])
    assert [r["period"] for r in account["receipts"]["nodes"]] == ["2026-02", "2026-01"]
    assert [r["takenOn"] for r in account["readings"]["nodes"]] == ["2026-01-25"]


async def test_page_size_limits_and_bad_cursors(api: Api) -> None:
    user = await api.signed_up()
    body = await user("{ me { accounts { payments(first: 101) { totalCount } } } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await user('{ me { accounts { payments(after: "garbage") { totalCount } } } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in str(body)


async def test_dashboard_queries_do_not_grow_with_accounts(api: Api) -> None:
    one = await api.signed_up()
    with count_queries() as single:
        data = await one.data(DASHBOARD, {"n": 12})
    assert len(data["me"]["accounts"]) == 1

    five = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    fifth = await Account.create(number="009900000001", holder_name="Петров С. И.", address="x")
    paid_at = clock.now() - dt.timedelta(days=10)  # a fresh one would hold the link
    await Payment.create(
        account=fifth, amount="321.00", paid_at=paid_at, channel="Касса", external_id="P5"
    )
    for number, amount in (
        (ACCOUNT_3, AMOUNT_3),
        (ACCOUNT_5, AMOUNT_5),
        (ACCOUNT_6, AMOUNT_6),
        (fifth.number, "321"),
    ):
        assert (await five.link(number, amount))["userErrors"] == []
    await Meter.create(
        account=await Account.get(number=ACCOUNT_2), serial="EXTRA-1", zones=1, digits=6
    )
    with count_queries() as many:
        data = await five.data(DASHBOARD, {"n": 12})
    assert len(data["me"]["accounts"]) == 5
    assert len(many.queries) == len(single.queries), (single.queries, many.queries)
    assert 5 <= len(single.queries) <= 12, single.queries


async def test_a_first_page_and_its_total_are_one_query(api: Api) -> None:
    """The query of a first page counts the whole list too (COUNT(*) OVER the owner's
    rows): no count query of its own. A later page's rows leave out those before the
    cursor, so its total still comes from a count query - and both totals agree."""
    user = await api.signed_up()
    query = """query ($after: String) { me { accounts {
        payments(first: 2, after: $after) { totalCount pageInfo { endCursor } } } } }"""
    with count_queries() as first:
        page = (await user.data(query))["me"]["accounts"][0]["payments"]
    assert not [q for q in first.queries if "count(*) AS n" in q], first.queries
    assert page["totalCount"] == await Payment.filter(account__number=ACCOUNT_1).count() > 2
    with count_queries() as later:
        after = {"after": page["pageInfo"]["endCursor"]}
        next_page = (await user.data(query, after))["me"]["accounts"][0]["payments"]
    assert len([q for q in later.queries if "count(*) AS n" in q]) == 1, later.queries
    assert next_page["totalCount"] == page["totalCount"]


async def test_link_and_unlink(api: Api) -> None:
    user = await api.signed_up()
    linked = await user.link(" 0012 3456 7891 ", "2 750,00")
    assert linked["userErrors"] == []
    assert linked["account"]["number"] == ACCOUNT_2
    numbers = [
        a["number"] for a in (await user.data("{ me { accounts { number } } }"))["me"]["accounts"]
    ]
    assert numbers == ["001234567890", ACCOUNT_2]
    assert codes(await user.link(ACCOUNT_2, AMOUNT_2)) == ["ALREADY_LINKED"]
    other = await api.signed_up(ACCOUNT_3, AMOUNT_3, "kuznetsova@mail.ru")
    assert codes(await other.link(ACCOUNT_2, AMOUNT_2)) == ["ALREADY_REGISTERED"]

    unlink = "mutation($id: ID!) { unlinkAccount(input: {accountId: $id}) { unlinkedAccountId userErrors { code } } }"
    result = (await user.data(unlink, {"id": linked["account"]["id"]}))["unlinkAccount"]
    assert result == {"unlinkedAccountId": linked["account"]["id"], "userErrors": []}
    last = (await user.data("{ me { accounts { id } } }"))["me"]["accounts"][0]["id"]
    assert codes((await user.data(unlink, {"id": last}))["unlinkAccount"]) == ["LAST_ACCOUNT"]
    kinds = [e.kind for e in await SecurityEvent.all().order_by("id")]
    assert "account_unlinked" in kinds


async def test_others_objects_look_missing(api: Api) -> None:
    ivanova = await api.signed_up()
    petrov = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    petrov_account = (await petrov.data("{ me { accounts { id meters { id } } } }"))["me"][
        "accounts"
    ][0]
    own_account = (await ivanova.data("{ me { accounts { id } } }"))["me"]["accounts"][0]

    query = "query($id: ID!) { account(id: $id) { number } }"
    assert (await ivanova.data(query, {"id": petrov_account["id"]}))["account"] is None
    assert (await ivanova.data(query, {"id": gid("Account", 999999)}))["account"] is None
    assert (await ivanova.data(query, {"id": "not-an-id"}))["account"] is None
    assert (await ivanova.data(query, {"id": gid("Payment", 1)}))["account"] is None

    readings = """query($id: ID!, $meter: ID!) { account(id: $id) {
        readings(meterId: $meter) { totalCount nodes { id } } } }"""
    other_meter = petrov_account["meters"][0]["id"]
    data = await ivanova.data(readings, {"id": own_account["id"], "meter": other_meter})
    assert data["account"]["readings"] == {"totalCount": 0, "nodes": []}

    unlink = "mutation($id: ID!) { unlinkAccount(input: {accountId: $id}) { userErrors { code } } }"
    result = (await ivanova.data(unlink, {"id": petrov_account["id"]}))["unlinkAccount"]
    assert codes(result) == ["NOT_FOUND"]
    assert (await petrov.data("{ me { accounts { id } } }"))["me"]["accounts"]


async def test_security_events(api: Api) -> None:
    user = await api.signed_up()
    await user.link(ACCOUNT_2, AMOUNT_2)
    await api.login("ivanova@mail.ru", "wrong-password")
    query = """{ me { securityEvents(first: 3) { totalCount
        nodes { kind ip device detail at } pageInfo { hasNextPage } } } }"""
    events = (await user.data(query))["me"]["securityEvents"]
    assert events["totalCount"] == 6  # REGISTERED, ACCOUNT_LINKED, PRIVACY_NOTICE_ACCEPTED, ...
    assert [e["kind"] for e in events["nodes"]] == ["LOGIN_FAILED", "ACCOUNT_LINKED", "LOGIN"]
    assert events["nodes"][1]["detail"] == ACCOUNT_2
    assert events["nodes"][0]["ip"] == "203.0.113.7"
    assert events["pageInfo"]["hasNextPage"]
