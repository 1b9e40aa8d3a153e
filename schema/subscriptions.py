"""The root Subscription: live updates over WebSocket (schema/websocket.py serves them
with the graphql-transport-ws protocol; docs/api.md#subscriptions)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from resolvers import subscriptions as live
from resolvers.context import Context
from schema.accounts import Account
from schema.payments import OnlinePayment
from schema.questions import Question

Info = strawberry.Info[Context]


@strawberry.type(
    description="Live updates, over a WebSocket at /graphql with the graphql-transport-ws "
    "protocol (docs/api.md#subscriptions). Each subscription sends the object at once, then "
    "again after every change to it; one of another cabinet (or no such id) is an error "
    "FORBIDDEN. The socket closes (4401) when its session ends."
)
class Subscription:
    @strawberry.subscription(
        description="A payment of this cabinet (payBill) as its status changes: at once, "
        "then after every change (succeeded, failed, canceled, refunded)."
    )
    async def online_payment_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Id of the payment.")],
    ) -> AsyncGenerator[OnlinePayment, None]:
        async for payment in live.online_payment_updated(info, id):
            yield OnlinePayment.from_model(payment)

    @strawberry.subscription(
        description="A question as it changes: at once, then after every answer, reply, "
        "reading, assignment or closing."
    )
    async def question_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Id of the question.")],
    ) -> AsyncGenerator[Question, None]:
        async for row in live.question_updated(info, id):
            yield Question.from_row(row)

    @strawberry.subscription(
        description="One of the cabinet's accounts: at once, then after a new bill is "
        "imported, a meter reading is accepted or a payment is applied to its balance; "
        "completes if the account is unlinked."
    )
    async def account_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Id of the account.")],
    ) -> AsyncGenerator[Account, None]:
        async for row in live.account_updated(info, id):
            yield Account.from_row(row)
