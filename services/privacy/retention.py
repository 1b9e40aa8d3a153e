"""Keep only what we must (issue 22, 152-FZ): what goes, when, and the job that removes it.

Each kind is one rule: a table, the rows that are due (a SQL condition on the clock) and
what happens to them. A round applies every rule in batches of RETENTION_BATCH_SIZE, one
statement per batch, until nothing is due:

    DELETE FROM t WHERE id IN (SELECT id FROM t WHERE <due> ORDER BY id LIMIT n
                              [FOR UPDATE SKIP LOCKED])

Every server process runs a round each hour and `kabinet retention` runs one on demand,
with no lease and no coordinator: a statement re-checks the condition as it deletes, so a
row is removed once whoever runs it, a row that stopped being due meanwhile (a cabinet
confirmed its address a moment ago) stays, and a second process finds nothing or, on
PostgreSQL, skips the rows the first has locked and takes the next ones. Running two
rounds at once costs at most a few empty index scans; it never deletes twice or wrongly.

The cabinet's own children go with it by the database's ON DELETE rules (sessions, tokens,
its security log, account links, e-receipt subscriptions, pending photos); proof attempts
keep their rows with the cabinet set to null (support's record of who proved what).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from config import Settings, get_settings
from models import sql
from models.auth import Session
from services.core.clock import now


@dataclass(frozen=True)
class Rule:
    kind: str  # as `kabinet retention` prints it
    what: str  # what happens to a due row, for people
    table: str
    due: str  # SQL condition with `?` placeholders (trusted text, never input)
    params: Callable[[Settings, dt.datetime], list]
    empty_content: bool = False  # the outbox: empty the content, keep the row
    # Rows as old that the rule keeps on purpose (SQL on the same params), for the dry run
    kept: str | None = None

    def statement(self, dialect: str) -> str:
        lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgres" else ""
        pick = f"SELECT id FROM {self.table} WHERE {self.due} ORDER BY id LIMIT ?{lock}"  # noqa: S608 (trusted)
        if self.empty_content:
            return f"UPDATE {self.table} SET content = ? WHERE id IN ({pick}) RETURNING id"  # noqa: S608 (trusted)
        return f"DELETE FROM {self.table} WHERE id IN ({pick}) RETURNING id"  # noqa: S608 (trusted)


def _when(moment: dt.datetime) -> object:
    """A moment as the datetime columns hold it (UTC; ISO text on SQLite)."""
    return Session._meta.fields_map["created_at"].to_db_value(moment, None)


def _days_ago(days: int, moment: dt.datetime) -> object:
    return _when(moment - dt.timedelta(days=days))


RULES = (
    Rule(
        "mail bodies",
        "to empty, the row stays",
        "mail_outbox",
        # Delivered messages were emptied on delivery (mail.worker); what is left is failed
        # mail kept for `mail retry`, and mail sent before delivery emptied it.
        "state IN ('sent', 'failed') AND length(content) > 0 AND created_at < ?",
        lambda s, moment: [_days_ago(s.mail_body_retention_days, moment)],
        empty_content=True,
    ),
    Rule(
        "ended sessions",
        "to delete",
        "session",
        # Ended: revoked, past its absolute end, or idle too long; `SESSION_RETENTION_DAYS`
        # after whichever came first.
        "(revoked_at < ? OR expires_at < ? OR last_used_at < ?)",
        lambda s, moment: [
            _days_ago(s.session_retention_days, moment),
            _days_ago(s.session_retention_days, moment),
            _when(
                moment - dt.timedelta(days=s.session_retention_days, minutes=s.session_idle_minutes)
            ),
        ],
    ),
    Rule(
        "security events",
        "to delete",
        "security_event",
        "created_at < ?",
        lambda s, moment: [_days_ago(s.audit_retention_days, moment)],
    ),
    Rule(
        "ended proof holds",
        "to delete",
        "proof_hold",
        # Held recoveries, links and registrations that ended (completed, canceled, failed):
        # evidence of who tried what, kept as long as the security log.
        "state <> 'held' AND created_at < ?",
        lambda s, moment: [_days_ago(s.audit_retention_days, moment)],
    ),
    Rule(
        "unverified cabinets",
        "to delete with their sessions, tokens, log and account links",
        "cabinet",
        # Never confirmed, a customer's, not closed (a frozen cabinet awaits a specialist),
        # and nothing that must stay hangs on it: payments made in it, readings given in it,
        # questions asked in it would go with it by ON DELETE CASCADE.
        "email_verified_at IS NULL AND role = 'customer' AND disabled_at IS NULL "
        "AND frozen_at IS NULL "
        "AND created_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM online_payment p WHERE p.cabinet_id = cabinet.id) "
        "AND NOT EXISTS (SELECT 1 FROM reading_submission r WHERE r.cabinet_id = cabinet.id) "
        "AND NOT EXISTS (SELECT 1 FROM question q WHERE q.cabinet_id = cabinet.id) "
        "AND NOT EXISTS (SELECT 1 FROM question_message m WHERE m.author_id = cabinet.id)",
        lambda s, moment: [_days_ago(s.unverified_cabinet_retention_days, moment)],
        kept="email_verified_at IS NULL AND role = 'customer' AND created_at < ?",
    ),
)


@dataclass(frozen=True)
class Due:
    """What a round would remove of one kind now."""

    kind: str
    what: str
    count: int
    oldest: dt.datetime | None  # created_at of the oldest due row
    kept: int = 0  # as old, but kept: something that must stay hangs on them


async def due() -> list[Due]:
    """What one round would remove now, per kind (`kabinet retention --dry-run`)."""
    settings, moment, conn = get_settings(), now(), sql.connection()
    found = []
    for rule in RULES:
        row = await sql.fetch_one(
            conn,
            f"SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM {rule.table} "  # noqa: S608 (trusted)
            f"WHERE {rule.due}",
            rule.params(settings, moment),
        )
        assert row is not None
        count, kept = int(row["n"]), 0
        if rule.kept:
            old = await sql.fetch_one(
                conn,
                f"SELECT COUNT(*) AS n FROM {rule.table} WHERE {rule.kept}",  # noqa: S608 (trusted)
                rule.params(settings, moment),
            )
            assert old is not None
            kept = int(old["n"]) - count
        found.append(Due(rule.kind, rule.what, count, sql.as_datetime(row["oldest"]), kept))
    return found


async def run_round() -> dict[str, int]:
    """Remove everything due now, kind by kind, in batches; returns how many rows of each
    kind this process removed (another process running at once removes the rest)."""
    settings, moment, conn = get_settings(), now(), sql.connection()
    batch = settings.retention_batch_size
    removed: dict[str, int] = {}
    for rule in RULES:
        statement = rule.statement(sql.dialect(conn))
        params = rule.params(settings, moment)
        if rule.empty_content:
            params = [b"", *params]
        total = 0
        while True:
            # RETURNING counts this table's rows alone: SQLite's change count would add
            # the rows that ON DELETE CASCADE removed with them.
            done = len(await sql.fetch(conn, statement, [*params, batch]))
            total += done
            if done < batch:
                break
        removed[rule.kind] = total
    return removed
