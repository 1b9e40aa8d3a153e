"""Questions to specialists over HTTP: the customer's and the specialist's flows, the
queue, the limits, and who may see and do what (SECURITY.md 18)."""

from __future__ import annotations

import datetime as dt

import pytest

from models.accounts import Account
from models.cabinets import Cabinet
from models.questions import Question, QuestionMessage
from services.core.clock import clock
from services.core.ids import encode_id
from tests.conftest import with_settings
from tests.questions.support import (
    ASK,
    ASSIGN,
    CLOSE,
    MARK_READ,
    QUESTION,
    QUEUE,
    REPLY,
    answer,
    ask,
    asked,
    question_input,
    specialist,
    uploaded,
)
from tests.support import ACCOUNT_2, ACCOUNT_3, AMOUNT_2, AMOUNT_3, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

MY_QUESTIONS = """query($status: QuestionStatus) { me { unreadAnswers
  questions(first: 10, status: $status) { totalCount nodes { id subject status unreadCount } } } }"""


async def account_id(user: Api, number: str | None = None) -> str:
    accounts = (await user.data("{ me { accounts { id number } } }"))["me"]["accounts"]
    return next(a["id"] for a in accounts if number is None or a["number"] == number)


def forbidden(body: dict) -> bool:
    return [e["extensions"]["code"] for e in body.get("errors", [])] == ["FORBIDDEN"]


# ---------------------------------------------------------------- the flows


async def test_a_customer_asks_and_a_specialist_answers(api: Api) -> None:
    # Given a customer with a photo of the meter, and a specialist
    customer = await api.signed_up()
    olga = await specialist(api)
    photo_id = await uploaded(customer)

    # When the customer asks about their account, with the photo
    question = await asked(customer, accountId=await account_id(customer), attachmentIds=[photo_id])

    # Then it is theirs, open, about that account, with the photo
    assert question["status"] == "OPEN"
    assert question["account"]["number"] == "001234567890"
    [first] = question["messages"]["nodes"]
    assert first["author"] == "CUSTOMER" and first["authorName"] is None
    assert [a["id"] for a in first["attachments"]] == [photo_id]
    assert first["attachments"][0]["url"] == f"/attachments/{photo_id}"
    mine = (await customer.data(MY_QUESTIONS))["me"]
    assert mine["questions"]["totalCount"] == 1 and mine["unreadAnswers"] == 0

    # And the specialist finds it in the queue with the customer's account
    queue = (await olga.data(QUEUE))["staffQuestions"]
    [queued] = queue["nodes"]
    assert queued["id"] == question["id"] and queued["assignee"] is None
    assert queued["account"]["holderName"] == "Иванова Мария Петровна"
    assert (
        queued["account"]["balance"] == f"{(await Account.get(number='001234567890')).balance:.2f}"
    )
    assert queued["customer"]["email"] == "ivanova@mail.ru"
    assert [a["number"] for a in queued["customer"]["accounts"]] == ["001234567890"]

    # When the specialist answers
    answered = await answer(olga, question["id"], "Показания приняты, спасибо.")
    assert answered["userErrors"] == []
    assert answered["question"]["status"] == "ANSWERED"
    assert answered["question"]["assignee"] == {"displayName": "Ольга"}  # took it by answering
    assert answered["message"]["authorName"] == "Ольга"

    # Then the customer sees an unread answer, signed with the display name only
    mine = (await customer.data(MY_QUESTIONS))["me"]
    assert mine["unreadAnswers"] == 1
    assert mine["questions"]["nodes"][0]["unreadCount"] == 1
    seen = (await customer.data(QUESTION, {"id": question["id"]}))["question"]
    latest = seen["messages"]["nodes"][0]  # newest first
    assert (latest["author"], latest["authorName"], latest["readAt"]) == (
        "SPECIALIST",
        "Ольга",
        None,
    )
    assert "olga@" not in str(seen)
    assert seen["messages"]["nodes"][1]["readAt"] is not None  # the specialist answered it

    # When the customer marks it read, the badge clears
    read = (await customer.data(MARK_READ, {"id": question["id"]}))["markQuestionRead"]
    assert read == {
        "question": {"id": question["id"], "unreadCount": 0},
        "unreadAnswers": 0,
        "userErrors": [],
    }

    # When the customer writes again, the question waits for a specialist again
    replied = (
        await customer.data(
            REPLY, {"input": {"questionId": question["id"], "body": "А перерасчёт будет?"}}
        )
    )["replyToQuestion"]
    assert replied["userErrors"] == []
    assert replied["question"]["status"] == "OPEN"
    assert replied["message"]["author"] == "CUSTOMER"
    assert replied["question"]["messages"]["totalCount"] == 3

    # And once closed, nobody writes to it any more
    closed = (await customer.data(CLOSE, {"id": question["id"]}))["closeQuestion"]
    assert closed["question"]["status"] == "CLOSED" and closed["question"]["closedAt"]
    again = (await customer.data(REPLY, {"input": {"questionId": question["id"], "body": "Ещё"}}))[
        "replyToQuestion"
    ]
    assert codes(again) == ["QUESTION_CLOSED"]
    assert codes(await answer(olga, question["id"])) == ["QUESTION_CLOSED"]
    assert (await customer.data(CLOSE, {"id": question["id"]}))["closeQuestion"]["userErrors"] == []


