"""The web client's account pages in a real browser (tests/web/browser.py): submitting a
meter reading, paying through the sandbox acquirer, downloading a bill's PDF, asking a
question with a photo."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from models.metering import MeterReading
from models.payments import Autopay
from services.ops.demo import DEMO_PASSWORD
from tests.questions.support import photo

pytestmark = pytest.mark.browser

IVANOVA = "ivanova@example.com"
IVANOVA_METER = "36218457"  # two zones, day and night, read on the 25th of every month


async def log_in(page: Page, path: str, email: str = IVANOVA) -> None:
    await page.goto(path)
    await page.get_by_label("Электронная почта").fill(email)
    await page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page).to_have_url(re.compile(re.escape(path.split("?")[0]) + r"(\?|$)"))


def typed(value: Decimal) -> str:
    """A register value as a Russian customer types it: 8648,316."""
    return f"{value:.3f}".replace(".", ",")


async def test_submit_a_reading_after_an_inline_check(page, web_server) -> None:
    # Given the last accepted reading of the meter
    last = await MeterReading.filter(meter__serial=IVANOVA_METER).order_by("-taken_on").first()
    assert last is not None
    await log_in(page, "/readings")
    meter = page.get_by_role("form", name=f"Счётчик № {IVANOVA_METER}")
    day, night = meter.get_by_label("День, кВт·ч"), meter.get_by_label("Ночь, кВт·ч")

    # When the day value is typed lower than the last one, the form says so under it
    await day.fill(typed(last.t1 - 100))
    await night.fill(typed(last.t2 + 5))
    await expect(day).to_have_attribute("aria-invalid", "true")
    await expect(meter.get_by_text("меньше последнего принятого")).to_be_visible()

    # When it is corrected, the consumption shows before anything is sent
    await day.fill(typed(last.t1 + Decimal("12.5")))
    await expect(meter.get_by_role("status")).to_contain_text("Расход с прошлых показаний")
    await expect(day).not_to_have_attribute("aria-invalid", "true")
    await meter.get_by_role("button", name="Передать показания").click()

    # Then it is accepted, and the history starts with the customer's own reading
    await expect(page.get_by_text(f"Показания счётчика № {IVANOVA_METER}")).to_contain_text(
        "приняты"
    )
    first_row = page.get_by_role("table").get_by_role("row").nth(1)
    await expect(first_row).to_contain_text("передали вы")
    saved = await MeterReading.filter(meter__serial=IVANOVA_METER, source="customer").get()
    assert (saved.t1, saved.t2) == (last.t1 + Decimal("12.5"), last.t2 + 5)


async def test_pay_through_the_sandbox(page, web_server) -> None:
    await log_in(page, "/payments")
    await page.get_by_label("Сумма, ₽").fill("250,50")
    await page.get_by_role("button", name="Перейти к оплате").click()

    # The acquirer's page (the sandbox) takes the payment and sends the customer back
    await expect(page).to_have_url(re.compile(r"/payments/sandbox/"))
    await page.get_by_role("button", name="Оплатить / Pay").click()
    await page.get_by_role("link", name="Вернуться в личный кабинет").click()

    # Back on the page of this payment: its status, and the payment in the history
    await expect(page).to_have_url(re.compile(r"/payments\?payment=[\w-]+$"))
    await expect(page.get_by_role("status").filter(has_text="250,50")).to_contain_text("прошёл")
    first_row = page.get_by_role("table").get_by_role("row").nth(1)
    await expect(first_row).to_contain_text("250,50")
    await expect(first_row).to_contain_text("Личный кабинет")


async def test_a_canceled_payment_says_why(page, web_server) -> None:
    await log_in(page, "/payments")
    await page.get_by_label("Сумма, ₽").fill("99")
    await page.get_by_role("button", name="Перейти к оплате").click()
    await expect(page).to_have_url(re.compile(r"/payments/sandbox/"))
    await page.get_by_role("button", name="Отменить / Cancel").click()
    await page.get_by_role("link", name="Вернуться в личный кабинет").click()
    status = page.get_by_role("status").filter(has_text="99,00")
    await expect(status).to_contain_text("отменён")
    await expect(status).to_contain_text("Платёж отменён.")  # failureReason, the server's words


async def test_autopay_on_through_the_sandbox_then_off(page, web_server) -> None:
    await log_in(page, "/payments")
    autopay = page.get_by_role("region", name="Автоплатёж")
    await autopay.get_by_label("Не больше, ₽ в месяц").fill("5 000")
    await autopay.get_by_role("button", name="Включить автоплатёж").click()

    # The first payment, on the acquirer's page, saves the card
    await expect(page).to_have_url(re.compile(r"/payments/sandbox/"))
    await expect(page.get_by_text("будет сохранена для автоплатежа")).to_be_visible()
    await page.get_by_role("button", name="Оплатить / Pay").click()
    await page.get_by_role("link", name="Вернуться в личный кабинет").click()

    # Back: the payment went through and autopay is on with the saved card and the limit
    await expect(page).to_have_url(re.compile(r"/payments\?payment=[\w-]+$"))
    await expect(page.get_by_role("status").first).to_contain_text("прошёл")
    await expect(autopay).to_contain_text("Bank card *4444")
    await expect(autopay).to_contain_text("5 000,00")

    # Off in one step
    await autopay.get_by_role("button", name="Отключить автоплатёж").click()
    await expect(autopay.get_by_role("status")).to_contain_text("Автоплатёж отключён.")
    await expect(autopay.get_by_role("button", name="Включить автоплатёж")).to_be_visible()
    active = await Autopay.filter(active_since__isnull=False).count()
    assert active == 0 and await Autopay.all().count() == 1


async def test_download_a_bill_and_switch_on_the_e_receipt(page, web_server) -> None:
    await log_in(page, "/receipts")
    link = page.get_by_role("link", name=re.compile(r"^Скачать PDF за")).first
    async with page.expect_download() as event:
        await link.click()
    download = await event.value
    assert download.suggested_filename.endswith(".pdf")
    with open(await download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # The chart tells its story in words too
    await expect(page.get_by_role("img", name=re.compile("Расход электроэнергии"))).to_be_visible()

    await page.get_by_role("button", name="Получать по почте").click()
    await expect(page.get_by_role("status").first).to_contain_text(
        "будут приходить на адрес кабинета"
    )
    await expect(page.get_by_text(f"Квитанции приходят на {IVANOVA}")).to_be_visible()


async def test_ask_a_question_with_a_photo(page, web_server, tmp_path) -> None:
    picture = tmp_path / "meter.png"
    picture.write_bytes(photo("PNG", (40, 30)))
    await log_in(page, "/questions")
    ask = page.get_by_role("form", name="Задать вопрос")

    # Without a subject the form says what is missing, next to the field
    await ask.get_by_label("Тема").select_option(label="Показания")
    await ask.get_by_label("Вопрос", exact=True).fill(
        "Счётчик показывает странные цифры, фото прилагаю."
    )
    await ask.get_by_role("button", name="Отправить вопрос").click()
    await expect(ask.get_by_text("Напишите в одной строке, о чём вопрос.")).to_be_visible()

    await ask.get_by_label("Коротко о чём вопрос").fill("Странные цифры на счётчике")
    await ask.get_by_label("Фотографии (необязательно)").set_input_files(picture)
    await ask.get_by_role("button", name="Отправить вопрос").click()

    # The question's own page (the one the answer's e-mail links to) shows it with the photo
    await expect(page).to_have_url(re.compile(r"/questions/[^/]+$"))
    await expect(page.get_by_role("heading", name="Странные цифры на счётчике")).to_be_visible()
    await expect(page.get_by_text("Счётчик показывает странные цифры")).to_be_visible()
    await expect(page.get_by_role("img", name="Фотография 1")).to_be_visible()
    assert (
        await page.get_by_role("img", name="Фотография 1").evaluate("img => img.naturalWidth") == 40
    )

    await page.get_by_role("link", name="Все вопросы").click()
    await expect(page.get_by_role("link", name="Странные цифры на счётчике")).to_be_visible()
    await expect(page.get_by_text("Ждёт ответа")).to_be_visible()
