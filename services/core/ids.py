"""Opaque ids: `Kind:pk` in URL-safe base64. The API hands them out, and links in
e-mails carry them (a question's page), so the rules need them without GraphQL."""

from __future__ import annotations

import base64


def encode_id(kind: str, pk: int) -> str:
    raw = f"{kind}:{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_id(kind: str, value: str | None) -> int | None:
    """The primary key behind an id of `kind`; None for anything else (never an error
    that tells a malformed id from someone else's)."""
    parsed = parse_id(value)
    return parsed[1] if parsed is not None and parsed[0] == kind else None


def parse_id(value: str | None) -> tuple[str, int] | None:
    """(kind, primary key) of an id in its one canonical spelling; None for anything
    else. `node(id:)` reads ids of every kind with it.

    Only the one spelling `encode_id` gives is accepted: base64 decoding drops characters
    outside its alphabet and Python reads Unicode digits and leading zeros as numbers, so
    without the comparison one object would answer to many ids (and caches, logs or limits
    keyed by the id would tell them apart)."""
    if not value or len(value) > 100 or not value.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    kind, _, pk = raw.partition(":")
    if not kind or not (pk.isascii() and pk.isdigit()) or len(pk) > 18:
        return None
    parsed = (kind, int(pk))
    return parsed if encode_id(*parsed) == value else None
