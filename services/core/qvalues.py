"""Weighted lists of HTTP headers (`Accept`, `Accept-Encoding`: RFC 9110 12.4.2)."""

from __future__ import annotations


def weights(header: str | None) -> dict[str, float]:
    """{lower-cased item: q} of a header such as `text/html, */*;q=0.8` or `br;q=0.5, gzip`.

    q defaults to 1, is held within 0..1, and a q that is not a number counts as 0 (not
    acceptable); an item named twice keeps its highest q."""
    found: dict[str, float] = {}
    for part in (header or "").split(","):
        item, *options = (piece.strip() for piece in part.split(";"))
        if not item:
            continue
        q = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        found[item.lower()] = max(q, found.get(item.lower(), 0.0))
    return found
