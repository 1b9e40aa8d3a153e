"""Messages as a mail client sees them: MIME structure, encodings, headers, links."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from mail import MailError, send
from mail.compose import TEMPLATES, check_no_remote_resources, compose, link_builder, render
from models.mail import OutboxMessage
from tests.mail_fixtures import links_in

PUBLIC = "https://lk.example.ru"
SENDER = "Личный кабинет <noreply@lk.example.ru>"
NOTICE = {
    "name": "Мария Петровна",
    "title": "Адрес электронной почты изменён",
    "paragraphs": ["Ваш адрес в личном кабинете изменён.", "Если это были не вы, позвоните."],
    "action": {"label": "Открыть кабинет", "path": "/settings", "params": {"tab": "email"}},
}


def build(context=NOTICE, language="ru", to="Иванова Мария <maria@example.ru>", **kwargs):
    rendered = render("notice", context, language, PUBLIC)
    composed = compose(
        rendered,
        sender=SENDER,
        to=to,
        date=dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC),
        **kwargs,
    )
    return composed, message_from_bytes(composed.content, policy=policy.default)


def test_a_valid_mime_message_with_both_parts_and_encoded_cyrillic() -> None:
    composed, message = build()
    raw = composed.content
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # every Cyrillic header is RFC 2047 encoded
    assert b"=?utf-8?" in head
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends only
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998

    assert message["Subject"] == "Адрес электронной почты изменён"
    assert message["From"].addresses[0].display_name == "Личный кабинет"
    assert message["From"].addresses[0].addr_spec == "noreply@lk.example.ru"
    assert message["To"].addresses[0].display_name == "Иванова Мария"
    assert message["Date"].datetime == dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
    assert re.fullmatch(r"<[0-9a-f]{32}@lk\.example\.ru>", message["Message-ID"])
    assert message["Message-ID"] == composed.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "ru"

    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert "Здравствуйте, Мария Петровна!" in text.get_content()
    assert "<p>Здравствуйте, Мария Петровна!</p>" in html.get_content()
    assert "Если это были не вы, позвоните." in text.get_content()


def test_links_start_with_the_public_web_url() -> None:
    _composed, message = build()
    links = links_in(message)
    assert f"{PUBLIC}/settings?tab=email" in links
    assert links and all(link.startswith(PUBLIC + "/") for link in links)


def test_html_is_escaped_and_text_is_not() -> None:
    context = {**NOTICE, "name": '<script>alert("x")</script> & Co'}
    _composed, message = build(context)
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    assert '<script>alert("x")</script> & Co' in text


def test_english_when_preferred_russian_otherwise() -> None:
    english = build(language="en")[1]
    assert english["Content-Language"] == "en"
    assert "Hello, Мария Петровна!" in english.get_body(("plain",)).get_content()
    for other in ("ru", "de", ""):
        message = build(language=other)[1]
        assert message["Content-Language"] == "ru"
        assert "Здравствуйте" in message.get_body(("plain",)).get_content()


def test_attachments_and_extra_headers() -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    _composed, message = build(
        attachments=[("Квитанция за октябрь 2026.pdf", "application/pdf", pdf)],
        headers={
            "List-Unsubscribe": f"<{PUBLIC}/unsubscribe?t=abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Reply-To": "Служба поддержки <support@lk.example.ru>",
            "X-Campaign": "Квитанции",
        },
    )
    assert message.get_content_type() == "multipart/mixed"
    assert message.get_body(("plain",)) is not None
    assert message.get_body(("html",)) is not None
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "Квитанция за октябрь 2026.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf
    assert message["List-Unsubscribe"] == f"<{PUBLIC}/unsubscribe?t=abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Reply-To"].addresses[0].display_name == "Служба поддержки"
    assert message["Reply-To"].addresses[0].addr_spec == "support@lk.example.ru"
    assert message["X-Campaign"] == "Квитанции"


def test_an_internationalised_domain_is_sent_in_ascii() -> None:
    composed, message = build(to="Мария <maria@почта.рф>")
    assert composed.recipient == "maria@xn--80a1acny.xn--p1ai"
    assert message["To"].addresses[0].domain == "xn--80a1acny.xn--p1ai"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"to": "not an address"}, "to: 'not an address'"),
        ({"to": "a@b.ru, c@d.ru"}, "not exactly one"),
        ({"to": "a@b.ru\r\nBcc: x@evil.ru"}, "expected an e-mail address"),
        ({"to": "иван@почта.рф"}, "ASCII local part"),
        ({"headers": {"Bcc": "x@evil.ru"}}, "Bcc is set by the mail module"),
        ({"headers": {"X-Note": "a\r\nBcc: x@evil.ru"}}, "one line of text"),
        ({"headers": {"Bad Name": "x"}}, "not a header name"),
        ({"headers": {"Reply-To": "support"}}, "Reply-To: 'support' is not an e-mail address"),
        ({"attachments": [("../x.pdf", "application/pdf", b"x")]}, "not a file name"),
        ({"attachments": [("x.pdf", "pdf", b"x")]}, "not a content type"),
        ({"attachments": [("x.pdf", "application/pdf", "text")]}, "must be bytes"),
        ({"attachments": [b"x"]}, "expected \\(file name, content type, bytes\\)"),
    ],
)
def test_bad_input_is_named(kwargs: dict, error: str) -> None:
    with pytest.raises(MailError, match=error):
        build(**kwargs)


def test_unknown_template_and_missing_variables_are_named() -> None:
    with pytest.raises(MailError, match=r"no message 'welcome' in ru .*known: .*notice"):
        render("welcome", {}, "ru", PUBLIC)
    with pytest.raises(MailError, match="not a template name"):
        render("../secrets", {}, "ru", PUBLIC)
    with pytest.raises(MailError, match="'title' is undefined"):
        render("notice", {"name": "", "paragraphs": [], "action": None}, "ru", PUBLIC)


def test_links_are_built_from_settings_only() -> None:
    link = link_builder("https://lk.example.ru/")
    assert (
        link("/verify-email", token="a b&c") == "https://lk.example.ru/verify-email?token=a+b%26c"
    )
    assert link("/") == "https://lk.example.ru/"
    assert link("/x", skip=None) == "https://lk.example.ru/x"
    for bad in ("//evil.example/x", "https://evil.example/x", "verify"):
        with pytest.raises(MailError, match="must start with a single '/'"):
            link(bad)


def test_remote_resources_are_refused() -> None:
    check_no_remote_resources('<p><a href="https://lk.example.ru/">ok</a></p>', "t")
    check_no_remote_resources('<img src="cid:logo" alt="">', "t")
    for html in (
        '<img src="https://tracker.example/p.gif">',
        '<div style="background: url(https://x/y.png)">',
        '<link rel="stylesheet" href="https://x/s.css">',
        '<td background="http://x/bg.png">',
    ):
        with pytest.raises(MailError, match="loads remote resources"):
            check_no_remote_resources(html, "t")


def test_every_template_is_complete() -> None:
    """Each message has ru .txt and .html, with a subject; a translation comes in pairs.
    (Folders hold other channels' texts, e.g. push/: tests/push checks those.)"""
    names = {
        p.name.split(".", 1)[0]
        for p in TEMPLATES.iterdir()
        if p.is_file() and not p.name.startswith("_")
    }
    assert "notice" in names
    for name in names:
        for language in ("ru", "en"):
            text, html = TEMPLATES / f"{name}.{language}.txt", TEMPLATES / f"{name}.{language}.html"
            assert text.is_file() == html.is_file(), (
                f"{name}.{language}: .txt and .html go together"
            )
            assert language == "en" or text.is_file(), f"{name} has no Russian text"
            if text.is_file():
                assert "{% block subject %}" in text.read_text(encoding="utf-8"), text.name


async def test_send_stores_the_message_with_its_message_id(db, settings) -> None:
    row = await send("notice", to="maria@example.ru", context=NOTICE, language="en")
    stored = await OutboxMessage.get(id=row.id)
    message: EmailMessage = message_from_bytes(stored.content, policy=policy.default)
    assert message["Message-ID"] == stored.message_id == row.message_id
    assert (stored.recipient, stored.language, stored.template) == (
        "maria@example.ru",
        "en",
        "notice",
    )
    assert stored.subject == "Адрес электронной почты изменён"
    assert message["From"].addresses[0].addr_spec == "noreply@localhost"
    with pytest.raises(MailError, match="context: expected a mapping"):
        await send("notice", to="maria@example.ru", context=["x"])  # type: ignore[arg-type]
    assert await OutboxMessage.all().count() == 1


def test_every_push_text_is_complete() -> None:
    """Each push (mail/templates/push/) has Russian and English, each with a title and a body."""
    folder = TEMPLATES / "push"
    names = {p.name.split(".", 1)[0] for p in folder.iterdir() if p.is_file()}
    assert "new_login" in names
    for name in names:
        for language in ("ru", "en"):
            text = folder / f"{name}.{language}.txt"
            assert text.is_file(), f"push/{name} has no {language} text"
            source = text.read_text(encoding="utf-8")
            assert "{% block title %}" in source and "{% block body %}" in source, text.name
