"""Mail fixtures for every test that sends e-mail: a real SMTP server and the helpers.

- `smtp`: an aiosmtpd server on a free local port that records what it accepts, can
  answer 4xx/5xx, and can be stopped and started again (same port).
- `smtp_settings`: the test's `settings` pointed at it (plain SMTP, short timeouts).
- `clock`: a `ManualClock` to hand to workers (`MailWorker(settings, clock=clock)`).
- `await deliver_all(settings)`: run a worker until the outbox has nothing due.
- `links_in(message)`: the links of a received message (both parts).

A flow test reads like this::

    async def test_verification_mail(client, smtp, smtp_settings):
        ...  # call the mutation
        await deliver_all(smtp_settings)
        [message] = smtp.messages
        [link] = [u for u in links_in(message) if "/verify-email" in u]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from aiosmtpd.controller import Controller

from config import Settings
from mail.worker import MailWorker
from tests.conftest import with_settings

__all__ = ["ManualClock", "SmtpSink", "deliver_all", "links_in"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """A real SMTP server (aiosmtpd, in a thread of its own) that keeps what it accepts.

    `messages` are the accepted messages parsed as `EmailMessage`, in arrival order;
    `envelopes` their (MAIL FROM, RCPT TO list). `answer("451 4.3.0 Later", times=1)`
    makes the next RCPT (or DATA with `at="data"`) get that reply instead; `times=None`
    keeps answering it until `answer(None)`.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._reply: dict[str, tuple[str, int | None]] = {}
        self._lock = threading.Condition()
        self._controller: Controller | None = None

    # ------------------------------------------------------------ control

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def answer(self, reply: str | None, *, times: int | None = None, at: str = "rcpt") -> None:
        assert at in {"rcpt", "data"}
        with self._lock:
            if reply is None:
                self._reply.pop(at, None)
            else:
                self._reply[at] = (reply, times)

    def environment(self, poll_seconds: float = 0.05) -> dict[str, str]:
        """The settings that send a `kabinet` process's mail here (tests/processes.py)."""
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.port),
            "SMTP_TLS": "none",
            "MAIL_POLL_SECONDS": str(poll_seconds),
        }

    def by_message_id(self) -> dict[str, list[EmailMessage]]:
        found: dict[str, list[EmailMessage]] = {}
        for message in self.messages:
            found.setdefault(message["Message-ID"], []).append(message)
        return found

    async def wait_for(self, count: int, within: float = 10) -> None:
        """For tests where a worker runs on its own (the lifespan, a process)."""

        def wait() -> bool:
            with self._lock:
                return self._lock.wait_for(lambda: len(self.messages) >= count, within)

        if not await asyncio.to_thread(wait):
            raise AssertionError(f"{len(self.messages)} message(s) arrived, expected {count}")

    # ------------------------------------------------------------ aiosmtpd handler

    def _take_reply(self, at: str) -> str | None:
        with self._lock:
            if at not in self._reply:
                return None
            reply, times = self._reply[at]
            if times is not None:
                if times <= 1:
                    del self._reply[at]
                else:
                    self._reply[at] = (reply, times - 1)
            return reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        reply = self._take_reply("rcpt")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        reply = self._take_reply("data")
        if reply is not None:
            return reply
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._lock.notify_all()
        return "250 2.0.0 Accepted"


class ManualClock:
    """Time for workers under test: real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)


async def deliver_all(
    settings: Settings, *, clock: ManualClock | None = None, worker: MailWorker | None = None
) -> int:
    """Run a worker until nothing in the outbox is due; returns how many it claimed.
    Messages put off (a retry, an unreachable server) stay for a later call, after
    `clock.advance(...)`."""
    worker = worker or MailWorker(settings, clock=clock or ManualClock())
    claimed = 0
    for _round in range(100_000):
        batch = await worker.run_once()
        if batch == 0:
            return claimed
        claimed += batch
    raise AssertionError("the outbox never ran dry")


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value for name, value in attrs if name == "href" and value]


def links_in(message: EmailMessage) -> list[str]:
    """Every link of a message: the URLs of its text part and the hrefs of its HTML part."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    links = re.findall(r"https?://\S+", text.get_content()) if text is not None else []
    if html is not None:
        parser = _Hrefs()
        parser.feed(html.get_content())
        links += parser.hrefs
    return list(dict.fromkeys(links))


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_settings(settings: Settings, smtp: SmtpSink) -> Settings:
    return with_settings(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_tls="none",
        smtp_timeout=5.0,
        mail_poll_seconds=0.05,
        mail_from="Личный кабинет <noreply@lk.example.ru>",
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
