"""The e-mail a customer gets when a specialist answers, through a real SMTP server."""

from __future__ import annotations

import pytest

from models.cabinets import Cabinet
from services.core.clock import now
from tests.mail_fixtures import deliver_all, links_in
from tests.questions.support import REPLY, answer, asked, specialist
from tests.support import Api

pytestmark = pytest.mark.usefixtures("demo_data")

LONG_ANSWER = """Здравствуйте, Мария Петровна!

Показания от 20-го приняты, перерасчёт будет в ноябрьской квитанции.
Сумма к оплате уменьшится примерно на 300 рублей.
Если будут вопросы, пишите.
С уважением, Ольга"""


def readable(message) -> str:
    """Headers and both parts, decoded (the parts travel in base64)."""
    parts = [message.get_body(preferencelist=(kind,)).get_content() for kind in ("plain", "html")]
    return "\n".join([str(message.items()), *parts])


async def answer_mail(smtp, smtp_settings, address: str) -> list:
    await deliver_all(smtp_settings)
    return [m for m in smtp.messages if address in m["To"] and "/questions/" in str(links_in(m))]


async def test_the_customer_is_told_of_an_answer(api: Api, smtp, smtp_settings) -> None:
    # Given a customer with a confirmed address who asked a question
    customer = await api.signed_up()
    await Cabinet.filter(email="ivanova@mail.ru").update(email_verified_at=now())
    question = await asked(customer, subject="Перерасчёт за октябрь")
    olga = await specialist(api)
    await deliver_all(smtp_settings)
    before = len(smtp.messages)

    # When a specialist answers
    assert (await answer(olga, question["id"], LONG_ANSWER))["userErrors"] == []

    # Then one message goes to the customer, with the answer's first lines and a link
    [message] = await answer_mail(smtp, smtp_settings, "ivanova@mail.ru")
    assert len(smtp.messages) == before + 1
    assert message["Subject"] == "Ответ на ваш вопрос: Перерасчёт за октябрь"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Здравствуйте, Мария Петровна!" in text
    assert "Показания от 20-го приняты" in text
    assert "Сумма к оплате уменьшится" in text
    assert "Если будут вопросы" not in text  # first lines only
    assert "…" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Показания от 20-го приняты" in html
    assert f"https://lk.example.ru/questions/{question['id']}" in links_in(message)
    assert "olga@" not in readable(message)

    # And the customer's own reply sends nothing
    reply = {"questionId": question["id"], "body": "Спасибо!"}
    await customer.data(REPLY, {"input": reply})
    await deliver_all(smtp_settings)
    assert len(smtp.messages) == before + 1


async def test_english_cabinets_get_it_in_english(api: Api, smtp, smtp_settings) -> None:
    customer = await api.signed_up()
    await Cabinet.filter(email="ivanova@mail.ru").update(email_verified_at=now(), language="en")
    question = await asked(customer, subject="Readings")
    await answer(await specialist(api), question["id"], "Your readings were accepted.")
    [message] = await answer_mail(smtp, smtp_settings, "ivanova@mail.ru")
    assert message["Subject"] == "Answer to your question: Readings"
    assert "Your readings were accepted." in message.get_body(("plain",)).get_content()


async def test_an_unconfirmed_address_learns_only_that_there_is_an_answer(
    api: Api, smtp, smtp_settings
) -> None:
    customer = await api.signed_up()  # the verification link was never followed
    question = await asked(customer)
    await answer(await specialist(api), question["id"], "Ваш долг 1234,56 руб.")
    [message] = await answer_mail(smtp, smtp_settings, "ivanova@mail.ru")
    assert "1234,56" not in readable(message)
    assert "Специалист ответил на ваш вопрос" in readable(message)
    assert f"https://lk.example.ru/questions/{question['id']}" in links_in(message)
