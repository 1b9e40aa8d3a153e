"""Autopay's state as an account shows it (`Account.autopay`)."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.scalars import Money
from services.payments.autopay import AutopayState


@strawberry.type(
    description="Autopay of an account: each new bill is charged, on the day after it "
    "comes, to the payment method saved with the first payment of enableAutopay, up to "
    "`maxAmount` a month. Turned off by disableAutopay, and by itself when the method is "
    "refused twice in a row (the customer is mailed)."
)
class Autopay:
    active: bool = strawberry.field(
        description="True while new bills are charged: the first payment succeeded and the "
        "payment service saved the method."
    )
    method: str | None = strawberry.field(
        description='The saved method as the payment service names it, e.g. "Bank card '
        '*4444" (never card data); null while not active.'
    )
    max_amount: Money | None = strawberry.field(
        description="The most charged in one calendar month; a bill that would go above it "
        "is not charged (the customer is mailed). Null when autopay was never enabled."
    )
    active_since: dt.datetime | None = strawberry.field(
        description="When autopay became active; null while not active."
    )
    waiting: bool = strawberry.field(
        description="Enabled, and its first payment has not yet succeeded with a saved "
        "method: it becomes active when it does."
    )

    @classmethod
    def from_state(cls, state: AutopayState) -> Autopay:
        return cls(
            active=state.active,
            method=state.method,
            max_amount=Money(state.max_amount) if state.max_amount is not None else None,
            active_since=state.active_since,  # type: ignore[arg-type]
            waiting=state.waiting,
        )
