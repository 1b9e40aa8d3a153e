"""The Node interface over HTTP: every object with a global id comes back by `node(id:)`
and `nodes(ids:)` for whoever reaches it through the other fields, and for nobody else
(SECURITY.md 18); wrong-kind, unknown and malformed ids are null; `nodes` is capped and
costed; deep links (`receipt`, `meterReading`) and Relay edges work as documented in
docs/api.md."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from services.core.ids import encode_id
from tests.questions.support import answer, asked, specialist, uploaded
from tests.support import ACCOUNT_3, AMOUNT_3, Api, count_queries

pytestmark = pytest.mark.usefixtures("demo_data")

MINE = """{ me { id sessions { id } securityEvents(first: 1) { nodes { id } }
  accounts { id eReceipt { id enabled } meters { id serial }
    readings(first: 1) { nodes { id takenOn } edges { cursor node { id } } pageInfo { endCursor } }
    payments(first: 1) { nodes { id amount } }
    receipts(first: 1) { nodes { id period amountDue lines { zone amount } } } } } }"""

PAY = """mutation($input: PayBillInput!) { payBill(input: $input) {
  payment { id } userErrors { code } } }"""

NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def ids_of(user: Api) -> dict[str, str]:
    """One id of every kind the customer owns, by kind (the type's name)."""
    me = (await user.data(MINE))["me"]
    account = next(a for a in me["accounts"])
    paid = (
        await user.data(
            PAY, {"input": {"accountId": account["id"], "amount": "100", "idempotencyKey": "k"}}
        )
    )["payBill"]
    assert paid["userErrors"] == [], paid
    question = await asked(user, accountId=account["id"], attachmentIds=[await uploaded(user)])
    [message] = question["messages"]["nodes"]
    found = {
        "User": me["id"],
        "Session": me["sessions"][0]["id"],
        "SecurityEvent": me["securityEvents"]["nodes"][0]["id"],
        "Account": account["id"],
        "EReceipt": account["eReceipt"]["id"],
        "Meter": account["meters"][0]["id"],
        "MeterReading": account["readings"]["nodes"][0]["id"],
        "Payment": account["payments"]["nodes"][0]["id"],
        "Receipt": account["receipts"]["nodes"][0]["id"],
        "OnlinePayment": paid["payment"]["id"],
        "Question": question["id"],
        "Message": message["id"],
        "Attachment": message["attachments"][0]["id"],
    }
    assert len(set(found.values())) == len(found)  # global: no two objects share an id
    return found


def pk_of(id: str) -> int:
    return int(base64.urlsafe_b64decode(id + "=" * (-len(id) % 4)).decode().split(":")[1])


async def nodes(user: Api, ids: list[str]) -> list[dict[str, Any] | None]:
    return (await user.data(NODES, {"ids": ids}))["nodes"]


def typed(found: dict[str, str]) -> list[dict[str, str]]:
    return [{"__typename": kind, "id": id} for kind, id in found.items()]


async def test_every_node_comes_back_for_its_owner_and_for_nobody_else(api: Api) -> None:
    # Given a customer with one object of every kind, and another customer
    owner = await api.signed_up()
    other = await api.signed_up(ACCOUNT_3, AMOUNT_3, "kuznetsova@mail.ru")
    mine = await ids_of(owner)

    # Then each comes back for its owner, by nodes and by node, as its own type
    assert await nodes(owner, list(mine.values())) == typed(mine)
    for kind, id in mine.items():
        assert (await owner.data(NODE, {"id": id}))["node"] == {"__typename": kind, "id": id}

    # And for the other customer every one of them is null, as if it did not exist
    assert await nodes(other, list(mine.values())) == [None] * len(mine)
    body = await other(NODE, {"id": mine["Receipt"]})
    assert body == {"data": {"node": None}}

    # While the other customer's own objects come back for them
    theirs = await ids_of(other)
    assert await nodes(other, list(theirs.values())) == typed(theirs)


async def test_a_node_has_the_fields_of_the_list_it_came_from(api: Api) -> None:
    owner = await api.signed_up()
    [account] = (await owner.data(MINE))["me"]["accounts"]
    receipt = account["receipts"]["nodes"][0]
    fields = "id period amountDue lines { zone amount }"

    # A push about a new bill carries the receipt's id: the app opens it by node or receipt
    by_node = await owner.data(
        f"query($id: ID!) {{ node(id: $id) {{ ... on Receipt {{ {fields} }} }} }}",
        {"id": receipt["id"]},
    )
    by_receipt = await owner.data(
        f"query($id: ID!) {{ receipt(id: $id) {{ {fields} }} }}", {"id": receipt["id"]}
    )
    assert by_node["node"] == by_receipt["receipt"] == receipt

    reading = account["readings"]["nodes"][0]
    found = await owner.data(
        "query($id: ID!) { meterReading(id: $id) { id takenOn } }", {"id": reading["id"]}
    )
    assert found["meterReading"] == reading

    # And connections offer Relay edges beside nodes
    readings = account["readings"]
    assert [edge["node"] for edge in readings["edges"]] == [{"id": reading["id"]}]
    assert readings["edges"][-1]["cursor"] == readings["pageInfo"]["endCursor"]


async def test_nodes_are_batched_per_kind(api: Api) -> None:
    # Given a customer's receipts, payments and readings of a year
    owner = await api.signed_up()
    lists = ["receipts", "payments", "readings"]
    query = " ".join(f"{name}(first: 12) {{ nodes {{ id }} }}" for name in lists)
    [account] = (await owner.data(f"{{ me {{ accounts {{ {query} }} }} }}"))["me"]["accounts"]
    one = [account[name]["nodes"][0]["id"] for name in lists]
    every = [n["id"] for name in lists for n in account[name]["nodes"]]
    assert len(every) > 2 * len(one)
    fields = "{ __typename id ... on Receipt { period } ... on Payment { amount } }"
    document = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {fields} }}"

    # When nodes asks for one of each, then for all of them
    with count_queries() as few:
        assert None not in (await owner.data(document, {"ids": one}))["nodes"]
    with count_queries() as many:
        assert None not in (await owner.data(document, {"ids": every}))["nodes"]

    # Then the number of SQL queries is the same: one per kind, not one per id
    assert len(many.queries) == len(few.queries), (few.queries, many.queries)


