"""Mailing the queued electronic receipts: render each bill and put its e-mail in the outbox.

Why a queue and not the import itself: a bill takes tens of milliseconds of CPU to render
and its mail carries the PDF (tens of kilobytes), so an import of 100,000 receipts that
rendered inside its transaction would hold the database for hours and write gigabytes
before committing. The import only writes one small `ereceipt_delivery` row per new
receipt of a subscribed account, in its own transaction (a rejected import queues
nothing). Workers then go through the queue in batches (ERECEIPT_BATCH_SIZE):

1. claim a batch with a lease (MAIL_LEASE_SECONDS), as the mail worker claims messages
   (FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers share the queue);
2. render each bill outside any transaction, in the rendering thread pool;
3. in one short transaction per receipt: write the mail to the outbox and mark the
   delivery sent, fenced by the claim (`WHERE claimed_by = ? AND state = 'sending'`).

A worker that dies before step 3 commits leaves nothing behind: the lease runs out and
another worker renders the bill again. A worker whose lease ran out while another took
the batch over finds its fence gone and rolls its mail back. So every receipt gets
exactly one outbox message, which the outbox then delivers at least once under a
stable Message-ID.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from config import Settings, get_settings
from mail import send
from mail.compose import link_builder
from models import sql
from models.ereceipts import DeliveryState
from services.core.background import poll_rounds
from services.core.clock import now
from services.core.money import format_rub
from services.core.timeutil import format_date_ru, format_month_en, format_month_ru
from services.ereceipts.rules import unsubscribe_token
from services.receipts.document import ReceiptDocument, load_receipt_document
from services.receipts.files import file_names, render_pdf

log = logging.getLogger("kabinet.ereceipt")

MAX_ATTEMPTS = 5  # renderings of one bill before it is marked failed
RETRY_BASE = dt.timedelta(minutes=1)  # doubles with each failed attempt

# Who gets a claimed receipt: its account's live subscription, held by the cabinet that
# asked for it. No row: nobody (unsubscribed or unlinked since the import).
_RECIPIENTS = """
SELECT d.id AS delivery_id, s.id AS subscription_id, s.account_id, s.since,
       COALESCE(s.email, c.email) AS email, c.language
FROM ereceipt_delivery d
JOIN receipt r ON r.id = d.receipt_id
JOIN ereceipt_subscription s ON s.account_id = r.account_id AND s.since IS NOT NULL
JOIN cabinet_account ca ON ca.account_id = s.account_id AND ca.cabinet_id = s.cabinet_id
JOIN cabinet c ON c.id = s.cabinet_id
WHERE d.id IN ({marks})
"""


@dataclass(frozen=True)
class Claimed:
    id: int
    receipt_id: int
    attempts: int  # this one included


@dataclass(frozen=True)
class Recipient:
    subscription_id: int
    account_id: int
    since: dt.datetime
    email: str
    language: str


class LostClaim(Exception):
    """Another worker took the delivery over after this one's lease ran out."""