async def test_a_question_about_no_account(api: Api) -> None:
    customer = await api.signed_up()
    question = await asked(customer, topic="E_RECEIPT", subject="Квитанция на почту")
    assert question["account"] is None and question["topic"] == "E_RECEIPT"


async def test_the_queue_serves_the_longest_wait_first(api: Api) -> None:
    # Given three customers who asked a minute apart
    first = await api.signed_up()
    second = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    third = await api.signed_up(ACCOUNT_3, AMOUNT_3, "kuznetsova@mail.ru")
    olga = await specialist(api)
    ids = []
    for user, topic in ((first, "BILLING"), (second, "METER"), (third, "BILLING")):
        ids.append((await asked(user, topic=topic, subject=topic))["id"])
        clock.advance(dt.timedelta(minutes=1))

    # Then the queue pages through them oldest first
    seen, after = [], None
    while True:
        page = (await olga.data(QUEUE, {"first": 1, "after": after}))["staffQuestions"]
        assert page["totalCount"] == 3
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids
    billing = (await olga.data(QUEUE, {"topic": "BILLING"}))["staffQuestions"]["nodes"]
    assert [n["id"] for n in billing] == [ids[0], ids[2]]

    # When the oldest is answered it leaves the open queue; a reply puts it back, last
    await answer(olga, ids[0])
    open_ids = [n["id"] for n in (await olga.data(QUEUE))["staffQuestions"]["nodes"]]
    assert open_ids == ids[1:]
    answered = (await olga.data(QUEUE, {"status": "ANSWERED"}))["staffQuestions"]["nodes"]
    assert [n["id"] for n in answered] == [ids[0]]
    await first.data(REPLY, {"input": {"questionId": ids[0], "body": "Не понял ответа."}})
    open_ids = [n["id"] for n in (await olga.data(QUEUE))["staffQuestions"]["nodes"]]
    assert open_ids == [ids[1], ids[2], ids[0]]
    everything = (await olga.data(QUEUE, {"status": None}))["staffQuestions"]
    assert everything["totalCount"] == 3

    # And assignment filters it: mine, and nobody's
    taken = (await olga.data(ASSIGN, {"input": {"questionId": ids[2]}}))["assignQuestion"]
    assert taken["question"]["assignee"]["displayName"] == "Ольга"
    mine = (await olga.data(QUEUE, {"assignee": "ME"}))["staffQuestions"]["nodes"]
    assert {n["id"] for n in mine} == {ids[0], ids[2]}
    nobodys = (await olga.data(QUEUE, {"assignee": "NOBODY"}))["staffQuestions"]["nodes"]
    assert [n["id"] for n in nobodys] == [ids[1]]


