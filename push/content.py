"""The texts of a push: `mail/templates/push/EVENT.LANG.txt`, beside the mail templates,
with a `title` and a `body` block each; Russian when there is no such translation."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jinja2

from mail.compose import TEMPLATES

PUSH_TEMPLATES = TEMPLATES / "push"
LANGUAGES = ("ru", "en")


class PushTemplateError(Exception):
    """A push template is missing, or lacks a block or a variable: a bug, never input."""


@dataclass(frozen=True)
class Text:
    title: str
    body: str


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PUSH_TEMPLATES),
        autoescape=False,  # noqa: S701 - plain text shown by the phone, never HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def events() -> list[str]:
    return sorted(p.name.removesuffix(".ru.txt") for p in PUSH_TEMPLATES.glob("*.ru.txt"))


def render(event: str, language: str, context: Mapping[str, Any]) -> Text:
    language = language if language in LANGUAGES else "ru"
    if not (PUSH_TEMPLATES / f"{event}.{language}.txt").is_file():
        language = "ru"
    try:
        template = _environment().get_template(f"{event}.{language}.txt")
        values = template.new_context(dict(context))
        title = " ".join("".join(template.blocks["title"](values)).split())
        body = " ".join("".join(template.blocks["body"](values)).split())
    except jinja2.TemplateNotFound:
        raise PushTemplateError(f"no push template {event!r}; known: {events()}") from None
    except KeyError as exc:
        raise PushTemplateError(f"push template {event!r} has no block {exc}") from None
    except jinja2.UndefinedError as exc:
        raise PushTemplateError(f"push template {event!r}: {exc.message}") from None
    return Text(title[:255], body)
