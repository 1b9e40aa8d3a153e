"""Photos customers and specialists attach to questions: upload, storage, who may see
them, cleanup.

An upload streams to a temporary file under `VAR_DIR/attachments/tmp/` while it is
counted; past ATTACHMENT_MAX_BYTES it stops at once, so no body is ever held in
memory while it arrives and none larger than the limit ever lands on disk. The file
must then be a whole JPEG or PNG (services.questions.images). Its row and its bytes are then
committed together, in one transaction, into the database (models.questions
AttachmentContent): server processes on several hosts share nothing but the database,
so whichever receives a photo, any serves it, and there is never a photo without its
row or a row without its photo. The temporary file is removed either way.

A cabinet's refused uploads are counted (ATTACHMENT_REJECTS_PER_HOUR, then every upload
is refused for the rest of the hour), and a process decodes a bounded number of photos
at once or waiting (ATTACHMENT_DECODE_QUEUE, then ATTACHMENT_QUEUE_FULL).

An upload is pending until `askQuestion`, `replyToQuestion` or `answerQuestion`
references it; a
cabinet holds at most ATTACHMENT_PENDING_PER_CABINET of them, and `cleanup` deletes
those older than ATTACHMENT_PENDING_HOURS.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from config import get_settings
from models import sql
from models.cabinets import Cabinet, Role
from models.questions import Attachment, AttachmentContent, QuestionMessage
from services.core import throttle
from services.core.clock import now
from services.core.errors import RuleError
from services.questions import images
from services.questions.errors import QuestionError

TMP_MAX_AGE = dt.timedelta(hours=1)  # no upload takes longer; older temporary files are debris


def tmp_dir() -> Path:
    return get_settings().var_path / "attachments" / "tmp"


def _max_mb(limit: int) -> str:
    return f"{limit / 1048576:g}"


def too_large() -> RuleError:
    return RuleError(
        QuestionError.ATTACHMENT_TOO_LARGE, max_mb=_max_mb(get_settings().attachment_max_bytes)
    )


@dataclass
class _Received:
    path: Path
    size: int
    sha256: str


def _open_tmp() -> tuple[Path, BinaryIO]:
    directory = tmp_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{secrets.token_hex(16)}.part"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return path, os.fdopen(fd, "wb")


async def _receive(chunks: AsyncIterator[bytes], limit: int) -> _Received:
    """Write the body to a temporary file, refusing it as soon as it is too large or
    its first bytes are not a JPEG's or a PNG's."""
    path, fh = await asyncio.to_thread(_open_tmp)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        async for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > limit:
                raise too_large()
            if len(head) < images.MAGIC_BYTES:
                head += chunk[: images.MAGIC_BYTES]
                if len(head) >= images.MAGIC_BYTES and images.sniff(head) is None:
                    raise RuleError(QuestionError.ATTACHMENT_NOT_IMAGE)
            digest.update(chunk)
            await asyncio.to_thread(fh.write, chunk)
        await asyncio.to_thread(fh.flush)
    except BaseException:
        fh.close()
        path.unlink(missing_ok=True)
        raise
    fh.close()
    return _Received(path, size, digest.hexdigest())


def _pending(**filters: object) -> QuerySet[Attachment]:
    """Uploads no message took yet, and not expired: an upload older than
    ATTACHMENT_PENDING_HOURS is gone for the customer, whenever cleanup runs."""
    cutoff = now() - dt.timedelta(hours=get_settings().attachment_pending_hours)
    return Attachment.filter(message_id=None, created_at__gte=cutoff, **filters)


async def _check_pending(cabinet_id: int) -> None:
    settings = get_settings()
    limit = settings.attachment_pending_per_cabinet
    if await _pending(cabinet_id=cabinet_id).count() >= limit:
        raise RuleError(
            QuestionError.TOO_MANY_PENDING_ATTACHMENTS,
            limit=limit,
            hours=settings.attachment_pending_hours,
        )


def _rejects_limit(cabinet_id: int) -> throttle.Limit:
    per_hour = get_settings().attachment_rejects_per_hour
    return f"attachment:rejected:{cabinet_id}", throttle.Window(per_hour, dt.timedelta(hours=1))


# Refusals that are no fault of the body: they do not count against the cabinet.
_NOT_COUNTED = (
    QuestionError.TOO_MANY_PENDING_ATTACHMENTS,
    QuestionError.ATTACHMENT_QUEUE_FULL,
)


async def upload(
    cabinet: Cabinet, chunks: AsyncIterator[bytes], declared_length: int | None = None
) -> Attachment:
    """Store a photo a customer or a specialist uploads; it stays pending until a
    message of theirs uses it.

    Every upload is counted against ATTACHMENT_REJECTS_PER_HOUR before it is read (so
    parallel uploads count exactly) and given back once it is stored: what stays counted
    are the refused ones (too large, not a photo, too many pixels, a dropped connection),
    each of which costs a transfer and perhaps a decode."""
    rejects = _rejects_limit(cabinet.id)
    try:
        await throttle.attempt(rejects)
    except throttle.Throttled as throttled:
        raise RuleError(
            QuestionError.TOO_MANY_REJECTED_ATTACHMENTS, retry_after=throttled.retry_after
        ) from None
    try:
        row = await _upload(cabinet, chunks, declared_length)
    except RuleError as refused:
        if refused.code in _NOT_COUNTED:
            await throttle.give_back(rejects)
        raise
    await throttle.give_back(rejects)
    return row


async def _upload(
    cabinet: Cabinet, chunks: AsyncIterator[bytes], declared_length: int | None
) -> Attachment:
    settings = get_settings()
    limit = settings.attachment_max_bytes
    if declared_length is not None and declared_length > limit:
        raise too_large()  # refused before a byte of the body is read
    await _check_pending(cabinet.id)  # early, so a refused upload costs no transfer
    received = await _receive(chunks, limit)
    try:
        if received.size == 0:
            raise RuleError(QuestionError.ATTACHMENT_NOT_IMAGE)
        try:
            info = await images.inspect(
                received.path,
                max_pixels=settings.attachment_max_pixels,
                queue_limit=settings.attachment_decode_queue,
            )
        except images.TooManyPixels:
            megapixels = f"{settings.attachment_max_pixels / 1_000_000:g}"
            raise RuleError(
                QuestionError.ATTACHMENT_TOO_MANY_PIXELS, megapixels=megapixels
            ) from None
        except images.NotAnImage:
            raise RuleError(QuestionError.ATTACHMENT_NOT_IMAGE) from None
        except images.QueueFull:
            raise RuleError(QuestionError.ATTACHMENT_QUEUE_FULL) from None
        data = await asyncio.to_thread(received.path.read_bytes)
        async with in_transaction():
            # The lock makes the count exact under parallel uploads of one cabinet.
            await Cabinet.filter(id=cabinet.id).select_for_update().get()
            await _check_pending(cabinet.id)
            row = await Attachment.create(
                cabinet_id=cabinet.id,
                storage_key=secrets.token_hex(16),
                content_type=info.content_type,
                size=received.size,
                width=info.width,
                height=info.height,
                sha256=received.sha256,
                created_at=now(),
            )
            await AttachmentContent.create(attachment_id=row.id, data=data)
    finally:
        received.path.unlink(missing_ok=True)
    return row


async def attach(cabinet_id: int, message_id: int, attachment_ids: list[int]) -> None:
    """Give a message the cabinet's pending uploads; call inside the message's
    transaction. Another's upload, one already used, or a missing one: NOT_FOUND."""
    too_many = check_count(attachment_ids)
    if too_many is not None:
        raise too_many
    wanted = list(dict.fromkeys(attachment_ids))
    if not wanted:
        return
    taken = await _pending(id__in=wanted, cabinet_id=cabinet_id).update(message_id=message_id)
    if taken != len(wanted):
        raise RuleError(QuestionError.ATTACHMENT_NOT_FOUND, "attachmentIds")


