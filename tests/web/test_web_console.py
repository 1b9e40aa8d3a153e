"""The specialists' console in a real browser (tests/web/browser.py, which fails a test on
any script, console or CSP error): a customer asks with a photo; the demo specialist
logs in and lands in the console, finds the question with a filter and the keyboard,
opens the customer's data, answers with a photo and closes the question; the customer
sees the answer and, in their security log, the specialist's view. Each role's pages
are closed to the other."""

from __future__ import annotations

import os
import re

import pytest
from playwright.async_api import Page, expect

from config import ROOT
from models.auth import SecurityEvent, SecurityEventKind
from services.ops.demo import DEMO_PASSWORD, DEMO_SPECIALIST, seed_specialist
from tests.questions.support import photo
from tests.web.test_web_account import IVANOVA

pytestmark = pytest.mark.browser

SUBJECT = "Счётчик мигает после замены"
SCREENSHOTS = ROOT / "docs" / "img"


async def screenshot(page: Page, name: str) -> None:
    """With KABINET_SCREENSHOTS=1, the page as the docs show it (docs/img/<name>.png)."""
    if os.environ.get("KABINET_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def log_in(page: Page, email: str, lands_on: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Электронная почта").fill(email)
    await page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page).to_have_url(re.compile(re.escape(lands_on) + r"$"))


async def log_out(page: Page) -> None:
    await page.get_by_role("button", name="Выйти", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/login$"))


async def test_a_specialist_answers_a_question_in_the_console(page, web_server, tmp_path) -> None:
    await seed_specialist()
    specialist_email, specialist_name = DEMO_SPECIALIST
    picture = tmp_path / "meter.png"
    picture.write_bytes(photo("PNG", (40, 30)))
    answer_picture = tmp_path / "seal.png"
    answer_picture.write_bytes(photo("PNG", (30, 20)))

    # Given a customer's question about the meter, with a photo
    await log_in(page, IVANOVA, "/dashboard")
    await page.goto("/questions")
    ask = page.get_by_role("form", name="Задать вопрос")
    await ask.get_by_label("Тема").select_option(label="Счётчик: поломка, замена, поверка")
    await ask.get_by_label("Коротко о чём вопрос").fill(SUBJECT)
    await ask.get_by_label("Вопрос", exact=True).fill("После замены счётчик мигает красным.")
    await ask.get_by_label("Фотографии (необязательно)").set_input_files(picture)
    await ask.get_by_role("button", name="Отправить вопрос").click()
    await expect(page.get_by_role("heading", name=SUBJECT)).to_be_visible()
    question_url = page.url
    # A customer never sees the console: its address leads to their start page
    await expect(page.get_by_role("link", name="Очередь вопросов")).to_have_count(0)
    await page.goto("/console")
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await log_out(page)

    # When the specialist logs in, the console is where they land
    await log_in(page, specialist_email, "/console")
    await expect(page.get_by_role("heading", name="Очередь вопросов")).to_be_visible()
    await expect(page.get_by_role("link", name="Главная")).to_have_count(0)
    filters = page.get_by_role("form", name="Отбор вопросов")
    await filters.get_by_label("Тема").select_option(label="Счётчик: поломка, замена, поверка")
    await filters.get_by_role("button", name="Показать").click()
    await expect(page).to_have_url(re.compile(r"/console\?topic=METER$"))
    item = page.locator(".queue-item").filter(has_text=SUBJECT)
    await expect(item).to_contain_text("Новое от клиента")
    await expect(item).to_contain_text("ждёт")
    await expect(page.locator(".queue-item")).to_have_count(1)  # the filter keeps the rest out
    await screenshot(page, "console-queue")
    # The keyboard: j to the first question, Enter to open it
    await page.locator("h1").focus()
    await page.keyboard.press("j")
    await expect(page.get_by_role("link", name=SUBJECT)).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=SUBJECT)).to_be_visible()
    await expect(page.get_by_text("После замены счётчик мигает красным.")).to_be_visible()
    thumbnail = page.get_by_role("img", name="Фотография 1, открыть в полном размере")
    assert await thumbnail.evaluate("img => img.naturalWidth") == 40
    # Nothing of the customer's data was seen yet, so nothing is logged
    assert await SecurityEvent.filter(kind=SecurityEventKind.STAFF_VIEWED).count() == 0

    # The customer's data, asked for, beside the thread
    await page.get_by_role("button", name="Показать данные клиента").click()
    context = page.get_by_role("complementary", name="Данные клиента")
    await expect(context).to_contain_text(f"Почта: {IVANOVA}")
    await expect(
        context.get_by_role("heading", name=re.compile(r"Лицевой счёт №"))
    ).not_to_have_count(0)
    await expect(context.get_by_text("Последние показания").first).to_be_visible()
    await expect(context.get_by_text("Последние платежи").first).to_be_visible()
    await expect(context.get_by_text("Последние квитанции").first).to_be_visible()
    await screenshot(page, "console-question")

    # r goes to the answer; it is sent with a photo; then the question is closed
    await page.locator("h1").focus()
    await page.keyboard.press("r")
    answer = page.get_by_role("form", name="Ответ клиенту")
    await expect(answer.get_by_label("Текст ответа")).to_be_focused()
    await page.keyboard.type("Это проверка связи, так и должно быть. Пломба на фото.")
    await answer.get_by_label("Фотографии (необязательно)").set_input_files(answer_picture)
    await answer.get_by_role("button", name="Отправить ответ").click()
    await expect(page.get_by_role("status").filter(has_text="Ответ отправлен")).to_be_visible()
    await expect(page.get_by_text(f"Ведёт: {specialist_name}").first).to_be_visible()
    await page.get_by_role("button", name="Закрыть вопрос").click()
    await expect(page.get_by_role("status").filter(has_text="Вопрос закрыт.")).to_be_visible()
    await expect(page.get_by_role("button", name="Открыть снова")).to_be_visible()
    # A specialist has no customer pages
    await page.goto("/dashboard")
    await expect(page).to_have_url(re.compile(r"/console$"))
    await log_out(page)

    # Then the customer sees the answer with its photo, and the view in the security log
    await log_in(page, IVANOVA, "/dashboard")
    await page.goto(question_url)
    await expect(page.get_by_text("Это проверка связи")).to_be_visible()
    await expect(page.get_by_text(re.compile(r"^Вопрос закрыт"))).to_be_visible()
    assert (
        await page.get_by_role("img", name="Фотография 1")
        .nth(1)
        .evaluate("img => img.naturalWidth")
        == 30
    )
    await page.get_by_role("link", name="Журнал безопасности").click()
    viewed = page.locator("tr[data-kind=STAFF_VIEWED]")
    await expect(viewed).to_have_count(1)
    await expect(viewed).to_contain_text(
        f"Специалист компании ({specialist_name}) смотрел ваши счета"
    )
    await screenshot(page, "security-log")
    await viewed.get_by_role("link", name="открыть вопрос").click()
    await expect(page).to_have_url(question_url)
