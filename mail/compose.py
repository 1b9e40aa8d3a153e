"""Messages from templates: render the Jinja2 files of `mail/templates/`, build the MIME message.

A message `NAME` in language `LANG` is two files, `NAME.LANG.txt` (plain text, which also
holds the subject in `{% block subject %}`) and `NAME.LANG.html` (autoescaped). Russian
is required, English optional (Russian is used when it is missing). Both usually extend
the shared layouts `_layout.LANG.txt` / `_layout.LANG.html`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email import encoders, policy
from email.header import Header
from email.headerregistry import Address
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2

import config

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"

# Headers the builder writes itself; `headers=` may add others (List-Unsubscribe, Reply-To...).
RESERVED_HEADERS = frozenset(
    {
        "from",
        "sender",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "auto-submitted",
        "content-language",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
    }
)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"https?://[^\s<>\"')\]]+")

Attachment = tuple[str, str, bytes]  # (file name, content type, data)


class MailError(ValueError):
    """A message cannot be built from what the caller gave: the text says what and why."""


# ---------------------------------------------------------------- addresses


def parse_mailbox(value: str, what: str = "address") -> Address:
    """One mailbox, `a@b.ru` or `Name <a@b.ru>`, with an ASCII domain (see config)."""
    try:
        return config.parse_mailbox(value, what)
    except ValueError as exc:
        raise MailError(str(exc)) from None


# ---------------------------------------------------------------- templates


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def template_names() -> list[str]:
    """Every message that can be sent: the names with a Russian text template."""
    return sorted(p.name.removesuffix(".ru.txt") for p in TEMPLATES.glob("[!_]*.ru.txt"))


def link_builder(public_web_url: str) -> Callable[..., str]:
    """`link("/verify-email", token=t)`: an absolute link into the web app. It is built from
    the configured public address only, never from a request's Host header."""
    base = public_web_url.rstrip("/")

    def link(path: str, **params: Any) -> str:
        if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
            raise MailError(f"link: the path must start with a single '/', got {path!r}")
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return base + quote(path, safe="/-._~%") + (f"?{query}" if query else "")

    return link


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str


def render(name: str, context: Mapping[str, Any], language: str, public_web_url: str) -> Rendered:
    """Render message `name` in `language` (Russian when there is no such translation)."""
    env = environment()
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]+", name):
        raise MailError(f"template: {name!r} is not a template name (a-z, 0-9, _)")
    if not (TEMPLATES / f"{name}.{language}.txt").is_file():
        language = DEFAULT_LANGUAGE
    try:
        text_template = env.get_template(f"{name}.{language}.txt")
        html_template = env.get_template(f"{name}.{language}.html")
    except jinja2.TemplateNotFound:
        raise MailError(
            f"template: no message {name!r} in {language} (expected {TEMPLATES.name}/"
            f"{name}.{language}.txt and .html); known: {', '.join(template_names())}"
        ) from None
    if "subject" not in text_template.blocks:
        raise MailError(f"template: {text_template.name} has no {{% block subject %}}")

    values = {**context, "link": link_builder(public_web_url), "language": language}
    try:
        block = text_template.blocks["subject"](text_template.new_context(values))
        subject = " ".join("".join(block).split())
        values["subject"] = subject
        text = text_template.render(values)
        html = html_template.render(values)
    except jinja2.UndefinedError as exc:
        raise MailError(f"template {name!r}: {exc.message} (missing from the context)") from None
    if not subject:
        raise MailError(f"template {name!r}: the subject is empty")
    check_no_remote_resources(html, name)
    return Rendered(subject, text, html, language)


class _ResourceFinder(HTMLParser):
    """Collects what a mail client would fetch by itself: images, styles, frames."""

    FETCHED = ("src", "srcset", "background", "poster", "data")

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = (value or "").strip()
            if name in self.FETCHED and value and not value.startswith(("cid:", "data:")):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "style" and "url(" in value:
                self.found.append(f"<{tag} style=...url(...)>")
        if tag == "link" or tag in {"iframe", "object", "embed"}:
            self.found.append(f"<{tag}>")


def check_no_remote_resources(html: str, name: str) -> None:
    """Remote images and styles track the reader (and are blocked anyway): refuse them."""
    finder = _ResourceFinder()
    finder.feed(html)
    finder.close()
    if finder.found or re.search(r"url\s*\(", html):
        found = ", ".join(finder.found) or "url(...)"
        raise MailError(f"template {name!r}: the HTML loads remote resources: {found}")


