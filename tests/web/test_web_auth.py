"""The web client's ways in, in a real browser (tests/web/browser.py): logging in and out,
registering with the e-mailed verification link, and recovering a cabinet without its
mailbox."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from services.ops.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


async def test_login_language_and_logout(page, web_server) -> None:
    # Given a visitor who opens the cabinet: the start page asks to log in first
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    await expect(page.get_by_role("heading", name="Вход в личный кабинет")).to_be_visible()
    # the first Tab reaches the skip link, which jumps over the menu to the page
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()

    # When the password is wrong, the form says so in a sentence
    await page.get_by_label("Электронная почта").fill("ivanova@example.com")
    await page.get_by_label("Пароль").fill("not the password")
    await page.get_by_role("button", name="Войти").click()
    await expect(page.get_by_role("alert")).to_contain_text("Неверная почта или пароль")

    # When it is right, the cabinet opens, and the session is a cookie scripts cannot read
    await page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await expect(page.get_by_text("Вы вошли как ivanova@example.com")).to_be_visible()
    await expect(
        page.get_by_role("heading", name="Мои лицевые счета")
    ).to_be_focused()  # for screen readers
    assert await page.evaluate("document.cookie") == ""
    await page.reload()
    await expect(page.get_by_text("Вы вошли как ivanova@example.com")).to_be_visible()

    # The language switch turns the app English, and the choice survives a reload
    await page.get_by_role("button", name="Switch to English").click()
    await expect(page.get_by_role("link", name="Readings")).to_be_visible()
    await page.reload()
    await expect(page.get_by_text("Logged in as ivanova@example.com")).to_be_visible()

    # Logging out ends the session on the server, not only on the page
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.goto("/readings")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Freadings$"))


async def test_registration_with_email_verification(page, web_server) -> None:
    # Given a customer whose account has no cabinet yet (Волкова pays 900.00 a month)
    await page.goto("/login")
    await page.get_by_role("link", name="Нет кабинета? Зарегистрируйтесь").click()
    await expect(page.get_by_role("heading", name="Регистрация")).to_be_visible()

    # Consent to the personal-data notice is asked for, next to its checkbox
    await page.get_by_label("Номер лицевого счёта").fill("001234567894")
    await page.get_by_label("Сумма платежа").fill("100")
    await page.get_by_label("Электронная почта").fill("volkova@example.org")
    await page.get_by_label("Пароль", exact=True).fill("my own long passphrase")
    await page.get_by_role("button", name="Зарегистрироваться").click()
    consent = page.get_by_label("Я ознакомился(-ась) с уведомлением об обработке")
    await expect(consent).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_text("отметьте, что вы ознакомились")).to_be_visible()
    notice = page.get_by_role("link", name="уведомлением об обработке персональных данных")
    await expect(notice).to_have_attribute("href", f"{web_server.url}/privacy?lang=ru")
    await consent.check()

    # A wrong amount is explained, next to nothing else being lost
    await page.get_by_role("button", name="Зарегистрироваться").click()
    await expect(page.get_by_role("alert")).to_contain_text("не совпадают с нашими данными")

    # The right amount, typed as people type it, creates the cabinet: "check your mail"
    await page.get_by_label("Сумма платежа").fill("900,00")
    await page.get_by_role("button", name="Зарегистрироваться").click()
    await expect(page.get_by_role("heading", name="Проверьте почту")).to_be_visible()
    await expect(page.get_by_text("Мы отправили письмо на volkova@example.org")).to_be_visible()

    # Logged in before confirming, the cabinet reminds of the letter
    await page.get_by_role("link", name="Войти в кабинет").click()
    await page.get_by_label("Электронная почта").fill("volkova@example.org")
    await page.get_by_label("Пароль").fill("my own long passphrase")
    await page.get_by_role("button", name="Войти").click()
    await expect(page.get_by_text("Адрес volkova@example.org ещё не подтверждён")).to_be_visible()

    # The link from the letter confirms the address (after a click: scanners change nothing)
    [letter] = await web_server.mail(1)
    assert letter["To"] == "volkova@example.org"
    await page.goto(web_server.link(letter, "/verify-email?token="))
    await page.get_by_role("button", name="Подтвердить адрес").click()
    await expect(page.get_by_text("Адрес volkova@example.org подтверждён")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/verify-email$"))  # the spent token is gone
    await page.get_by_role("link", name="Перейти в кабинет").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await expect(page.get_by_text("ещё не подтверждён")).to_have_count(0)


async def test_recovery_without_email(page, web_server) -> None:
    # Given a customer who lost the mailbox of the cabinet (Иванова's: ivanova@example.com)
    await page.goto("/login")
    await page.get_by_role("link", name="Забыли пароль или нет доступа к почте?").click()
    await page.get_by_role("link", name="Восстановить без доступа к почте").click()
    await expect(
        page.get_by_role("heading", name="Шаг 1 из 3: Докажите, что счёт ваш")
    ).to_be_visible()

    # Step 1 explains each refusal: no payments in a year names the payment to make ...
    await page.get_by_label("Номер лицевого счёта").fill("001234567893")
    await page.get_by_label("Сумма платежа").fill("100")
    await page.get_by_role("button", name="Продолжить").click()
    await expect(page.get_by_text("Внесите минимальный платёж 10,00 ₽")).to_be_visible()
    # ... and an account without a cabinet sends the customer to registration
    await page.get_by_label("Номер лицевого счёта").fill("001234567895")
    await page.get_by_label("Сумма платежа").fill("1200")
    await page.get_by_role("button", name="Продолжить").click()
    await expect(page.get_by_text("ещё не подключён личный кабинет")).to_be_visible()

    # The right proof finds the cabinet and shows its address masked
    await page.get_by_label("Номер лицевого счёта").fill("001234567890")
    await page.get_by_label("Сумма платежа").fill("1 500,00")
    await page.get_by_role("button", name="Продолжить").click()
    await expect(page.get_by_text("зарегистрирован на адрес i***@example.com")).to_be_visible()

    # Step 2: a new address; the link goes there, and the old address is told
    await page.get_by_label("Новый адрес электронной почты").fill("maria@example.org")
    await page.get_by_role("button", name="Прислать ссылку").click()
    await expect(page.get_by_text("Ссылка отправлена на maria@example.org")).to_be_visible()
    letters = await web_server.mail(2)
    assert sorted(letter["To"] for letter in letters) == [
        "ivanova@example.com",
        "maria@example.org",
    ]
    [letter] = [letter for letter in letters if letter["To"] == "maria@example.org"]

    # Step 3: the link opens /set-password, where a weak password is refused in a sentence
    await page.goto(web_server.link(letter, "/set-password?token="))
    await page.get_by_role("textbox", name="Новый пароль").fill("password")
    await page.get_by_role("button", name="Сохранить пароль").click()
    await expect(page.get_by_text("Этот пароль слишком распространён")).to_be_visible()
    await page.get_by_role("textbox", name="Новый пароль").fill("a new long passphrase")
    await page.get_by_role("button", name="Сохранить пароль").click()
    await expect(page.get_by_text("Пароль сохранён")).to_be_visible()

    # The cabinet now opens with the new address and password
    await page.get_by_role("link", name="Войти").click()
    await page.get_by_label("Электронная почта").fill("maria@example.org")
    await page.get_by_label("Пароль").fill("a new long passphrase")
    await page.get_by_role("button", name="Войти").click()
    await expect(page.get_by_text("Вы вошли как maria@example.org")).to_be_visible()


async def test_password_reset_by_email(page, web_server) -> None:
    # Given a customer who forgot the password but has the mailbox
    await page.goto("/forgot-password")
    await page.get_by_label("Электронная почта").fill("kuznetsova@example.com")
    await page.get_by_role("button", name="Прислать ссылку").click()
    await expect(
        page.get_by_text("Если кабинет с адресом kuznetsova@example.com существует")
    ).to_be_visible()

    # The link from the letter sets a new password, and the old one no longer works
    [letter] = await web_server.mail(1)
    await page.goto(web_server.link(letter, "/set-password?token="))
    await page.get_by_role("textbox", name="Новый пароль").fill("another long passphrase")
    await page.get_by_role("button", name="Сохранить пароль").click()
    await expect(page.get_by_text("Пароль сохранён")).to_be_visible()
    await page.get_by_role("link", name="Войти").click()
    await page.get_by_label("Электронная почта").fill("kuznetsova@example.com")
    await page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page.get_by_role("alert")).to_contain_text("Неверная почта или пароль")
    await page.get_by_label("Пароль").fill("another long passphrase")
    await page.get_by_role("button", name="Войти").click()
    # Her cabinet writes to her in English, so the client switches to it at login
    await expect(page.get_by_text("Logged in as kuznetsova@example.com")).to_be_visible()
    await page.get_by_role("button", name="Перейти на русский язык").click()
    await expect(page.get_by_text("Вы вошли как kuznetsova@example.com")).to_be_visible()

    # A used link says what to do instead of failing silently
    await page.goto(web_server.link(letter, "/set-password?token="))
    await page.get_by_role("textbox", name="Новый пароль").fill("yet another long passphrase")
    await page.get_by_role("button", name="Сохранить пароль").click()
    await expect(page.get_by_role("alert")).to_contain_text("Ссылка недействительна")


@pytest.mark.server_env(PRIVACY_NOTICE_VERSION="2027-01-15")
async def test_a_new_privacy_notice_is_asked_for_until_accepted(page, web_server) -> None:
    # Given a customer who accepted the notice of 2026-12-01, and a new one published since
    await page.goto("/login")
    await page.get_by_label("Электронная почта").fill("ivanova@example.com")
    await page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    banner = page.locator("[data-banner=privacy]")
    await expect(banner).to_contain_text("редакция от 2027-01-15")
    read = banner.get_by_role("link", name="Прочитать уведомление")
    await expect(read).to_have_attribute("href", f"{web_server.url}/privacy?lang=ru")

    # it stays from page to page until accepted
    await page.get_by_role("link", name="Квитанции").first.click()
    await expect(banner).to_be_visible()
    await banner.get_by_role("button", name="Ознакомился(-ась) и согласен(-на)").click()
    await expect(banner).to_have_count(0)
    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(banner).to_have_count(0)

    # the notice itself, as the link opens it
    await page.goto("/privacy?lang=ru")
    await expect(page.locator("#privacy-version")).to_have_text("2027-01-15")