def check_count(attachment_ids: list[int]) -> RuleError | None:
    """The count limit alone, for validating input before anything is written."""
    limit = get_settings().attachments_per_message
    if len(set(attachment_ids)) > limit:
        return RuleError(QuestionError.TOO_MANY_ATTACHMENTS, "attachmentIds", limit=limit)
    return None


async def viewable(viewer: Cabinet, attachment_id: int) -> tuple[Attachment, bytes] | None:
    """The photo and its bytes if the viewer may see it: its uploader, a specialist once
    it belongs to a question, the question's customer once a specialist sent it in an
    answer. None for anyone else, exactly as for a missing photo."""
    row = await Attachment.filter(id=attachment_id).first()
    if row is None:
        return None
    if row.cabinet_id == viewer.id:  # type: ignore[attr-defined]
        allowed = True  # its uploader
    elif viewer.role == Role.STAFF:
        allowed = row.message_id is not None  # type: ignore[attr-defined]
    else:  # a specialist's photo, in an answer to one of the customer's questions
        allowed = (
            row.message_id is not None
            and await QuestionMessage.filter(  # type: ignore[attr-defined]
                id=row.message_id,  # type: ignore[attr-defined]
                question__cabinet_id=viewer.id,
            ).exists()
        )
    if not allowed:
        return None
    data = await AttachmentContent.filter(attachment_id=row.id).values_list("data", flat=True)
    if not data:
        return None
    return row, bytes(data[0])


@dataclass(frozen=True)
class Cleaned:
    uploads: int
    temporary_files: int


async def cleanup() -> Cleaned:
    """Delete uploads no message used within ATTACHMENT_PENDING_HOURS, and temporary
    files of uploads that never finished. Safe to run anywhere, any time, in parallel."""
    cutoff = now() - dt.timedelta(hours=get_settings().attachment_pending_hours)
    stale = await Attachment.filter(message_id=None, created_at__lt=cutoff).values_list(
        "id", flat=True
    )
    removed = 0
    conn = sql.connection()
    for start in range(0, len(stale), 500):
        ids = list(stale[start : start + 500])
        # Only rows still pending: one a message took meanwhile stays. Their bytes go
        # with them (ON DELETE CASCADE).
        # (RETURNING counts the photos alone; SQLite's change count would add the bytes.)
        rows = await sql.fetch(
            conn,
            f"DELETE FROM attachment WHERE id IN ({', '.join('?' for _ in ids)}) "  # noqa: S608
            "AND message_id IS NULL RETURNING id",
            ids,
        )
        removed += len(rows)
    return Cleaned(removed, await asyncio.to_thread(_sweep_tmp, now().timestamp()))


def _sweep_tmp(moment: float) -> int:
    directory = tmp_dir()
    if not directory.is_dir():
        return 0
    horizon = moment - TMP_MAX_AGE.total_seconds()
    swept = 0
    for entry in directory.iterdir():
        try:
            if entry.is_file() and entry.stat().st_mtime < horizon:
                entry.unlink()
                swept += 1
        except FileNotFoundError:
            continue  # another cleanup got there first
    return swept
