"""The signature of payment notifications: HMAC-SHA256 over the timestamp and the body.

    Kabinet-Signature: t=1767225600,v1=5f2c...e9

`v1` is the lowercase hex HMAC-SHA256, keyed with PAYMENT_WEBHOOK_SECRET, of the bytes
`<t>.<body>`; `t` is the Unix time of sending. A notification is accepted when `v1`
matches (compared in constant time) and `t` is within TOLERANCE of our clock, so a
captured request cannot be replayed days later - and a replay inside the window
changes nothing anyway, because a payment moves out of PENDING only once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from config import Settings
from services.core.clock import now

HEADER = "Kabinet-Signature"
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    pass


def webhook_secret(settings: Settings) -> bytes:
    """PAYMENT_WEBHOOK_SECRET, or (outside production) a key derived from SECRET_KEY."""
    if settings.payment_webhook_secret:
        return settings.payment_webhook_secret.encode()
    return hmac.new(settings.secret_key.encode(), b"payment-webhook", hashlib.sha256).digest()


def _mac(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`."""
    moment = int(now().timestamp()) if timestamp is None else timestamp
    return f"t={moment},v1={_mac(secret, moment, body)}"


def verify(secret: bytes, body: bytes, headers: Mapping[str, str]) -> None:
    """Raise SignatureError unless the request carries a valid, fresh signature."""
    value = headers.get(HEADER.lower()) or headers.get(HEADER) or ""
    parts = dict(item.strip().partition("=")[::2] for item in value.split(",") if "=" in item)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or not given:
        raise SignatureError("missing or malformed signature")
    expected = _mac(secret, int(timestamp), body)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError("signature does not match")
    if abs(now().timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise SignatureError("signature is too old or from the future")
