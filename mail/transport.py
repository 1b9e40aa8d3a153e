"""Where the worker hands messages over: an SMTP server, or the development mailbox.

A transport is opened once per batch (one SMTP connection for the whole batch) and
raises, per message, one of two errors the worker understands:
- `Rejected`: the server answered about this message; `permanent` for a 5xx answer.
- `Unreachable`: the server could not be reached or the connection broke; nothing is
  known about the message, which is simply tried again later.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Protocol

import aiosmtplib

from config import Settings
from mail.compose import parse_mailbox, text_links

log = logging.getLogger("kabinet.mail")


class Rejected(Exception):
    """The server refused this message; `reason` is its answer."""

    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Unreachable(Exception):
    """No usable connection to the server; `reason` says what went wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transport(Protocol):
    async def open(self) -> None: ...

    async def deliver(
        self, outbox_id: int, recipient: str, subject: str, content: bytes
    ) -> None: ...

    async def close(self) -> None: ...


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return MailboxTransport(settings.var_path / "mail")


def _answer(code: int, message: str) -> str:
    return f"{code} {' '.join(message.split())}"


def _connect_failure(exc: Exception) -> str:
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"login refused: {_answer(exc.code, exc.message)}"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"session refused: {_answer(exc.code, exc.message)}"
    return f"cannot connect: {exc or type(exc).__name__}"


class SmtpTransport:
    """aiosmtplib over one connection; TLS as SMTP_TLS says, certificates verified."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sender = parse_mailbox(settings.mail_from, "MAIL_FROM").addr_spec
        self.client: aiosmtplib.SMTP | None = None

    async def open(self) -> None:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user or None,
            password=s.smtp_password or None,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",
            timeout=s.smtp_timeout,
            local_hostname=_local_hostname(),
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise Unreachable(f"{s.smtp_host}:{s.smtp_port}: {_connect_failure(exc)}") from None
        self.client = client

    async def deliver(self, outbox_id: int, recipient: str, subject: str, content: bytes) -> None:
        assert self.client is not None, "open() first"
        try:
            await self.client.sendmail(self.sender, [recipient], content)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise Rejected(_answer(first.code, first.message), first.code >= 500) from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as exc:
            self._drop()
            raise Unreachable(f"connection lost: {exc}") from None
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:  # the server is closing the connection: try later
                self._drop()
                raise Unreachable(_answer(exc.code, exc.message)) from None
            raise Rejected(_answer(exc.code, exc.message), exc.code >= 500) from None
        except ValueError as exc:  # an address aiosmtplib refuses to put on the wire
            raise Rejected(f"invalid address: {exc}", permanent=True) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            self._drop()
            raise Unreachable(f"connection failed: {exc}") from None

    def _drop(self) -> None:
        """Forget a broken connection, closing its socket."""
        client, self.client = self.client, None
        if client is not None:
            client.close()

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()


_hostname: str | None = None


def _local_hostname() -> str:
    """The name for EHLO; aiosmtplib's default (getfqdn) may wait on DNS each time."""
    global _hostname
    if _hostname is None:
        _hostname = socket.gethostname() or "localhost"
    return _hostname


class MailboxTransport:
    """Development delivery: each message becomes `VAR_DIR/mail/NNNNNNNN.eml` (named by
    its outbox id, so a retry rewrites the same file) and one log line with the links."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Unreachable(f"cannot create {self.directory}: {exc}") from None

    async def deliver(self, outbox_id: int, recipient: str, subject: str, content: bytes) -> None:
        path = self.directory / f"{outbox_id:08d}.eml"
        partial = path.with_suffix(".eml.part")
        try:
            partial.write_bytes(content)
            os.replace(partial, path)
        except OSError as exc:
            raise Unreachable(f"cannot write {path}: {exc}") from None
        links = " ".join(text_links(content)) or "(no links)"
        log.info("mail to %s: %s | %s | %s", recipient, subject, links, path)

    async def close(self) -> None:
        return None
