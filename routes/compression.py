"""Compressed answers: brotli or gzip, whichever the client's Accept-Encoding ranks higher
(q-values honoured; brotli on a tie, being smaller), for text-like answers (GraphQL's
JSON, the web client's and GraphiQL's HTML, JavaScript and CSS) of at least
COMPRESS_MIN_BYTES; below that the saving is less than the work. Every such answer says
`Vary: Accept-Encoding`, compressed or not, so no cache hands one client's coding to
another.

- The compressed answer's ETag is weakened (`W/"..."`): its bytes differ from the
  uncompressed one's, but it means the same; If-None-Match compares weakly, so a client
  revalidates either form against the same tag and gets its 304.
- Static files (`/static/...`, ETag-ed and unchanging until deployed) are compressed once per
  file version and coding, off the event loop, and kept (a few MB for GraphiQL at most);
  GraphQL answers are compressed as they go, at a fast setting.
- Not compressed: an answer that is already encoded, a HEAD, a range request, anything not
  200, and media that is compressed already (PDFs, photos).

Brotli comes from Google's `Brotli` bindings (the reference implementation, maintained in
the google/brotli repository; the library httpx also uses to read `br`), gzip from the
standard library.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict
from typing import Any

import anyio.to_thread
import brotli
from starlette.datastructures import Headers, MutableHeaders

from config import Settings
from services.core import qvalues

# Text-like media types; the rest (PDF, JPEG, PNG) is compressed by its own format.
COMPRESSIBLE = (
    "application/json",
    "application/graphql-response+json",
    "application/javascript",
    "text/",
    "image/svg+xml",
    "application/manifest+json",
)
CODINGS = ("br", "gzip")  # on equal q-values, the first: smaller at a like speed
BROTLI_QUALITY = 5  # 0-11: 5 is about gzip-6's speed and ~10% smaller; 11 is 60x slower
GZIP_LEVEL = 6  # zlib's default trade-off
STATIC_PREFIX = "/static/"
STATIC_CACHE_ENTRIES = 64
OFF_LOOP_BYTES = 256 * 1024  # larger bodies are compressed in a worker thread


def choose_coding(header: str | None) -> str | None:
    """The coding to answer with ("br", "gzip"), or None for the identity."""
    weights = qvalues.weights(header)
    best, best_q = None, 0.0
    for coding in CODINGS:
        q = weights.get(coding, weights.get("*", 0.0))
        if q > best_q:
            best, best_q = coding, q
    return best


def compress(body: bytes, coding: str) -> bytes:
    if coding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY)
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def compressible(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    # an event stream must flow as it is written, never be held whole
    return media.startswith(COMPRESSIBLE) and media != "text/event-stream"


def _vary(headers: MutableHeaders) -> None:
    present = {v.strip().lower() for v in headers.get("vary", "").split(",") if v.strip()}
    if "accept-encoding" not in present:
        headers.add_vary_header("Accept-Encoding")


def _weak(etag: str) -> str:
    return etag if etag.startswith("W/") else f"W/{etag}"


class Compression:
    """ASGI middleware: see the module's description."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.min_bytes = settings.compress_min_bytes
        self.static: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Headers(scope=scope)
        coding = choose_coding(request.get("accept-encoding"))
        if scope["method"] == "HEAD" or "range" in request:
            coding = None
        responder = _Responder(self, scope, request, coding, send)
        await self.app(scope, receive, responder.send)

    async def compressed(self, scope: Any, etag: str | None, body: bytes, coding: str) -> bytes:
        path = scope["path"]
        if etag is None or not path.startswith(STATIC_PREFIX):
            if len(body) > OFF_LOOP_BYTES:
                return await anyio.to_thread.run_sync(compress, body, coding)
            return compress(body, coding)
        key = (path, etag, coding)
        if key not in self.static:
            self.static[key] = await anyio.to_thread.run_sync(compress, body, coding)
            while len(self.static) > STATIC_CACHE_ENTRIES:
                self.static.popitem(last=False)
        self.static.move_to_end(key)
        return self.static[key]


class _Responder:
    """One answer on its way out: passed on as it comes, or held whole and compressed."""

    def __init__(
        self, owner: Compression, scope: Any, request: Headers, coding: str | None, send: Any
    ) -> None:
        self.owner, self.scope, self.request, self.coding = owner, scope, request, coding
        self.downstream = send
        self.start: dict[str, Any] | None = None  # held while the body is gathered
        self.body = bytearray()

    async def send(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            await self._start(message)
        elif message["type"] == "http.response.body" and self.start is not None:
            self.body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                await self._finish()
        else:
            await self.downstream(message)

    async def _start(self, message: Any) -> None:
        headers = MutableHeaders(raw=list(message.get("headers", [])))
        status = message["status"]
        if status == 304:
            self._not_modified(headers)
        elif compressible(headers.get("content-type")):
            _vary(headers)
            declared = headers.get("content-length")
            small = (
                declared is not None and declared.isdigit() and int(declared) < self.owner.min_bytes
            )
            if (
                status == 200
                and self.coding is not None
                and "content-encoding" not in headers
                and not small
            ):
                self.start = {**message, "headers": headers.raw}
                return
        await self.downstream({**message, "headers": headers.raw})

    def _not_modified(self, headers: MutableHeaders) -> None:
        """A 304 names the tag the client holds: the weak one of a compressed copy."""
        _vary(headers)
        etag = headers.get("etag")
        held = self.request.get("if-none-match", "")
        if etag and not etag.startswith("W/") and _weak(etag) in held:
            headers["etag"] = _weak(etag)

    async def _finish(self) -> None:
        assert self.start is not None
        headers = MutableHeaders(raw=self.start["headers"])
        body = bytes(self.body)
        if len(body) >= self.owner.min_bytes and self.coding is not None:
            body = await self.owner.compressed(self.scope, headers.get("etag"), body, self.coding)
            headers["content-encoding"] = self.coding
            if "etag" in headers:
                headers["etag"] = _weak(headers["etag"])
            if "accept-ranges" in headers:
                del headers["accept-ranges"]
        headers["content-length"] = str(len(body))
        await self.downstream({**self.start, "headers": headers.raw})
        await self.downstream({"type": "http.response.body", "body": body})
