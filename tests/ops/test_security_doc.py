"""docs/security.md, the operators' page on limits, stays true to config.py: every setting it
names exists, and every setting that caps or throttles something has its row."""

from __future__ import annotations

import re
from pathlib import Path

from config import Settings

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "security.md"
# `NAME` or `NAME=value` in a code span: a setting, or an error code the API answers with.
_NAME = re.compile(r"`([A-Z][A-Z0-9_]*[A-Z0-9])(?:=[^`]*)?`")
# Settings whose names look like caps but bound no caller: delivery retries, plausibility of
# a meter reading (docs/api.md has those).
NOT_LIMITS = {"MAIL_MAX_ATTEMPTS", "MAIL_RETRY_MAX_SECONDS", "READING_MAX_FACTOR"}
NOT_LIMITS |= {"READING_MAX_DAILY_KWH", "PUSH_MAX_ATTEMPTS", "PUSH_RETRY_MAX_SECONDS"}


def _settings() -> set[str]:
    return {name for name, _default, _doc in Settings.documented()}


def _error_codes() -> set[str]:
    """The codes the API answers with: ErrorCode members and the codes written as strings
    (the HTTP layer's own: TOO_LARGE, RATE_LIMITED, QUERY_TOO_DEEP ...)."""
    codes: set[str] = set()
    for folder in ("routes", "schema", "resolvers", "services"):
        for source in (ROOT / folder).rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            codes.update(re.findall(r"^\s+([A-Z][A-Z0-9_]+) = code\(", text, flags=re.M))
            codes.update(re.findall(r"\"([A-Z][A-Z0-9_]*_[A-Z0-9_]+)\"", text))
    return codes


def test_every_setting_named_exists() -> None:
    settings, codes = _settings(), _error_codes()
    unknown = []
    for number, line in enumerate(PAGE.read_text(encoding="utf-8").splitlines(), 1):
        for name in _NAME.findall(line):
            # OTEL_*: the OpenTelemetry SDK's own variables (docs/operations.md, Tracing)
            if name not in settings and name not in codes and not name.startswith("OTEL_"):
                unknown.append(f"line {number}: {name}")
    assert not unknown, f"docs/security.md names settings config.py lacks: {unknown}"


def test_every_cap_and_throttle_has_its_row() -> None:
    page = PAGE.read_text(encoding="utf-8")
    limits = {
        name
        for name in _settings()
        if re.search(r"MAX_|_PER_|FREE_FAILURES|RATE_LIMIT|_PENDING_|_QUEUE|_BUDGET", name)
    } - NOT_LIMITS
    missing = sorted(name for name in limits if f"`{name}`" not in page)
    assert not missing, f"docs/security.md has no row for {missing}"
