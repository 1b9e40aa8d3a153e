"""What a file really is: a JPEG or PNG photo, judged by its bytes, never by a name.

Two checks. The magic bytes at the start say which format it claims to be (and let
an upload be refused after its first chunk). Then Pillow opens the whole file: the
format it finds must be the one the magic bytes named, the dimensions sane and at most
ATTACHMENT_MAX_PIXELS (read from the header, before anything decodes), and the
image must decode to the end: a text file renamed `.jpg`, a truncated photo, or a
signature followed by anything but a picture are all refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

JPEG, PNG = "image/jpeg", "image/png"
_MAGIC = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
_PILLOW_FORMATS = {"JPEG": JPEG, "PNG": PNG}
MAGIC_BYTES = max(len(magic) for magic, _type in _MAGIC)  # enough to call sniff()
MAX_SIDE = 20_000


class NotAnImage(Exception):
    """The bytes are not a JPEG or PNG photo we accept."""


class TooManyPixels(NotAnImage):
    """The header announces more pixels than ATTACHMENT_MAX_PIXELS: refused undecoded."""


class QueueFull(Exception):
    """As many photos as ATTACHMENT_DECODE_QUEUE are being checked or wait for it."""


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def sniff(head: bytes) -> str | None:
    """The type the first bytes announce: image/jpeg, image/png, or None."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


# Decoding a photo takes tens of milliseconds and some memory: two threads at most,
# at a lower priority than request handling, so a burst of uploads queues here.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="image", initializer=_lower_priority)


def _inspect(path: Path, max_pixels: int) -> ImageInfo:
    with path.open("rb") as fh:
        announced = sniff(fh.read(MAGIC_BYTES))
    if announced is None:
        raise NotAnImage("unknown signature")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                found = _PILLOW_FORMATS.get(image.format or "")
                width, height = image.size
                if found != announced:
                    raise NotAnImage(f"{image.format} behind a {announced} signature")
                if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
                    raise NotAnImage("dimensions out of range")
                # Image.open has read the header only: nothing is decoded yet.
                if width * height > max_pixels:
                    raise TooManyPixels(f"{width}x{height}")
                image.verify()  # structure and checksums (PNG CRCs)
            with Image.open(path) as image:
                if found == JPEG:
                    image.draft("RGB", (width // 8, height // 8))  # the whole stream, 1/64 memory
                image.load()  # every pixel decodes
    except NotAnImage:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise NotAnImage(type(exc).__name__) from None
    return ImageInfo(announced, width, height)


class _Queue:
    """Checks handed to the pool and not finished, counted across the process's threads and
    event loops. A check leaves the count when its thread finishes it, not when its caller
    stops waiting: a client that hangs up does not free a place still in use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.size = 0

    def enter(self, limit: int) -> bool:
        with self._lock:
            if self.size >= limit:
                return False
            self.size += 1
            return True

    def leave(self, _future: object = None) -> None:
        with self._lock:
            self.size -= 1


QUEUE = _Queue()


async def inspect(path: Path, *, max_pixels: int, queue_limit: int) -> ImageInfo:
    """Check the file is a whole JPEG or PNG photo of at most `max_pixels`; raise
    NotAnImage (TooManyPixels) otherwise, or QueueFull when `queue_limit` checks are
    running or waiting already: the wait for the pool is bounded, not the pool alone."""
    if not QUEUE.enter(queue_limit):
        raise QueueFull()
    try:
        future = _POOL.submit(_inspect, path, max_pixels)
    except BaseException:
        QUEUE.leave()
        raise
    future.add_done_callback(QUEUE.leave)
    return await asyncio.wrap_future(future)
