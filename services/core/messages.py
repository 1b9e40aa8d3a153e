"""What the customer reads: an error code's sentence (its `Sentence` in Russian, the default,
or English) filled with the error's params as each language writes them."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from config import get_settings
from services.core.errors import RuleError

LANGUAGES = ("ru", "en")

_QUALITY = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def language_from_header(header: str | None) -> str:
    """The best of ru/en for an Accept-Language header; Russian when nothing matches."""
    best, best_q = "ru", -1.0
    for part in (header or "").split(","):
        match = _QUALITY.match(part)
        if not match:
            continue
        lang = match[1].lower()
        try:
            q = float(match[2]) if match[2] else 1.0
        except ValueError:
            continue
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


def _local(moment: dt.datetime, language: str) -> str:
    local = moment.astimezone(ZoneInfo(get_settings().timezone))
    if language == "ru":
        return local.strftime("%H:%M %d.%m.%Y")
    return local.strftime("%Y-%m-%d %H:%M")


def _localized(value: object, language: str) -> object:
    """Dates as each language writes them; zone names (ZoneLabel) in the language."""
    localized = getattr(value, "localized", None)
    if callable(localized):
        return localized(language)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y") if language == "ru" else value.isoformat()
    return value


def message_for(error: RuleError, language: str) -> str:
    language = language if language in LANGUAGES else "ru"
    sentence = getattr(error.code.sentence_for(error.params.get("reason")), language)
    params = {k: _localized(v, language) for k, v in error.params.items() if k != "reason"}
    if error.retry_after is not None:
        params["retry_after"] = _local(error.retry_after, language)
    try:
        return sentence.format(**params)
    except (KeyError, IndexError):
        return sentence