async def test_assigning_to_another_specialist(api: Api) -> None:
    customer = await api.signed_up()
    olga = await specialist(api)
    await specialist(api, "pavel@energosbyt.example", "Павел")
    question = await asked(customer)
    people = (await olga.data("{ specialists { id email displayName } }"))["specialists"]
    pavel = next(p for p in people if p["displayName"] == "Павел")
    given = (
        await olga.data(
            ASSIGN, {"input": {"questionId": question["id"], "specialistId": pavel["id"]}}
        )
    )["assignQuestion"]
    assert given["question"]["assignee"] == {"id": pavel["id"], "displayName": "Павел"}
    # A customer's cabinet is no specialist, nor is a missing one or an id of another kind
    customer_cabinet = await Cabinet.get(email="ivanova@mail.ru")
    for wrong in (
        encode_id("Specialist", customer_cabinet.id),
        encode_id("Specialist", 10**9),
        await account_id(customer),
        "garbage",
    ):
        refused = (
            await olga.data(
                ASSIGN, {"input": {"questionId": question["id"], "specialistId": wrong}}
            )
        )["assignQuestion"]
        assert refused["userErrors"] == [
            {"field": ["specialistId"], "code": "SPECIALIST_NOT_FOUND"}
        ]


async def test_a_specialist_closes_a_question(api: Api) -> None:
    customer = await api.signed_up()
    olga = await specialist(api)
    question = await asked(customer)
    closed = (await olga.data(CLOSE, {"id": question["id"]}))["closeQuestion"]
    assert closed["question"]["status"] == "CLOSED"
    mine = (await customer.data(MY_QUESTIONS, {"status": "CLOSED"}))["me"]["questions"]
    assert [n["id"] for n in mine["nodes"]] == [question["id"]]
    assert (await customer.data(MY_QUESTIONS, {"status": "OPEN"}))["me"]["questions"][
        "totalCount"
    ] == 0