class Dispatcher:
    """Works through the e-receipt queue. `run()` loops until stopped; tests call
    `run_once()` until it returns 0."""

    def __init__(self, settings: Settings | None = None, *, name: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._claims = 0

    async def run_once(self) -> int:
        """Claim one batch and mail it; returns the number of receipts claimed."""
        token, batch = await self.claim()
        await self.deliver(token, batch)
        return len(batch)

    async def deliver(self, token: str, batch: list[Claimed]) -> None:
        """Render and enqueue each receipt of a claimed batch (one transaction each)."""
        if batch:
            recipients = await self._recipients([c.id for c in batch])
            for claimed in batch:
                await self._dispatch(token, claimed, recipients.get(claimed.id))

    async def claim(self) -> tuple[str, list[Claimed]]:
        """Lease up to ERECEIPT_BATCH_SIZE due deliveries; (claim token, deliveries)."""
        self._claims += 1
        token = f"{self.name}#{self._claims}"[-64:]
        moment = now()
        rows = await sql.claim_due(
            sql.connection(),
            "ereceipt_delivery",
            "id, receipt_id, attempts",
            now=moment,
            limit=self.settings.ereceipt_batch_size,
            token=token,
            lease_until=moment + dt.timedelta(seconds=self.settings.mail_lease_seconds),
        )
        batch = [Claimed(r["id"], r["receipt_id"], r["attempts"]) for r in rows]
        return token, sorted(batch, key=lambda c: c.id)

    async def _recipients(self, ids: list[int]) -> dict[int, Recipient]:
        rows = await sql.fetch(sql.connection(), _RECIPIENTS.format(marks=sql.marks(ids)), ids)
        return {
            row["delivery_id"]: Recipient(
                row["subscription_id"],
                row["account_id"],
                sql.as_datetime(row["since"]),  # type: ignore[arg-type]
                row["email"],
                row["language"],
            )
            for row in rows
        }

    async def _dispatch(self, token: str, claimed: Claimed, recipient: Recipient | None) -> None:
        try:
            doc = await load_receipt_document(claimed.receipt_id, self.settings)
            if recipient is None or doc is None:
                await self._finish(token, claimed, DeliveryState.SKIPPED)
                return
            pdf = await render_pdf(doc)
            async with in_transaction():
                message = await send(
                    "ereceipt",
                    to=recipient.email,
                    language=recipient.language,
                    **self._mail(doc, recipient, pdf),
                )
                await self._finish(token, claimed, DeliveryState.SENT, message_id=message.id)
        except LostClaim:
            log.warning("e-receipt delivery #%d was taken over by another worker", claimed.id)
        except Exception as exc:
            log.exception("e-receipt delivery #%d failed", claimed.id)
            await self._failed(token, claimed, f"{type(exc).__name__}: {exc}"[:1000])

    def _mail(self, doc: ReceiptDocument, recipient: Recipient, pdf: bytes) -> dict[str, Any]:
        link = link_builder(self.settings.public_web_url)
        unsubscribe = link(
            "/ereceipt/unsubscribe",
            token=unsubscribe_token(
                recipient.subscription_id, recipient.account_id, recipient.email, recipient.since
            ),
        )
        return {
            "context": {
                "account_number": doc.account_number,
                "holder_name": doc.holder_name,
                "month": format_month_ru(doc.period),
                "month_en": format_month_en(doc.period),
                "amount_due": format_rub(doc.to_pay),
                "amount_due_en": f"{doc.to_pay:,.2f}",
                "in_credit": doc.amount_due < 0,
                "credit": format_rub(-doc.amount_due),
                "credit_en": f"{-doc.amount_due:,.2f}",
                "due_on": format_date_ru(doc.due_on),
                "company": doc.company.name,
                "unsubscribe_url": unsubscribe,
            },
            "attachments": [(file_names(doc)[0], "application/pdf", pdf)],
            # RFC 2369 and RFC 8058: mail programs offer a one-click unsubscribe button
            # that POSTs "List-Unsubscribe=One-Click" to this address, without a login.
            "headers": {
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        }

    async def _finish(
        self, token: str, claimed: Claimed, state: DeliveryState, *, message_id: int | None = None
    ) -> None:
        changed = await sql.execute(
            sql.connection(),
            "UPDATE ereceipt_delivery SET state = ?, message_id = ?, done_at = ?, "
            "last_error = NULL WHERE id = ? AND claimed_by = ? AND state = 'sending'",
            [state.value, message_id, now(), claimed.id, token],
        )
        if changed != 1:
            raise LostClaim()  # inside the transaction: the mail is rolled back with it

    async def _failed(self, token: str, claimed: Claimed, reason: str) -> None:
        final = claimed.attempts >= MAX_ATTEMPTS
        state = DeliveryState.FAILED if final else DeliveryState.PENDING
        due = now() + RETRY_BASE * 2 ** (claimed.attempts - 1)
        await sql.execute(
            sql.connection(),
            "UPDATE ereceipt_delivery SET state = ?, due_at = ?, last_error = ? "
            "WHERE id = ? AND claimed_by = ? AND state = 'sending'",
            [state.value, due, reason, claimed.id, token],
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Mail queued receipts until `stop` is set; finishes the batch in hand."""
        log.info("e-receipt dispatcher %s started", self.name)
        await poll_rounds(
            stop,
            self.run_once,
            full=self.settings.ereceipt_batch_size,
            pause=self.settings.mail_poll_seconds,
            what=f"e-receipt dispatcher {self.name}",
        )
        log.info("e-receipt dispatcher %s stopped", self.name)
