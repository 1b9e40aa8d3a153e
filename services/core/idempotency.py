"""Idempotency keys: what a client sends again on every retry of one request."""

from __future__ import annotations

import re

from services.core.errors import CoreError, RuleError

_KEY = re.compile(r"[\x21-\x7e]{1,64}")


def check_key(key: str, field: str = "idempotencyKey") -> str:
    """1 to 64 visible ASCII characters (a UUID fits); INVALID_IDEMPOTENCY_KEY otherwise."""
    if not _KEY.fullmatch(key or ""):
        raise RuleError(CoreError.INVALID_IDEMPOTENCY_KEY, field)
    return key
