"""A planted payment in a real browser (issue 16 items 4-6): the held recovery on
/set-password, the owner's "Cancel, this wasn't me" page, and the freeze page of a
security notice, each asking first and acting on its button only."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.async_api import expect

from models.accounts import Account
from models.auth import HoldState, ProofHold
from models.billing import Payment
from models.cabinets import Cabinet
from tests.web.test_web_console import log_in

pytestmark = pytest.mark.browser


async def test_a_held_recovery_and_its_cancel_page(page, web_server) -> None:
    # Given a payment of 10 roubles someone made into Иванова's account a moment ago
    await Payment.create(
        account=await Account.get(number="001234567890"),
        amount=Decimal("10.00"),
        paid_at=dt.datetime.now(dt.UTC),
        channel="Сбербанк Онлайн",
        external_id="PLANTED-1",
    )
    # When someone recovers the cabinet with that amount
    await page.goto("/login")
    await page.get_by_role("link", name="Забыли пароль или нет доступа к почте?").click()
    await page.get_by_role("link", name="Восстановить без доступа к почте").click()
    await page.get_by_label("Номер лицевого счёта").fill("001234567890")
    await page.get_by_label("Сумма платежа").fill("10")
    await page.get_by_role("button", name="Продолжить").click()
    await page.get_by_label("Новый адрес электронной почты").fill("attacker@example.org")
    await page.get_by_role("button", name="Прислать ссылку").click()
    await expect(page.get_by_text("Ссылка отправлена на attacker@example.org")).to_be_visible()
    letters = await web_server.mail(2)
    [letter] = [m for m in letters if m["To"] == "attacker@example.org"]
    await page.goto(web_server.link(letter, "/set-password?token="))
    await page.get_by_role("textbox", name="Новый пароль").fill("a new long passphrase")
    await page.get_by_role("button", name="Сохранить пароль").click()

    # Then the page says it is held, and until when
    await expect(page.get_by_text("восстановление задержано до")).to_be_visible()
    assert (await Cabinet.get(id=(await ProofHold.get()).cabinet_id)).email == "ivanova@example.com"  # type: ignore[attr-defined]

    # The owner's warning links to a page that asks, and cancels on its button
    [warning] = [m for m in await web_server.mail(3) if "Кто-то" in m["Subject"]]
    await page.goto(web_server.link(warning, "/security/cancel-hold?token="))
    await expect(page.get_by_text("a***@example.org")).to_be_visible()
    assert (await ProofHold.get()).state == HoldState.HELD
    await page.get_by_role("button", name="Отменить: это был не я").click()
    await expect(page.get_by_text("восстановление отменено")).to_be_visible()
    assert (await ProofHold.get()).state == HoldState.CANCELED

    # and the owner's security log says both in words
    await log_in(page, "ivanova@example.com", "/dashboard")
    await page.goto("/security")
    await expect(page.locator("tr[data-kind=PROOF_HELD]")).to_contain_text(
        "Изменение, подтверждённое платежом, отложено на время проверки: a***@example.org"
    )
    await expect(page.locator("tr[data-kind=PROOF_HOLD_CANCELED]")).to_contain_text(
        "Отложенное изменение отменено"
    )


async def test_the_freeze_page_of_a_notice(page, web_server) -> None:
    # Given a password reset someone completed with Кузнецова's mailbox
    await page.goto("/forgot-password")
    await page.get_by_label("Электронная почта").fill("kuznetsova@example.com")
    await page.get_by_role("button", name="Прислать ссылку").click()
    [letter] = await web_server.mail(1)
    await page.goto(web_server.link(letter, "/set-password?token="))
    await page.get_by_role("textbox", name="Новый пароль").fill("another long passphrase")
    await page.get_by_role("button", name="Сохранить пароль").click()
    await expect(page.get_by_text("Пароль сохранён")).to_be_visible()

    # The notice's "this wasn't me" opens a page that asks first
    [_, notice] = await web_server.mail(2)
    await page.goto(web_server.link(notice, "/security/freeze?token="))
    await expect(page.get_by_text("Заморозить кабинет?")).to_be_visible()
    assert (await Cabinet.get(email="kuznetsova@example.com")).frozen_at is None
    await page.get_by_role("button", name="Заморозить кабинет").click()
    await expect(page.get_by_text("кабинет заморожен")).to_be_visible()

    # And the right password no longer lets anyone in
    await page.goto("/login")
    await page.get_by_label("Электронная почта").fill("kuznetsova@example.com")
    await page.get_by_label("Пароль").fill("another long passphrase")
    await page.get_by_role("button", name="Войти").click()
    await expect(page.get_by_role("alert")).to_contain_text("Кабинет заморожен")

    # A specialist finds it in the queue of frozen cabinets, checks, and lifts the freeze
    from services.ops.demo import DEMO_SPECIALIST, seed_specialist
    from services.security.freeze import QUESTION_SUBJECT
    from tests.web.test_web_console import log_in as log_in_as
    from tests.web.test_web_console import log_out

    await seed_specialist()
    await log_in_as(page, DEMO_SPECIALIST[0], "/console")
    filters = page.get_by_role("form", name="Отбор вопросов")
    await filters.get_by_label("Кабинеты").select_option(
        label="Замороженные владельцем («это был не я»)"
    )
    await filters.get_by_role("button", name="Показать").click()
    await expect(page).to_have_url(re.compile(r"/console\?frozen=1$"))
    await expect(page.locator(".queue-item")).to_have_count(1)
    await page.get_by_role("link", name=QUESTION_SUBJECT).click()
    await expect(page.get_by_text("kuznetsova@example.com").first).to_be_visible()
    await page.get_by_role("button", name="Показать данные клиента").click()
    context = page.get_by_role("complementary", name="Данные клиента")
    await expect(context).to_contain_text("Кабинет заморожен владельцем")
    await context.get_by_role("button", name="Снять заморозку").click()
    await expect(page.get_by_role("status").filter(has_text="Заморозка снята")).to_be_visible()
    assert (await Cabinet.get(email="kuznetsova@example.com")).frozen_at is None
    await log_out(page)

    # and the owner logs in again
    await page.get_by_label("Электронная почта").fill("kuznetsova@example.com")
    await page.get_by_label("Пароль").fill("another long passphrase")
    await page.get_by_role("button", name="Войти").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


async def test_a_held_link_on_the_dashboard(page, web_server) -> None:
    from services.ops.demo import DEMO_PASSWORD

    # Given a fresh payment into an account no cabinet holds
    await Payment.create(
        account=await Account.get(number="001234567895"),
        amount=Decimal("10.00"),
        paid_at=dt.datetime.now(dt.UTC),
        channel="Сбербанк Онлайн",
        external_id="PLANTED-2",
    )
    await page.goto("/login")
    await page.get_by_label("Электронная почта").fill("ivanova@example.com")
    await page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page.get_by_text("Вы вошли как ivanova@example.com")).to_be_visible()

    # When it is linked with that amount, the dashboard says when it will join
    form = page.get_by_role("form", name="Подключить ещё один лицевой счёт")
    await form.get_by_label("Номер лицевого счёта").fill("001234567895")
    await form.get_by_label("Сумма одного из платежей, ₽").fill("10")
    await form.get_by_role("button", name="Подключить").click()
    await expect(page.get_by_text("счёт № 001234567895 появится в кабинете")).to_be_visible()
    assert (await ProofHold.get()).state == HoldState.HELD
