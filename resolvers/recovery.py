"""Resolvers of recovery without e-mail: thin calls into services.recovery.rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from resolvers.context import Context
from services.recovery import rules as recovery

Info = strawberry.Info[Context]


async def start_recovery_without_email(info: Info, input: Any) -> recovery.Started:
    """The started recovery (its token, expiry, masked address). Its token must not leak
    onward through the Referer of the page that shows it."""
    ctx = info.context
    started = await recovery.start(input.account_number, input.payment_amount, ctx.client)
    ctx.no_referrer()
    return started


def minimal_payment() -> Decimal:
    """The payment to make before trying again, when there are no recent payments."""
    return recovery.minimal_payment()


async def confirm_new_email(info: Info, input: Any) -> str:
    """The new address, where the link to set the password went."""
    ctx = info.context
    ctx.no_referrer()
    return await recovery.confirm_new_email(input.recovery_token, input.new_email, ctx.client)
