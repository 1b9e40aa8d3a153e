"""A specialist's view of a customer's data is accountable: written to the customer's
security log (STAFF_VIEWED), once an hour per specialist and question; a specialist
reaches a customer only through one of their questions. And what the console needs
of the API: answers with photos, reopening a closed question."""

from __future__ import annotations

import datetime as dt

import pytest

from models.auth import SecurityEvent, SecurityEventKind
from services.core.clock import clock
from services.core.ids import encode_id, parse_id
from tests.questions.support import (
    CLOSE,
    answer,
    asked,
    fetch,
    specialist,
    uploaded,
)
from tests.support import ACCOUNT_2, AMOUNT_2, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

CONTEXT = """query($id: ID!) { question(id: $id) { id customer { email accounts {
  number balance readings(first: 3) { nodes { takenOn } }
  payments(first: 3) { nodes { amount } } receipts(first: 3) { nodes { period amountDue } }
} } } }"""
ABOUT = """query($id: ID!) { question(id: $id) { id account { number balance } } }"""
LOG = """{ me { securityEvents(first: 50) { nodes { kind detail ip device } } } }"""
ANSWER = """mutation($input: AnswerQuestionInput!) { answerQuestion(input: $input) {
  message { id attachments { id url } } userErrors { field code } } }"""
REOPEN = """mutation($id: ID!) { reopenQuestion(input: {questionId: $id}) {
  question { id status closedAt } userErrors { field code } } }"""


async def staff_views(user: Api) -> list[dict]:
    events = (await user.data(LOG))["me"]["securityEvents"]["nodes"]
    return [e for e in events if e["kind"] == "STAFF_VIEWED"]


async def test_a_specialists_view_is_in_the_customers_log_once_an_hour(api: Api) -> None:
    customer = await api.signed_up()
    account = (await customer.data("{ me { accounts { id } } }"))["me"]["accounts"][0]["id"]
    question = await asked(customer, accountId=account)
    olga = await specialist(api)
    olga_id = (await olga.data("{ me { id } }"))["me"]["id"]
    # Reading the question and its thread alone shows nothing of the customer's data
    await olga.data("query($id: ID!) { question(id: $id) { subject } }", {"id": question["id"]})
    assert await staff_views(customer) == []

    seen = await olga.data(CONTEXT, {"id": question["id"]})
    assert seen["question"]["customer"]["email"] == "ivanova@mail.ru"
    [event] = await staff_views(customer)
    assert event["detail"].startswith(f"{question['id']} ")
    assert event["detail"].endswith(" Ольга")
    assert event["ip"] == ""  # the specialist's network is none of the customer's business
    # Who: the specialist by their Specialist id (the same person as their own `me`)
    assert event["detail"].split()[1] == encode_id("Specialist", parse_id(olga_id)[1])
    assert await SecurityEvent.filter(kind=SecurityEventKind.STAFF_VIEWED).count() == 1
    # Again within the hour, through `customer` or `account`: not written again
    await olga.data(CONTEXT, {"id": question["id"]})
    await olga.data(ABOUT, {"id": question["id"]})
    assert len(await staff_views(customer)) == 1
    # An hour later it is
    clock.advance(dt.timedelta(hours=1, seconds=1))
    about = await olga.data(ABOUT, {"id": question["id"]})
    assert about["question"]["account"]["number"]
    assert len(await staff_views(customer)) == 2
    # Another specialist is another view
    maria = await specialist(api, "maria@energosbyt.example", "Мария")
    await maria.data(CONTEXT, {"id": question["id"]})
    views = await staff_views(customer)
    assert len(views) == 3 and views[0]["detail"].endswith(" Мария")


async def test_each_question_is_its_own_view(api: Api) -> None:
    customer = await api.signed_up()
    first, second = await asked(customer), await asked(customer, subject="Второй вопрос")
    olga = await specialist(api)
    for question in (first, second):
        await olga.data(CONTEXT, {"id": question["id"]})
    details = {e["detail"].split()[0] for e in await staff_views(customer)}
    assert details == {first["id"], second["id"]}