async def test_wrong_kind_unknown_and_malformed_ids_are_null(api: Api) -> None:
    owner = await api.signed_up()
    mine = await ids_of(owner)
    receipt_pk = pk_of(mine["Receipt"])
    wrong = [
        encode_id("Receipt", 10**9),  # no such receipt
        encode_id("Invoice", receipt_pk),  # no such kind
        encode_id("Specialist", 1),  # specialists are for specialists
        mine["Receipt"] + "=",  # another spelling of a real id
        base64.b64encode(f"Receipt:{receipt_pk}".encode()).decode() + "==",
        "not-an-id",
        "",
        "%%%",
        "x" * 500,
    ]
    assert await nodes(owner, wrong) == [None] * len(wrong)
    # The typed deep links take only their own kind
    assert (
        await owner.data(
            "query($id: ID!) { meterReading(id: $id) { id } }", {"id": mine["Receipt"]}
        )
    ) == {"meterReading": None}
    assert (
        await owner.data(
            "query($id: ID!) { receipt(id: $id) { id } }", {"id": mine["MeterReading"]}
        )
    ) == {"receipt": None}


async def test_nodes_is_capped_and_costed(api: Api) -> None:
    owner = await api.signed_up()
    account = (await owner.data("{ me { accounts { id } } }"))["me"]["accounts"][0]["id"]

    assert await nodes(owner, [account] * 100) == [{"__typename": "Account", "id": account}] * 100
    body = await owner(NODES, {"ids": [account] * 101})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert body["data"] is None

    # Each id counts as one object: 30 literal ids with a page of 100 each are too many
    ids = ", ".join(f'"{account}"' for _ in range(30))
    costly = f"{{ nodes(ids: [{ids}]) {{ ... on Account {{ readings(first: 100) {{ nodes {{ id takenOn }} }} }} }} }}"
    body = await owner(costly)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["extensions"]["cost"] > 30 * 100
    # And so does a list given in a variable
    by_variable = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Account { readings(first: 100) { nodes { id } } } } }"
    body = await owner(by_variable, {"ids": [account] * 30})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]


