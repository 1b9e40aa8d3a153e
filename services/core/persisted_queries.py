"""Automatic persisted queries (Apollo's APQ protocol, version 1).

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}`; without `query`
the stored document is run, or PERSISTED_QUERY_NOT_FOUND tells the client to send it
once with the hash. Documents are kept in the database (so every server process knows
them) behind a small in-process cache, only after they validated and ran, and at most
APQ_MAX_ENTRIES of them (the oldest go first). A client registers at most
APQ_REGISTRATIONS_PER_HOUR new documents (counted in the database, so across processes,
before the document is even parsed); the endpoint has refused any document over
MAX_QUERY_BYTES before it gets here, so nothing stored is ever larger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import OrderedDict
from typing import Any

from config import get_settings
from models.persisted import PersistedQuery
from services.core import throttle
from services.core.clock import now
from services.core.errors import RequestError, RuleError

_HASH = re.compile(r"[0-9a-f]{64}")
_LOCAL: OrderedDict[str, str] = OrderedDict()
LOCAL_SIZE = 1000


class PersistedQueryProblem(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def _remember_locally(sha: str, query: str) -> None:
    _LOCAL[sha] = query
    _LOCAL.move_to_end(sha)
    while len(_LOCAL) > LOCAL_SIZE:
        _LOCAL.popitem(last=False)


async def resolve(
    query: str | None, extensions: dict[str, Any] | None, client_key: str
) -> tuple[str | None, str | None]:
    """(the document to run, the hash to store it under once it ran) for a request;
    `client_key` names the client whose registration budget a new document counts on."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return query, None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryProblem(
            "Unsupported persisted query version", "PERSISTED_QUERY_NOT_SUPPORTED"
        )
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or not _HASH.fullmatch(sha):
        raise PersistedQueryProblem("sha256Hash must be 64 lowercase hex digits", "BAD_REQUEST")
    if query is None:
        known = _LOCAL.get(sha)
        if known is None:
            row = await PersistedQuery.filter(sha256=sha).first()
            if row is None:
                raise PersistedQueryProblem("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
            known = row.query
            if len(known.encode("utf-8")) <= get_settings().max_query_bytes:
                _remember_locally(sha, known)  # a larger one, stored before, is refused
        return known, None
    if hashlib.sha256(query.encode("utf-8")).hexdigest() != sha:
        raise PersistedQueryProblem(
            "provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH"
        )
    if sha in _LOCAL:
        return query, None
    if await PersistedQuery.filter(sha256=sha).exists():
        _remember_locally(sha, query)
        return query, None
    await _count_registration(client_key)
    return query, sha


async def _count_registration(client_key: str) -> None:
    """A new document counts against its client's hourly budget whether or not it then
    validates: a flood of junk costs the flooder, not the table."""
    limit = get_settings().apq_registrations_per_hour
    window = throttle.Window(limit, dt.timedelta(hours=1))
    try:
        await throttle.attempt((f"apq-registration:{client_key}", window))
    except throttle.Throttled as throttled:
        raise RuleError(
            RequestError.TOO_MANY_PERSISTED_QUERIES, retry_after=throttled.retry_after
        ) from None


async def remember(sha: str, query: str) -> None:
    _remember_locally(sha, query)
    await PersistedQuery.bulk_create(
        [PersistedQuery(sha256=sha, query=query, created_at=now())], ignore_conflicts=True
    )
    limit = get_settings().apq_max_entries
    excess = await PersistedQuery.all().count() - limit
    if excess > 0:
        oldest = (
            await PersistedQuery.all()
            .order_by("created_at", "id")
            .limit(excess)
            .values_list("id", flat=True)
        )
        await PersistedQuery.filter(id__in=list(oldest)).delete()
