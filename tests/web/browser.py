"""Fixtures for the browser tests: a real `kabinet serve` and Debian's Chromium.

- `web_server`: `kabinet serve` as its own process on the test's database, holding the
  demo accounts and cabinets, its mail going to the test's SMTP sink (`smtp`), its links
  pointing at itself (PUBLIC_WEB_URL). `web_server.mail(count)` waits for that many
  messages and returns them; `web_server.link(message, "/set-password")` picks a link.
- `page`: a fresh Playwright page (its own cookies) in a phone-sized window, with
  relative `goto("/login")`. A test that fails leaves a full-page screenshot in
  `test-artifacts/<test>.png`; a script error or a console error (a CSP violation, a
  failed load) on the page fails the test. `@pytest.mark.browser_context(**options)`
  adds options of Playwright's `new_context` (a proxy, a viewport), and
  `@pytest.mark.server_env(NAME="value")` settings of the server (PAYMENT_PROVIDER="none");
  settings known only when the test runs (the port of a local acquirer's API) come from a
  test module's own `server_environment` fixture, which overrides the empty one here.

Playwright drives the system's Chromium (`/usr/bin/chromium`, the Debian package that
`.ci/run` installs; KABINET_CHROMIUM to use another): no `playwright install`, no browser
downloads. Without it the tests are skipped, except in CI (CI=true), where they fail.
The tests are marked `browser`: `PYTEST_ARGS="-m browser" make test` runs only them,
`-m "not browser"` everything else.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from subprocess import Popen

import pytest
import pytest_asyncio

from config import ROOT
from services.ops import demo
from tests.mail_fixtures import SmtpSink, links_in
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready

CHROMIUM = os.environ.get("KABINET_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000  # a wait that fails, fails after this; a passing one returns at once


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    """Keep each phase's report on the test item, so `page` knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@dataclass
class WebServer:
    url: str
    process: Popen
    smtp: SmtpSink

    async def mail(self, count: int) -> list[EmailMessage]:
        """The first `count` messages the server sent (waiting for them to arrive)."""
        await self.smtp.wait_for(count)
        return self.smtp.messages[:count]

    def link(self, message: EmailMessage, path: str) -> str:
        """The link in `message` to `path` on this server."""
        [link] = [u for u in links_in(message) if u.startswith(f"{self.url}{path}")]
        return link


@pytest.fixture
def server_environment() -> dict[str, str]:
    """Settings of the server a test module computes; override it in the module."""
    return {}


@pytest_asyncio.fixture
async def web_server(
    db,
    demo_data,
    smtp: SmtpSink,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    server_environment: dict[str, str],
) -> AsyncIterator[WebServer]:
    await demo.seed_cabinets()
    marker = request.node.get_closest_marker("server_env")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_kabinet(
        "serve",
        "--port",
        str(port),
        url=db.url,
        tmp_path=tmp_path,
        PUBLIC_WEB_URL=url,
        **smtp.environment(),
        MAIL_FROM="Личный кабинет <noreply@lk.example.ru>",
        LOG_LEVEL="warning",
        # Readings are accepted on any day of the month, so the reading test runs any day.
        READING_WINDOW_START_DAY="1",
        READING_WINDOW_END_DAY="31",
        **(marker.kwargs if marker else {}),
        **server_environment,
    )
    try:
        await wait_until_ready(port, process)
        yield WebServer(url, process, smtp)
    finally:
        _code, err = stop_kabinet(process)
        assert "Traceback" not in err, err


@pytest_asyncio.fixture(scope="session")
async def chromium() -> AsyncIterator:
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        await browser.close()


# Chromium logs every 4xx of a fetch; a 401 is the answer to a session that died, which
# the app handles (tests/web/test_web_session_end.py).
EXPECTED_STATUS = "the server responded with a status of 401 (Unauthorized)"


@pytest_asyncio.fixture
async def page(chromium, web_server: WebServer, request: pytest.FixtureRequest) -> AsyncIterator:
    from playwright.async_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    marker = request.node.get_closest_marker("browser_context")
    context = await chromium.new_context(
        base_url=web_server.url, viewport=PHONE, locale="ru-RU", **(marker.kwargs if marker else {})
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = await context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and not message.text.endswith(EXPECTED_STATUS)
            else None
        ),
    )
    try:
        yield tab
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
            await tab.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    finally:
        await context.close()
    assert not problems, problems
