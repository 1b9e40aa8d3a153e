"""Resolvers of the receipt and account fields of issue 6: the PDF link, the electronic
receipt's state and the consumption series."""

from __future__ import annotations

from collections.abc import Awaitable
from urllib.parse import urlencode

import strawberry

from resolvers import lists
from resolvers.context import BadInput, Context
from services.core.ids import encode_id
from services.ereceipts.rules import EReceiptState
from services.receipts import files as receipt_files
from services.receipts.consumption import MAX_MONTHS, MonthConsumption

Info = strawberry.Info[Context]


def pdf_path(receipt_id: str) -> str:
    """The route of a receipt's PDF (server.py), by the receipt's API id."""
    return f"/receipts/{receipt_id}.pdf"


async def pdf_url(info: Info, receipt_pk: int) -> str:
    """A signed link for the viewer: receipts are only reachable through the viewer's
    own accounts, so the one at hand is the viewer's."""
    ctx = info.context
    cabinet = await ctx.require_viewer()
    link = receipt_files.sign_link(receipt_pk, cabinet.id)
    base = ctx.settings.public_web_url.rstrip("/")
    path = pdf_path(encode_id("Receipt", receipt_pk))
    return f"{base}{path}?{urlencode({'token': link.token})}"


def e_receipt(info: Info, account_pk: int) -> EReceiptState | Awaitable[EReceiptState]:
    return lists.when_ready(
        info.context.loaders.ereceipt_of_account.load(account_pk), EReceiptState.of_row
    )


def consumption(
    info: Info, account_pk: int, months: int
) -> list[MonthConsumption] | Awaitable[list[MonthConsumption]]:
    if not 1 <= months <= MAX_MONTHS:
        raise BadInput(f"`months` must be between 1 and {MAX_MONTHS}.")
    return info.context.loaders.consumption.load((account_pk, months))