async def test_a_specialist_reaches_what_the_question_fields_show(api: Api) -> None:
    # Given a customer who asked about an account, a customer who never asked, a specialist
    customer = await api.signed_up()
    mine = await ids_of(customer)
    bystander = await api.signed_up(ACCOUNT_3, AMOUNT_3, "kuznetsova@mail.ru")
    untouched = await ids_of_accounts(bystander)
    olga = await specialist(api)
    answered = await answer(olga, mine["Question"])
    asker = await olga.data(
        "query($id: ID!) { question(id: $id) { customer { id email } } }", {"id": mine["Question"]}
    )
    olgas = {
        "Specialist": (await olga.data("{ specialists { id } }"))["specialists"][0]["id"],
        "Message": answered["message"]["id"],
        "Customer": asker["question"]["customer"]["id"],
    }

    # Then the specialist reaches the question, its messages and photos, the account it is
    # about and what hangs off it, and other specialists
    staff_kinds = [
        "Question",
        "Message",
        "Attachment",
        "Account",
        "EReceipt",
        "Meter",
        "MeterReading",
        "Payment",
        "Receipt",
    ]
    seen = [(kind, mine[kind]) for kind in staff_kinds] + list(olgas.items())
    assert await nodes(olga, [id for _, id in seen]) == [
        {"__typename": kind, "id": id} for kind, id in seen
    ]

    # But not the customer's login, devices, security log or online payments
    private = [mine[k] for k in ("User", "Session", "SecurityEvent", "OnlinePayment")]
    assert await nodes(olga, private) == [None] * 4
    # Nor a customer who never asked anything, or their accounts
    bystander_pk = pk_of((await bystander.data("{ me { id } }"))["me"]["id"])
    untouched.append(encode_id("Customer", bystander_pk))
    assert await nodes(olga, untouched) == [None] * len(untouched)

    # And the customer sees the specialist's answer, not the specialist, nor themselves as
    # specialists see them
    assert await nodes(customer, [olgas["Message"], olgas["Specialist"], olgas["Customer"]]) == [
        {"__typename": "Message", "id": olgas["Message"]},
        None,
        None,
    ]


async def ids_of_accounts(user: Api) -> list[str]:
    query = """{ me { accounts { id eReceipt { id } meters { id }
      receipts(first: 1) { nodes { id } } payments(first: 1) { nodes { id } } } } }"""
    found = []
    for account in (await user.data(query))["me"]["accounts"]:
        found += [account["id"], account["eReceipt"]["id"], *(m["id"] for m in account["meters"])]
        found += [n["id"] for n in account["receipts"]["nodes"] + account["payments"]["nodes"]]
    return found


async def test_an_unlinked_account_is_gone_for_its_former_cabinet(api: Api) -> None:
    owner = await api.signed_up()
    second = await owner.link(ACCOUNT_3, AMOUNT_3)
    assert second["userErrors"] == [], second
    before = await ids_of_accounts(owner)
    unlinked = await owner.data(
        "mutation($id: ID!) { unlinkAccount(input: {accountId: $id}) { userErrors { code } } }",
        {"id": second["account"]["id"]},
    )
    assert unlinked["unlinkAccount"]["userErrors"] == []
    after = await ids_of_accounts(owner)
    gone = [id for id in before if id not in after]
    assert gone and await nodes(owner, gone) == [None] * len(gone)
    assert None not in await nodes(owner, after)


async def test_node_needs_a_login(api: Api) -> None:
    owner = await api.signed_up()
    mine = (await owner.data("{ me { id } }"))["me"]["id"]
    api.http.cookies.clear()  # the login left its session cookie in the client
    body = await api(NODE, {"id": mine})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