# ---------------------------------------------------------------- the MIME message


@dataclass(frozen=True)
class Composed:
    message_id: str
    recipient: str  # envelope address, ASCII
    subject: str
    language: str
    content: bytes  # the complete message, CRLF line ends


def compose(
    rendered: Rendered,
    *,
    sender: str,
    to: str,
    date: dt.datetime,
    attachments: Sequence[Attachment] = (),
    headers: Mapping[str, str] | None = None,
) -> Composed:
    """The message as bytes, with a new Message-ID that every retry will reuse.

    Built with the email package's compat32 classes: they write the same standard MIME
    as `EmailMessage` in a sixth of the time (its header objects cost milliseconds).
    """
    from_address = _sender(sender)
    to_address = parse_mailbox(to, "to")
    message_id = f"<{uuid.uuid4().hex}@{from_address.domain}>"
    extra = _checked_headers(headers or {})

    body = MIMEMultipart("alternative")
    # Text in its canonical form (CRLF), base64: Cyrillic in 8bit would need the
    # server's 8BITMIME, quoted-printable triples it.
    body.attach(MIMEText(_crlf(rendered.text), "plain", "utf-8"))
    body.attach(MIMEText(_crlf(rendered.html), "html", "utf-8"))
    message = body
    files = _checked_attachments(attachments)
    if files:
        message = MIMEMultipart("mixed")
        message.attach(body)
        for filename, content_type, data in files:
            part = MIMEBase(*content_type.split("/", 1))
            part.set_payload(data)
            encoders.encode_base64(part)
            name: Any = filename if filename.isascii() else ("utf-8", "", filename)
            part.add_header("Content-Disposition", "attachment", filename=name)
            message.attach(part)

    message["From"] = _mailbox_header(from_address)
    message["To"] = _mailbox_header(to_address)
    message["Subject"] = _text_header(rendered.subject)
    message["Date"] = format_datetime(date.astimezone(dt.UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    message["Content-Language"] = rendered.language
    for name, value in extra:
        if name.lower() == "reply-to":
            message[name] = _mailbox_header(parse_mailbox(value, "headers: Reply-To"))
        else:
            message[name] = _text_header(value)
    return Composed(
        message_id=message_id,
        recipient=to_address.addr_spec,
        subject=rendered.subject,
        language=rendered.language,
        content=message.as_bytes(policy=_WIRE),
    )


_WIRE = policy.compat32.clone(linesep="\r\n")


@functools.lru_cache(maxsize=8)
def _sender(value: str) -> Address:
    return parse_mailbox(value, "MAIL_FROM")


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _mailbox_header(address: Address) -> str:
    return formataddr((address.display_name, address.addr_spec), charset="utf-8")


def _text_header(value: str) -> str | Header:
    """ASCII as it is; anything else as RFC 2047 encoded words."""
    return value if value.isascii() else Header(value, "utf-8")


def _checked_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    checked = []
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise MailError(f"headers: {name!r} is not a header name")
        if name.lower() in RESERVED_HEADERS:
            raise MailError(f"headers: {name} is set by the mail module, not by callers")
        if not isinstance(value, str) or _CONTROL.search(value):
            raise MailError(f"headers: the value of {name} must be one line of text")
        checked.append((name, value))
    return checked


def _checked_attachments(attachments: Sequence[Attachment]) -> list[Attachment]:
    checked = []
    for item in attachments:
        if not isinstance(item, tuple | list) or len(item) != 3:
            raise MailError("attachments: expected (file name, content type, bytes) tuples")
        filename, content_type, data = item
        if not isinstance(filename, str) or not filename or re.search(r"[/\\\x00-\x1f]", filename):
            raise MailError(f"attachments: {filename!r} is not a file name")
        if not isinstance(content_type, str) or not re.fullmatch(
            r"[a-z0-9.+-]+/[a-z0-9.+-]+", content_type
        ):
            raise MailError(f"attachments: {content_type!r} is not a content type")
        if content_type.startswith(("multipart/", "message/")):
            raise MailError(f"attachments: {content_type} cannot be attached as a file")
        if not isinstance(data, bytes | bytearray):
            raise MailError(f"attachments: the data of {filename} must be bytes")
        checked.append((filename, content_type, bytes(data)))
    return checked


def text_links(content: bytes) -> list[str]:
    """The links in the plain-text part of a stored message (for the development log)."""
    from email import message_from_bytes

    message = message_from_bytes(content, policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return list(dict.fromkeys(_URL.findall(text)))