async def test_a_specialist_reaches_a_customer_only_through_a_question(api: Api) -> None:
    customer = await api.signed_up()
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    await asked(customer)
    olga = await specialist(api)
    # No field gives a specialist a customer or an account without a question
    account = (await customer.data("{ me { accounts { id } } }"))["me"]["accounts"][0]["id"]
    other_account = (await other.data("{ me { accounts { id } } }"))["me"]["accounts"][0]["id"]
    assert (await olga.data(f'{{ account(id: "{account}") {{ id }} }}'))["account"] is None
    assert (await olga.data("{ me { accounts { id } } }"))["me"]["accounts"] == []
    # node(id:) reaches an account only when a question leads to it: not petrov's
    body = await olga.data(f'{{ node(id: "{other_account}") {{ id }} }}')
    assert body["node"] is None
    assert await staff_views(other) == []


async def test_the_customers_own_reading_is_not_a_staff_view(api: Api) -> None:
    customer = await api.signed_up()
    question = await asked(customer)
    await customer.data(ABOUT, {"id": question["id"]})
    assert await staff_views(customer) == []


async def test_a_specialist_answers_with_a_photo_the_customer_sees(api: Api) -> None:
    customer = await api.signed_up()
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    question = await asked(customer)
    olga = await specialist(api)
    picture = await uploaded(olga)
    done = await olga.data(
        ANSWER,
        {
            "input": {
                "questionId": question["id"],
                "body": "Вот где номер",
                "attachmentIds": [picture],
            }
        },
    )
    payload = done["answerQuestion"]
    assert payload["userErrors"] == []
    [sent] = payload["message"]["attachments"]
    assert (await fetch(customer, sent["url"])).status_code == 200
    assert (await fetch(other, sent["url"])).status_code == 404
    # The same photo cannot go twice, nor a customer's pending one
    again = await olga.data(
        ANSWER, {"input": {"questionId": question["id"], "body": "x", "attachmentIds": [picture]}}
    )
    assert codes(again["answerQuestion"]) == ["ATTACHMENT_NOT_FOUND"]
    customers = await uploaded(customer)
    stolen = await olga.data(
        ANSWER, {"input": {"questionId": question["id"], "body": "x", "attachmentIds": [customers]}}
    )
    assert codes(stolen["answerQuestion"]) == ["ATTACHMENT_NOT_FOUND"]


async def test_a_specialist_reopens_a_closed_question(api: Api) -> None:
    customer = await api.signed_up()
    question = await asked(customer)
    olga = await specialist(api)
    await answer(olga, question["id"])
    closed = await customer.data(CLOSE, {"id": question["id"]})
    assert closed["closeQuestion"]["question"]["status"] == "CLOSED"
    reopened = (await olga.data(REOPEN, {"id": question["id"]}))["reopenQuestion"]
    assert reopened["userErrors"] == []
    assert reopened["question"]["status"] == "ANSWERED"  # the specialist wrote last
    assert reopened["question"]["closedAt"] is None
    # A question whose customer wrote last waits for a specialist again
    waiting = await asked(customer, subject="Ещё вопрос")
    await olga.data(CLOSE, {"id": waiting["id"]})
    again = (await olga.data(REOPEN, {"id": waiting["id"]}))["reopenQuestion"]
    assert again["question"]["status"] == "OPEN"
    # Customers cannot; a missing id is NOT_FOUND
    body = await customer(REOPEN, {"id": question["id"]})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    missing = await olga.data(REOPEN, {"id": encode_id("Question", 10**9)})
    assert codes(missing["reopenQuestion"]) == ["NOT_FOUND"]


async def test_fetching_a_customers_data_by_id_is_a_view_too(api: Api) -> None:
    customer = await api.signed_up()
    question = await asked(customer)
    olga = await specialist(api)
    account = (await customer.data("{ me { accounts { id } } }"))["me"]["accounts"][0]["id"]
    # node(id:) of the customer's account, through no question's field: still written
    found = await olga.data(f'{{ node(id: "{account}") {{ ... on Account {{ balance }} }} }}')
    assert found["node"]["balance"]
    [event] = await staff_views(customer)
    assert event["detail"].startswith(f"{question['id']} ")  # the question that led there
    # and within the hour not again, through nodes(ids:) either
    await olga.data(f'{{ nodes(ids: ["{account}"]) {{ id }} }}')
    assert len(await staff_views(customer)) == 1
    # Nothing found (another kind, missing) writes nothing for anyone
    missing = encode_id("Account", 10**9)
    assert (await olga.data(f'{{ node(id: "{missing}") {{ id }} }}'))["node"] is None
    assert await SecurityEvent.filter(kind=SecurityEventKind.STAFF_VIEWED).count() == 1
