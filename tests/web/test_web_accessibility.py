"""axe-core (tools/axe, pinned by its package-lock.json) run inside the web client's pages
in a real browser: no serious or critical accessibility violation on the ways in, the
customer's pages, or the specialists' console. axe is evaluated through the DevTools
protocol, so the pages keep their strict CSP (no inline script is added); the `page`
fixture still fails the test on any console or CSP error."""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import Page, expect

from config import ROOT
from models.cabinets import Cabinet
from models.questions import QuestionTopic
from services.ops.demo import DEMO_SPECIALIST, seed_specialist
from services.questions import rules as questions
from tests.web.test_web_account import IVANOVA
from tests.web.test_web_console import log_in, log_out

pytestmark = pytest.mark.browser

AXE = ROOT / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}


async def violations(page: Page) -> list[str]:
    """The page's serious and critical violations, one line each (rule, nodes)."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    assert await page.evaluate("() => axe.version")  # it runs in the page
    result = await page.evaluate(
        """async () => {
          const found = await axe.run(document, { resultTypes: ['violations'] });
          return found.violations.map((v) => ({
            id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')),
          }));
        }"""
    )
    return [json.dumps(v, ensure_ascii=False) for v in result if v["impact"] in SERIOUS]


async def check(page: Page, path: str, heading: str | re.Pattern) -> list[str]:
    await page.goto(path)
    await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    await expect(page.locator("#main")).not_to_have_attribute("aria-busy", "true")
    return [f"{path}: {line}" for line in await violations(page)]


@pytest.fixture
def axe_installed() -> None:
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `make tools/axe/node_modules/.installed`")


async def test_no_serious_violation_on_any_page(page, web_server, axe_installed) -> None:
    await seed_specialist()
    found: list[str] = []
    for path, heading in [
        ("/login", "Вход в личный кабинет"),
        ("/register", re.compile("Регистрация")),
        ("/forgot-password", re.compile(".")),
        ("/recover", re.compile(".")),
    ]:
        found += await check(page, path, heading)

    await log_in(page, IVANOVA, "/dashboard")
    for path, heading in [
        ("/dashboard", re.compile(".")),
        ("/readings", re.compile(".")),
        ("/payments", re.compile(".")),
        ("/receipts", re.compile(".")),
        ("/questions", "Вопросы специалистам"),
        ("/security", "Журнал безопасности"),
        ("/settings", "Настройки кабинета"),
        ("/sessions", re.compile(".")),
    ]:
        found += await check(page, path, heading)
    await log_out(page)

    # A question for the console to show, asked through the rules as the form would
    ivanova = await Cabinet.get(email=IVANOVA)
    await questions.ask(
        ivanova,
        account_id=None,
        topic=QuestionTopic.BILLING,
        subject="Почему такая сумма?",
        body="Начислено больше обычного.",
        attachment_ids=[],
    )
    await log_in(page, DEMO_SPECIALIST[0], "/console")
    found += await check(page, "/console?status=ALL", "Очередь вопросов")
    await page.get_by_role("link", name="Почему такая сумма?").click()
    await expect(page.get_by_role("heading", name="Почему такая сумма?")).to_be_visible()
    await page.get_by_role("button", name="Показать данные клиента").click()
    await expect(page.get_by_role("complementary")).to_contain_text("Почта")
    found += [f"question: {line}" for line in await violations(page)]
    assert not found, "\n".join(found)