async def test_my_questions_newest_first_in_pages(api: Api) -> None:
    customer = await api.signed_up()
    ids = []
    for n in range(5):
        ids.append((await asked(customer, subject=f"Вопрос {n}"))["id"])
        clock.advance(dt.timedelta(seconds=30))
    query = """query($after: String) { me { questions(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id } } } }"""
    seen, after = [], None
    while True:
        page = (await customer.data(query, {"after": after}))["me"]["questions"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids[::-1]
    body = await customer("{ me { questions(first: 101) { totalCount } } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_messages_page_newest_first(api: Api) -> None:
    customer = await api.signed_up()
    olga = await specialist(api)
    question = await asked(customer)
    for n in range(4):
        clock.advance(dt.timedelta(seconds=10))
        await answer(olga, question["id"], f"Ответ {n}")
    query = """query($id: ID!, $after: String) { question(id: $id) { messages(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { body } } } }"""
    bodies, after = [], None
    while True:
        page = (await customer.data(query, {"id": question["id"], "after": after}))["question"][
            "messages"
        ]
        assert page["totalCount"] == 5
        bodies += [n["body"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert bodies[:4] == ["Ответ 3", "Ответ 2", "Ответ 1", "Ответ 0"]
    assert len(bodies) == 5


# ---------------------------------------------------------------- input and limits


async def test_length_limits_have_codes_of_their_own(api: Api) -> None:
    customer = await api.signed_up()
    cases = {
        ("", "текст"): [("SUBJECT_REQUIRED", ["subject"])],
        ("   \n\t ", "текст"): [("SUBJECT_REQUIRED", ["subject"])],
        ("Т" * 151, "текст"): [("SUBJECT_TOO_LONG", ["subject"])],
        ("Тема", ""): [("BODY_REQUIRED", ["body"])],
        ("Тема", "\x07 \n "): [("BODY_REQUIRED", ["body"])],
        ("Тема", "т" * 5001): [("BODY_TOO_LONG", ["body"])],
        ("", "т" * 5001): [("SUBJECT_REQUIRED", ["subject"]), ("BODY_TOO_LONG", ["body"])],
    }
    for (subject, body), expected in cases.items():
        payload = await ask(customer, subject=subject, body=body)
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == expected, subject
        assert payload["question"] is None
    english = (
        await customer.data(ASK, {"input": question_input(subject="Т" * 151)}, accept_language="en")
    )["askQuestion"]
    assert english["userErrors"][0]["message"] == "The subject is too long: at most 150 characters."
    assert await Question.all().count() == 0

    # The limits themselves are allowed; control characters are dropped (a NUL does not
    # get this far: the request is refused as BAD_USER_INPUT, schema/text.py)
    fine = await asked(customer, subject="Т" * 150, body="а\x1bб\r\nв\x07" + "т" * 4990)
    assert fine["subject"] == "Т" * 150
    assert fine["messages"]["nodes"][0]["body"].startswith("аб\nв")


async def test_only_the_customers_own_account(api: Api) -> None:
    customer = await api.signed_up()
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    others = await account_id(other)
    for wrong in (others, encode_id("Account", 10**9), "not-an-id"):
        payload = await ask(customer, accountId=wrong)
        assert payload["userErrors"] == [
            {
                "field": ["accountId"],
                "message": "Такого лицевого счёта нет в вашем кабинете.",
                "code": "ACCOUNT_NOT_FOUND",
                "retryAfter": None,
            }
        ]


async def test_an_unlinked_account_leaves_the_customers_view(api: Api) -> None:
    customer = await api.signed_up()
    assert (await customer.link(ACCOUNT_2, AMOUNT_2))["userErrors"] == []
    olga = await specialist(api)
    second = await account_id(customer, ACCOUNT_2)
    question = await asked(customer, accountId=second)
    await customer.data(
        "mutation($id: ID!) { unlinkAccount(input: {accountId: $id}) { userErrors { code } } }",
        {"id": second},
    )
    # Whoever links the account next must not show through the old question
    seen = (await customer.data(QUESTION, {"id": question["id"]}))["question"]
    assert seen["account"] is None
    queued = (await olga.data(QUEUE))["staffQuestions"]["nodes"][0]
    assert queued["account"]["number"] == ACCOUNT_2  # the specialist still sees the context


async def test_customers_send_a_limited_number_of_messages_a_day(api: Api, settings) -> None:
    with_settings(settings, question_messages_per_day=2)
    customer = await api.signed_up()
    refused = await ask(customer, attachmentIds=[encode_id("Attachment", 10**9)])
    assert codes(refused) == ["ATTACHMENT_NOT_FOUND"]  # refused: the quota is not spent
    question = await asked(customer)
    reply = {"questionId": question["id"], "body": "Дополню."}
    assert (await customer.data(REPLY, {"input": reply}))["replyToQuestion"]["userErrors"] == []
    third = (await customer.data(REPLY, {"input": reply}))["replyToQuestion"]
    [error] = third["userErrors"]
    assert error["code"] == "TOO_MANY_MESSAGES" and error["retryAfter"]
    assert codes(await ask(customer)) == ["TOO_MANY_MESSAGES"]
    clock.advance(dt.timedelta(days=1, seconds=1))
    assert (await customer.data(REPLY, {"input": reply}))["replyToQuestion"]["userErrors"] == []


# ---------------------------------------------------------------- who may see and do what


async def test_staff_fields_are_forbidden_to_customers(api: Api) -> None:
    customer = await api.signed_up()
    question = await asked(customer)
    qid = question["id"]
    for document in ("{ version staffQuestions { totalCount } }", "{ version specialists { id } }"):
        body = await customer(document)
        assert forbidden(body), (document, body)
        assert body["data"]["version"] and None in body["data"].values()
    documents = [
        f'mutation {{ answerQuestion(input: {{questionId: "{qid}", body: "x"}}) {{ userErrors {{ code }} }} }}',
        f'mutation {{ assignQuestion(input: {{questionId: "{qid}"}}) {{ userErrors {{ code }} }} }}',
    ]
    for document in documents:
        body = await customer(document)
        assert forbidden(body), (document, body)
        assert body["data"] is None or all(v is None for v in body["data"].values())
    # Staff-only fields of a question: FORBIDDEN each, the rest of the question intact
    for field in ("waitingSince", "assignee { id }", "customer { email }"):
        body = await customer(f'{{ question(id: "{qid}") {{ id subject {field} }} }}')
        assert forbidden(body), body
        assert body["data"]["question"]["subject"] == question["subject"]
    assert await QuestionMessage.all().count() == 1  # nothing was answered

    # Nobody logged in: UNAUTHENTICATED, not FORBIDDEN
    api.http.cookies.clear()  # the logins above left a session cookie
    anonymous = api.as_user(None)
    body = await anonymous("{ staffQuestions { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await anonymous(ASK, {"input": question_input()})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_specialists_cannot_act_as_customers(api: Api) -> None:
    """A specialist's cabinet holds no accounts and asks nothing (docs/api.md, "Questions to specialists")."""
    customer = await api.signed_up()
    question = await asked(customer)
    olga = await specialist(api)
    me = (await olga.data("{ me { role displayName accounts { id } } }"))["me"]
    assert me == {"role": "STAFF", "displayName": "Ольга", "accounts": []}
    documents = [
        (ASK, {"input": question_input()}),
        (REPLY, {"input": {"questionId": question["id"], "body": "x"}}),
        (MARK_READ, {"id": question["id"]}),
        ("{ me { questions { totalCount } } }", None),
        ("{ me { unreadAnswers } }", None),
        (
            'mutation { linkAccount(input: {accountNumber: "001234567894", paymentAmount: "900"}) '
            "{ userErrors { code } } }",
            None,
        ),
    ]
    for document, variables in documents:
        assert forbidden(await olga(document, variables)), document
    assert await QuestionMessage.all().count() == 1


async def test_another_customers_question_looks_missing(api: Api) -> None:
    owner = await api.signed_up()
    intruder = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    question = await asked(owner)
    olga = await specialist(api)
    await answer(olga, question["id"])
    missing = encode_id("Question", 10**9)
    wrong_kind = await account_id(owner)  # a real id of another kind

    checks = [
        (QUESTION, lambda i: {"id": i}),
        (CLOSE, lambda i: {"id": i}),
        (MARK_READ, lambda i: {"id": i}),
        (REPLY, lambda i: {"input": {"questionId": i, "body": "Чужой вопрос"}}),
    ]
    for document, variables in checks:
        answers = [
            await intruder(document, variables(i))
            for i in (question["id"], missing, wrong_kind, "garbage")
        ]
        assert all(a == answers[1] for a in answers), (document, answers)
        assert "errors" not in answers[0]
    assert (await intruder.data(MY_QUESTIONS))["me"] == {
        "unreadAnswers": 0,
        "questions": {"totalCount": 0, "nodes": []},
    }
    # Nothing changed for the owner
    seen = (await owner.data(QUESTION, {"id": question["id"]}))["question"]
    assert seen["status"] == "ANSWERED" and seen["unreadCount"] == 1
    assert seen["messages"]["totalCount"] == 2


async def test_the_answer_goes_to_the_questions_customer_only(api: Api) -> None:
    owner = await api.signed_up()
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    olga = await specialist(api)
    question = await asked(owner)
    await answer(olga, question["id"])
    assert (await other.data(MY_QUESTIONS))["me"]["unreadAnswers"] == 0
    assert (await owner.data(MY_QUESTIONS))["me"]["unreadAnswers"] == 1
    # A specialist reaches any question, and a missing one looks missing
    missing = encode_id("Question", 10**9)
    assert codes(await answer(olga, missing)) == ["NOT_FOUND"]
    assert (await olga.data(QUESTION, {"id": missing}))["question"] is None
