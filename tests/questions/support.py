"""Helpers for tests of questions: documents, specialists, photos and uploads."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from PIL import Image

from services.staff import specialists as staff
from tests.support import Api

QUESTION_FIELDS = """id subject topic status createdAt unreadCount
  account { id number }
  messages(first: 20) { totalCount nodes { id author authorName body readAt
    attachments { id contentType size width height url } } }"""

ASK = f"""mutation($input: AskQuestionInput!) {{ askQuestion(input: $input) {{
  question {{ {QUESTION_FIELDS} }} userErrors {{ field message code retryAfter }} }} }}"""
REPLY = f"""mutation($input: ReplyToQuestionInput!) {{ replyToQuestion(input: $input) {{
  question {{ {QUESTION_FIELDS} }} message {{ id author body attachments {{ id }} }}
  userErrors {{ field message code retryAfter }} }} }}"""
ANSWER = """mutation($input: AnswerQuestionInput!) { answerQuestion(input: $input) {
  question { id status assignee { displayName } } message { id author authorName body }
  userErrors { field message code } } }"""
ASSIGN = """mutation($input: AssignQuestionInput!) { assignQuestion(input: $input) {
  question { id assignee { id displayName } } userErrors { field code } } }"""
CLOSE = """mutation($id: ID!) { closeQuestion(input: {questionId: $id}) {
  question { id status closedAt } userErrors { field code } } }"""
MARK_READ = """mutation($id: ID!) { markQuestionRead(input: {questionId: $id}) {
  question { id unreadCount } unreadAnswers userErrors { field code } } }"""
QUESTION = f"query($id: ID!) {{ question(id: $id) {{ {QUESTION_FIELDS} }} }}"
QUEUE = """query($status: QuestionStatus, $topic: QuestionTopic, $assignee: AssigneeFilter! = ANYONE,
    $first: Int! = 20, $after: String) {
  staffQuestions(status: $status, topic: $topic, assignee: $assignee, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id subject topic status waitingSince assignee { displayName }
      account { number holderName address balance }
      customer { email language accounts { number holderName address balance } } } } }"""
SPECIALIST_PASSWORD = "specialist-Harbor-88-lantern"


def question_input(**changes: Any) -> dict[str, Any]:
    return {
        "topic": "READINGS",
        "subject": "Показания не приняты",
        "body": "Передала показания 20-го, в кабинете их нет.",
        **changes,
    }


async def ask(user: Api, **changes: Any) -> dict[str, Any]:
    return (await user.data(ASK, {"input": question_input(**changes)}))["askQuestion"]


async def asked(user: Api, **changes: Any) -> dict[str, Any]:
    """A question the customer asked successfully."""
    payload = await ask(user, **changes)
    assert payload["userErrors"] == [], payload
    return payload["question"]


async def specialist(api: Api, email: str = "olga@energosbyt.example", name: str = "Ольга") -> Api:
    """A specialist created as `kabinet staff add` does, password set through the link,
    logged in."""
    invited = await staff.add(email, name)
    token = parse_qs(urlsplit(invited.link).query)["token"][0]
    done = await api.data(
        "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) "
        "{ userErrors { code } } }",
        {"t": token, "p": SPECIALIST_PASSWORD},
    )
    assert done["setPassword"]["userErrors"] == [], done
    logged_in = await api.login(email, SPECIALIST_PASSWORD)
    assert logged_in["userErrors"] == [], logged_in
    return api.as_user(logged_in["token"])


async def answer(person: Api, question_id: str, body: str = "Показания приняты.") -> dict:
    payload = (await person.data(ANSWER, {"input": {"questionId": question_id, "body": body}}))[
        "answerQuestion"
    ]
    return payload


def photo(kind: str = "JPEG", size: tuple[int, int] = (64, 48), **options: Any) -> bytes:
    """A real picture, with some detail so it does not compress to nothing."""
    image = Image.new("RGB", size)
    image.putdata(
        [
            ((x * 7) % 256, (y * 5) % 256, (x * y) % 256)
            for y in range(size[1])
            for x in range(size[0])
        ]
    )
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def auth(user: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"} if user.token else {}


async def upload(user: Api, content: Any, **headers: str) -> httpx.Response:
    """POST /attachments as the user; `content_type="image/png"` sends Content-Type."""
    sent = {name.replace("_", "-"): value for name, value in headers.items()}
    return await user.http.post("/attachments", content=content, headers={**auth(user), **sent})


async def uploaded(user: Api, content: bytes | None = None) -> str:
    """The id of a photo the customer uploaded."""
    response = await upload(user, content if content is not None else photo())
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def fetch(user: Api, url: str) -> httpx.Response:
    return await user.http.get(url, headers=auth(user))
