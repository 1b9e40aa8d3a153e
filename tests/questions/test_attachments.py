"""Photos over HTTP: what an upload must be (size, type by content, count), who gets
them back, and the cleanup of uploads no message used."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from models.questions import Attachment, AttachmentContent
from services.core.clock import clock
from services.core.ids import encode_id
from services.questions import attachments, images
from tests.conftest import BACKEND, with_settings
from tests.questions.support import (
    REPLY,
    answer,
    ask,
    asked,
    fetch,
    photo,
    specialist,
    upload,
    uploaded,
)
from tests.support import ACCOUNT_2, AMOUNT_2, Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

MIB = 1024 * 1024


class Body:
    """A request body produced chunk by chunk, remembering how much the server took."""

    def __init__(self, total: int, chunk: int = 64 * 1024, head: bytes = b"") -> None:
        self.total, self.chunk, self.head = total, chunk, head
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            size = min(self.chunk, self.total - self.sent)
            piece = (self.head + b"\0" * size)[:size] if self.sent == 0 else b"\0" * size
            self.sent += size
            yield piece


def stored_files(settings) -> list[Path]:
    root = Path(settings.var_dir) / "attachments"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_a_photo_goes_up_and_comes_back(api: Api, settings) -> None:
    customer = await api.signed_up()
    jpeg = photo("JPEG", (640, 480), quality=90)
    response = await upload(customer, jpeg, content_type="application/octet-stream")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["contentType"] == "image/jpeg"
    assert (body["size"], body["width"], body["height"]) == (len(jpeg), 640, 480)
    assert response.headers["cache-control"] == "no-store"

    served = await fetch(customer, f"/attachments/{body['id']}")
    assert served.status_code == 200
    assert served.content == jpeg
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["cache-control"].startswith("private")
    assert "public" not in served.headers["cache-control"]
    assert "sandbox" in served.headers["content-security-policy"]

    png = photo("PNG", (32, 32))
    response = await upload(customer, png, content_type="image/jpeg")  # the bytes decide
    assert response.json()["contentType"] == "image/png"
    served = await fetch(customer, f"/attachments/{response.json()['id']}")
    assert served.headers["content-type"] == "image/png"
    # The bytes are in the database, and nothing is left on this server's disk: another
    # server process, on another host, serves them just the same
    [row] = await Attachment.filter(content_type="image/png")
    assert (await AttachmentContent.get(attachment_id=row.id)).data == png
    assert stored_files(settings) == []


async def test_what_is_not_a_photo_is_refused_by_its_content(api: Api, settings) -> None:
    customer = await api.signed_up()
    jpeg = photo("JPEG", (200, 150))
    refused = {
        "a text file named .jpg": b"Meter reading: 12345 kWh\n" * 40,
        "a JPEG signature and then text": b"\xff\xd8\xff\xe0" + b"not really a photo" * 50,
        "a PNG signature and then a JPEG": b"\x89PNG\r\n\x1a\n" + jpeg,
        "a truncated photo": jpeg[: len(jpeg) // 2],
        "a GIF": b"GIF89a" + b"\0" * 100,
        "nothing": b"",
        "three bytes": b"\xff\xd8\xff",
    }
    for what, content in refused.items():
        response = await upload(
            customer,
            content,
            content_type="image/jpeg",
            content_disposition='attachment; filename="meter.jpg"',
        )
        assert response.status_code == 415, what
        assert response.json()["error"]["code"] == "ATTACHMENT_NOT_IMAGE", what
    english = await upload(customer, b"hello", accept_language="en")
    assert english.json()["error"]["message"] == (
        "This is not a photo: attach a JPEG or PNG picture."
    )
    assert await Attachment.all().count() == 0
    assert stored_files(settings) == []


async def test_a_body_over_the_limit_is_refused_without_being_read(api: Api, settings) -> None:
    customer = await api.signed_up()
    limit = settings.attachment_max_bytes
    assert limit == 5 * MIB

    # Declared too large: refused before the first byte is read
    declared = Body(limit + 1, head=b"\xff\xd8\xff")
    response = await upload(customer, declared, content_length=str(limit + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "ATTACHMENT_TOO_LARGE"
    assert response.json()["error"]["message"] == "Фотография слишком большая: не больше 5 МБ."
    assert declared.sent == 0

    # Sent without a length (chunked): read up to the limit, then refused
    streamed = Body(limit * 4, head=b"\xff\xd8\xff")
    response = await upload(customer, streamed)
    assert response.status_code == 413
    assert streamed.sent <= limit + streamed.chunk
    assert await Attachment.all().count() == 0
    assert stored_files(settings) == []


async def test_a_photo_of_exactly_the_limit_is_accepted(api: Api, settings) -> None:
    customer = await api.signed_up()
    jpeg = photo("JPEG", (300, 200))
    with_settings(settings, attachment_max_bytes=len(jpeg))
    assert (await upload(customer, jpeg)).status_code == 201
    with_settings(settings, attachment_max_bytes=len(jpeg) - 1)
    assert (await upload(customer, jpeg)).status_code == 413


async def test_at_most_three_photos_a_message(api: Api) -> None:
    customer = await api.signed_up()
    photos = [await uploaded(customer) for _ in range(4)]
    too_many = await ask(customer, attachmentIds=photos)
    assert too_many["userErrors"][0]["code"] == "TOO_MANY_ATTACHMENTS"
    assert too_many["userErrors"][0]["message"] == (
        "К одному сообщению можно приложить не больше 3 фотографий."
    )
    assert await Attachment.filter(message_id__isnull=False).count() == 0

    question = await asked(customer, attachmentIds=photos[:3])
    assert len(question["messages"]["nodes"][0]["attachments"]) == 3
    # A photo already sent cannot be sent again
    again = (
        await customer.data(
            REPLY,
            {"input": {"questionId": question["id"], "body": "x", "attachmentIds": photos[2:]}},
        )
    )["replyToQuestion"]
    assert codes(again) == ["ATTACHMENT_NOT_FOUND"]
    assert await Attachment.filter(message_id__isnull=True).count() == 1  # photos[3] is intact
    more = [photos[3], await uploaded(customer), await uploaded(customer)]
    replied = (
        await customer.data(
            REPLY, {"input": {"questionId": question["id"], "body": "Ещё", "attachmentIds": more}}
        )
    )["replyToQuestion"]
    assert replied["userErrors"] == [] and len(replied["message"]["attachments"]) == 3


async def test_pending_uploads_are_limited_per_cabinet(api: Api, settings) -> None:
    with_settings(settings, attachment_pending_per_cabinet=2)
    customer = await api.signed_up()
    first, second = await uploaded(customer), await uploaded(customer)
    refused = await upload(customer, photo())
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "TOO_MANY_PENDING_ATTACHMENTS"
    # Another cabinet has its own allowance; sending them frees this one's
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    assert (await upload(other, photo())).status_code == 201
    await asked(customer, attachmentIds=[first, second])
    assert (await upload(customer, photo())).status_code == 201
    # Uploads past ATTACHMENT_PENDING_HOURS no longer count, cleaned up or not
    await uploaded(customer)
    assert (await upload(customer, photo())).status_code == 429
    clock.advance(dt.timedelta(hours=settings.attachment_pending_hours, minutes=1))
    assert (await upload(customer, photo())).status_code == 201


@pytest.mark.skipif(BACKEND != "postgres", reason="parallel writers need PostgreSQL")
async def test_parallel_uploads_respect_the_pending_limit(api: Api, settings) -> None:
    with_settings(settings, attachment_pending_per_cabinet=3)
    customer = await api.signed_up()
    responses = await asyncio.gather(*(upload(customer, photo()) for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [201] * 3 + [429] * 5
    assert await Attachment.all().count() == 3
    assert await AttachmentContent.all().count() == 3
    assert stored_files(settings) == []


def blank_png(width: int, height: int) -> bytes:
    """A PNG of many pixels and few bytes (one colour compresses to almost nothing)."""
    out = io.BytesIO()
    Image.new("L", (width, height)).save(out, "PNG")
    return out.getvalue()


async def test_too_many_pixels_are_refused_from_the_header(api: Api, settings) -> None:
    """Attack: a 25 MP PNG of a few kilobytes decoded to ~100 MB per upload. Now anything
    over ATTACHMENT_MAX_PIXELS (12.5 MP) is refused from its header: even one cut short
    right after it, which could not decode at all, gets the pixel refusal."""
    assert settings.attachment_max_pixels == 12_500_000
    customer = await api.signed_up()
    bomb = blank_png(5000, 5000)
    assert len(bomb) < 100_000
    for content in (bomb, bomb[:100]):  # the whole file; the header and a scrap of data
        response = await upload(customer, content)
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "ATTACHMENT_TOO_MANY_PIXELS"
        assert "12.5" in response.json()["error"]["message"]
    assert (await upload(customer, blank_png(4000, 3125))).status_code == 201  # exactly 12.5 MP
    assert await Attachment.all().count() == 1


async def test_refused_uploads_are_throttled_per_cabinet(api: Api, settings) -> None:
    """Attack: bad uploads cost a transfer and a decode each and used to count for nothing.
    Past ATTACHMENT_REJECTS_PER_HOUR refusals, every upload of the cabinet is refused."""
    with_settings(settings, attachment_rejects_per_hour=3)
    customer = await api.signed_up()
    for _ in range(4):  # stored photos do not count
        await uploaded(customer)
    for _ in range(3):
        assert (await upload(customer, b"not a photo at all")).status_code == 415
    throttled = await upload(customer, photo())
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "TOO_MANY_REJECTED_ATTACHMENTS"
    assert 0 < int(throttled.headers["retry-after"]) <= 3600
    assert (await upload(customer, b"junk")).status_code == 429
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    assert (await upload(other, photo())).status_code == 201  # a cabinet of its own
    clock.advance(dt.timedelta(hours=1, seconds=1))
    assert (await upload(customer, photo())).status_code == 201


async def test_the_decode_queue_is_bounded(api: Api, settings) -> None:
    """Attack: uploads waited for the two decoding threads in an unbounded queue, each
    holding its file and its request. Past ATTACHMENT_DECODE_QUEUE checks running or
    waiting, an upload is refused at once, and is not held against the cabinet."""
    # Uploads in flight count until stored: 2 waiting + 1 more is the most 3 allows, so a
    # second refusal would be TOO_MANY_REJECTED_ATTACHMENTS had the first been kept.
    with_settings(settings, attachment_decode_queue=2, attachment_rejects_per_hour=3)
    customer = await api.signed_up()
    release = threading.Event()
    # Both decoding threads busy with something else: checks can only wait.
    busy = [images._POOL.submit(release.wait) for _ in range(2)]
    try:
        waiting = [asyncio.ensure_future(upload(customer, photo())) for _ in range(2)]
        for _ in range(10_000):  # until both wait in the queue (no time limit asserted)
            if images.QUEUE.size == 2:
                break
            await asyncio.sleep(0.01)
        assert images.QUEUE.size == 2
        for _ in range(2):  # refused at once, and not counted as the cabinet's refusals
            full = await upload(customer, photo())
            assert full.status_code == 429
            assert full.json()["error"]["code"] == "ATTACHMENT_QUEUE_FULL"
    finally:
        release.set()
    assert [r.status_code for r in await asyncio.gather(*waiting)] == [201, 201]
    for future in busy:
        future.result()
    assert images.QUEUE.size == 0
    assert (await upload(customer, photo())).status_code == 201


async def test_photos_are_served_to_their_customer_and_to_specialists_only(api: Api) -> None:
    owner = await api.signed_up()
    other = await api.signed_up(ACCOUNT_2, AMOUNT_2, "petrov@mail.ru")
    olga = await specialist(api)
    pending = await uploaded(owner)
    sent = await uploaded(owner)
    question = await asked(owner, attachmentIds=[sent])

    missing = (await fetch(owner, f"/attachments/{encode_id('Attachment', 10**9)}")).json()
    for url in (f"/attachments/{pending}", f"/attachments/{sent}"):
        assert (await fetch(owner, url)).status_code == 200
        response = await fetch(other, url)
        assert (response.status_code, response.json()) == (404, missing)
    api.http.cookies.clear()
    assert (await api.http.get(f"/attachments/{sent}")).status_code == 404  # nobody logged in
    assert (await fetch(owner, "/attachments/garbage")).status_code == 404
    # A specialist sees what belongs to a question, not what a customer has yet to send
    assert (await fetch(olga, f"/attachments/{sent}")).status_code == 200
    assert (await fetch(olga, f"/attachments/{pending}")).status_code == 404
    # Another customer cannot send the owner's photo as their own either
    stolen = await ask(other, attachmentIds=[pending])
    assert codes(stolen) == ["ATTACHMENT_NOT_FOUND"]
    await answer(olga, question["id"])


async def test_who_may_upload(api: Api) -> None:
    response = await api.http.post("/attachments", content=photo())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    olga = await specialist(api)
    response = await upload(olga, photo())  # a specialist answers with photos too
    assert response.status_code == 201
    # The session cookie works from our own origin, not from another site's page
    await api.signed_up()
    api.http.cookies.clear()
    await api.login("ivanova@mail.ru")  # the web app's login: the session comes as a cookie
    foreign = await api.http.post(
        "/attachments", content=photo(), headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 401
    own = await api.http.post(
        "/attachments", content=photo(), headers={"Origin": "https://lk.example.ru"}
    )
    assert own.status_code == 201


async def test_cleanup_deletes_uploads_no_message_used(api: Api, settings) -> None:
    customer = await api.signed_up()
    kept = await uploaded(customer)
    forgotten = await uploaded(customer)
    await asked(customer, attachmentIds=[kept])
    debris = Path(settings.var_dir, "attachments", "tmp", "dead.part")
    debris.write_bytes(b"half an upload")
    half_an_hour_ago = clock.now().timestamp() - 1800
    os.utime(debris, (half_an_hour_ago, half_an_hour_ago))
    assert len(stored_files(settings)) == 1  # the debris; the photos are in the database
    assert await AttachmentContent.all().count() == 2

    # Not yet: the customer has ATTACHMENT_PENDING_HOURS to send it
    assert await attachments.cleanup() == attachments.Cleaned(0, 0)
    clock.advance(dt.timedelta(hours=settings.attachment_pending_hours, minutes=1))
    # Past them it cannot be sent, even before the cleanup has run
    assert codes(await ask(customer, attachmentIds=[forgotten])) == ["ATTACHMENT_NOT_FOUND"]
    cleaned = await attachments.cleanup()
    assert (cleaned.uploads, cleaned.temporary_files) == (1, 1)
    assert (await fetch(customer, f"/attachments/{forgotten}")).status_code == 404
    assert (await fetch(customer, f"/attachments/{kept}")).status_code == 200
    assert stored_files(settings) == []
    assert await AttachmentContent.all().count() == 1  # the forgotten photo's bytes went too
    assert codes(await ask(customer, attachmentIds=[forgotten])) == ["ATTACHMENT_NOT_FOUND"]
    assert (await attachments.cleanup()).uploads == 0  # idempotent
