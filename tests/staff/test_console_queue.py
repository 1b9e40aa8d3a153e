"""The console's queue request (the very document web/js/pages/console.js sends) on a
queue of 10,000 questions: paging happens in SQL, so the first page and a page deep in
the queue cost the same few statements, whatever the queue's length (counted, not timed)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from config import ROOT
from models.cabinets import Cabinet
from models.questions import Question, QuestionStatus, QuestionTopic
from services.core.clock import now
from tests.questions.support import specialist
from tests.support import Api, count_queries

pytestmark = pytest.mark.usefixtures("demo_data")

QUEUE_SIZE = 10_000


def console_queue_document() -> str:
    source = (ROOT / "web/js/pages/console.js").read_text()
    [document] = re.findall(r"gql`(query StaffQueue.*?)`;", source, re.S)
    return document


async def seed_queue(customer_id: int, assignee_id: int) -> None:
    start = now() - dt.timedelta(days=30)
    topics = list(QuestionTopic)
    rows = [
        Question(
            cabinet_id=customer_id,
            topic=topics[n % len(topics)],
            subject=f"Вопрос {n}",
            status=QuestionStatus.OPEN if n % 4 else QuestionStatus.ANSWERED,
            assignee_id=assignee_id if n % 3 == 0 else None,
            created_at=start + dt.timedelta(minutes=n),
            updated_at=start + dt.timedelta(minutes=n),
            waiting_since=start + dt.timedelta(minutes=n),
        )
        for n in range(QUEUE_SIZE)
    ]
    await Question.bulk_create(rows, batch_size=1000)


async def test_the_console_pages_a_queue_of_ten_thousand_in_a_few_statements(api: Api) -> None:
    customer = await api.signed_up()
    olga = await specialist(api)
    customer_id = (await Cabinet.get(email="ivanova@mail.ru")).id
    olga_id = (await Cabinet.get(email="olga@energosbyt.example")).id
    await seed_queue(customer_id, olga_id)
    assert customer  # the cabinet that asked
    document = console_queue_document()
    variables = {"status": "OPEN", "topic": None, "assignee": "ANYONE", "after": None}

    with count_queries() as first_page:
        page = (await olga.data(document, variables))["staffQuestions"]
    assert page["totalCount"] == QUEUE_SIZE * 3 // 4
    assert len(page["nodes"]) == 50 and page["pageInfo"]["hasNextPage"]

    # Deep in the queue, filtered by topic and assignee: the same statements
    after = page["pageInfo"]["endCursor"]
    for _ in range(40):
        after = (await olga.data(document, {**variables, "after": after}))["staffQuestions"][
            "pageInfo"
        ]["endCursor"]
    with count_queries() as deep_page:
        deep = (await olga.data(document, {**variables, "after": after}))["staffQuestions"]
    assert len(deep["nodes"]) == 50
    with count_queries() as filtered:
        mine = await olga.data(
            document, {"status": None, "topic": "METER", "assignee": "ME", "after": None}
        )
    assert mine["staffQuestions"]["nodes"]
    assert all(n["topic"] == "METER" for n in mine["staffQuestions"]["nodes"])

    assert first_page.queries  # the counter sees this backend's statements
    for counted in (first_page, deep_page, filtered):
        # the session, the page, the count, the assignees (one batch): never per question
        assert len(counted.queries) <= 6, counted.queries
    assert len(deep_page.queries) == len(first_page.queries)
    # The page is a LIMIT in SQL, not a slice of a loaded list
    assert any(re.search(r"\bLIMIT\b", q, re.I) for q in first_page.queries)
