"""`kabinet staff add` as an operator runs it, then the specialist's first login; and
`kabinet attachments cleanup`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from config import ROOT
from models.cabinets import Cabinet, Role
from models.mail import OutboxMessage
from models.questions import Question
from schema.relay import encode_id
from tests.conftest import TEST_SECRET
from tests.questions.support import (
    ASSIGN,
    QUESTION,
    SPECIALIST_PASSWORD,
    answer,
    asked,
    specialist,
)
from tests.support import RESET, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

SET = "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) { user { email } userErrors { code } } }"
PASSWORD = "first-Day-at-the-Desk-31"


def kabinet(*args: str, settings) -> subprocess.CompletedProcess:
    """The command line in a process of its own, on the test's database."""
    environment = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": settings.var_dir,
        "SECRET_KEY": TEST_SECRET,
        "PUBLIC_WEB_URL": "https://lk.example.ru",
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *args],
        cwd=Path(settings.var_dir).parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def token_in(output: str) -> str:
    [link] = re.findall(r"https://lk\.example\.ru/set-password\?token=\S+", output)
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_staff_add_prints_a_link_that_sets_the_password(api: Api, settings) -> None:
    # When the operator adds a specialist
    added = kabinet(
        "staff", "add", "Olga@Energosbyt.example", "--name", "Ольга С.", settings=settings
    )
    assert added.returncode == 0, added.stderr
    assert "specialist olga@energosbyt.example (Ольга С.) created" in added.stdout
    first = token_in(added.stdout)
    cabinet = await Cabinet.get(email="olga@energosbyt.example")
    assert (cabinet.role, cabinet.display_name) == (Role.STAFF, "Ольга С.")

    # Then nobody logs in before the link is used
    assert [
        e["code"] for e in (await api.login("olga@energosbyt.example", PASSWORD))["userErrors"]
    ] == ["INVALID_CREDENTIALS"]

    # And running it again renews the link: the first one dies
    again = kabinet("staff", "add", "olga@energosbyt.example", settings=settings)
    assert again.returncode == 0, again.stderr
    assert "exists; a new link replaces earlier ones" in again.stdout
    second = token_in(again.stdout)
    stale = (await api.data(SET, {"t": first, "p": PASSWORD}))["setPassword"]
    assert [e["code"] for e in stale["userErrors"]] == ["INVALID_TOKEN"]

    # When the specialist follows the link, the password is set and they log in as staff
    done = (await api.data(SET, {"t": second, "p": PASSWORD}))["setPassword"]
    assert done == {"user": {"email": "olga@energosbyt.example"}, "userErrors": []}
    logged_in = await api.login("olga@energosbyt.example", PASSWORD)
    olga = api.as_user(logged_in["token"])
    me = (await olga.data("{ me { role displayName emailVerified } }"))["me"]
    assert me == {"role": "STAFF", "displayName": "Ольга С.", "emailVerified": True}
    assert (await olga.data("{ staffQuestions { totalCount } }"))["staffQuestions"][
        "totalCount"
    ] == 0

    listed = kabinet("staff", "list", settings=settings)
    assert "olga@energosbyt.example" in listed.stdout and "Ольга С." in listed.stdout


async def test_a_customers_address_cannot_become_a_specialists(api: Api, settings) -> None:
    await api.signed_up()  # ivanova@mail.ru
    refused = kabinet("staff", "add", "ivanova@mail.ru", settings=settings)
    assert refused.returncode == 1
    assert "belongs to a customer's cabinet" in refused.stderr
    assert (await Cabinet.get(email="ivanova@mail.ru")).role == Role.CUSTOMER
    bad = kabinet("staff", "add", "not an address", settings=settings)
    assert bad.returncode == 1 and "e-mail address" in bad.stderr
    assert "Traceback" not in refused.stderr + bad.stderr


async def test_staff_remove_closes_the_cabinet_and_returns_its_questions(
    api: Api, settings
) -> None:
    # Given a specialist who answered one question (which made it hers) and took another
    customer = await api.signed_up()
    olga = await specialist(api)
    answered = await asked(customer, subject="Счёт за октябрь")
    assert (await answer(olga, answered["id"]))["userErrors"] == []
    waiting = await asked(customer, subject="Счётчик мигает")
    held = (await olga.data(ASSIGN, {"input": {"questionId": waiting["id"]}}))["assignQuestion"]
    assert held["userErrors"] == []

    # When the operator removes her
    removed = kabinet("staff", "remove", "OLGA@energosbyt.example", settings=settings)
    assert removed.returncode == 0, removed.stderr
    assert "1 session(s) ended, 2 question(s) back in the queue" in removed.stdout

    # Then her session is dead at once, and she can neither log in nor reset the password
    assert await olga.session_ended() == "REVOKED"
    assert await api.session_ended() == "REVOKED"  # her cookie too: refused, then deleted
    assert codes(await api.login("olga@energosbyt.example", SPECIALIST_PASSWORD)) == [
        "INVALID_CREDENTIALS"
    ]
    sent = await OutboxMessage.all().count()
    reset = await api.data(RESET, {"e": "olga@energosbyt.example"})
    assert reset["requestPasswordReset"]["userErrors"] == []
    # the same answer, and no link goes out: only the word an unknown address gets
    new = await OutboxMessage.filter(id__gt=0).order_by("id").offset(sent)
    assert [m.template for m in new] == ["reset_no_cabinet"]

    # And both questions are back in the shared queue; her answer stays, signed
    mine = await customer.data(QUESTION, {"id": waiting["id"]})
    assert mine["question"]["status"] == "OPEN"
    assert await Question.filter(assignee_id__isnull=False).count() == 0
    kept = (await customer.data(QUESTION, {"id": answered["id"]}))["question"]
    assert [m["authorName"] for m in kept["messages"]["nodes"]] == ["Ольга", None]  # newest first
    listed = kabinet("staff", "list", settings=settings)
    assert "olga@energosbyt.example" in listed.stdout and "(removed)" in listed.stdout

    # And another specialist no longer sees her among colleagues, nor can hand her work
    ivan = await specialist(api, "ivan@energosbyt.example", "Иван")
    colleagues = (await ivan.data("{ specialists { displayName } }"))["specialists"]
    assert colleagues == [{"displayName": "Иван"}]
    olga_id = (await Cabinet.get(email="olga@energosbyt.example")).id
    refused = await ivan.data(
        ASSIGN,
        {"input": {"questionId": waiting["id"], "specialistId": encode_id("Specialist", olga_id)}},
    )
    assert codes(refused["assignQuestion"]) == ["SPECIALIST_NOT_FOUND"]

    # When she comes back, `staff add` gives her a new link that works again
    again = kabinet("staff", "add", "olga@energosbyt.example", settings=settings)
    assert again.returncode == 0, again.stderr
    done = (await api.data(SET, {"t": token_in(again.stdout), "p": PASSWORD}))["setPassword"]
    assert done["userErrors"] == []
    assert codes(await api.login("olga@energosbyt.example", PASSWORD)) == []

    # And removing someone who is not a specialist is a plain error
    nobody = kabinet("staff", "remove", "ivanova@mail.ru", settings=settings)
    assert nobody.returncode == 1 and "is not a specialist" in nobody.stderr
    assert "Traceback" not in nobody.stderr


async def test_attachments_cleanup_command(settings) -> None:
    done = kabinet("attachments", "cleanup", settings=settings)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "deleted 0 unused upload(s) and 0 unfinished temporary file(s)"
