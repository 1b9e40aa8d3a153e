"""The root fields that fetch objects by global id: `node`, `nodes`, and the typed deep
links `receipt` and `meterReading`. Who may see what is resolvers/nodes.py's business."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry

from resolvers import nodes as node_resolvers
from resolvers.context import Context
from schema.accounts import Account, Meter, MeterReading, Payment, Receipt
from schema.auth import SecurityEvent, SessionInfo, User
from schema.payments import OnlinePayment
from schema.questions import Attachment, Customer, Message, Question, Specialist
from schema.receipts import EReceipt
from schema.relay import Node

Info = strawberry.Info[Context]

# How each kind of id becomes its type, from what resolvers/nodes.py found.
_BUILDERS: dict[str, Callable[[Any, str], Node]] = {
    "Account": lambda row, _: Account.from_row(row),
    "EReceipt": lambda found, _: EReceipt.from_state(found[1], found[0]),
    "Meter": Meter.from_row,
    "MeterReading": MeterReading.from_row,
    "Payment": lambda row, _: Payment.from_row(row),
    "Receipt": Receipt.from_row,
    "Question": lambda row, _: Question.from_row(row),
    "Message": lambda row, _: Message.from_row(row),
    "Attachment": lambda row, _: Attachment.from_row(row),
    "Specialist": lambda row, _: Specialist.from_row(row),
    "Customer": lambda row, _: Customer.from_row(row),
    "User": lambda cabinet, _: User.from_model(cabinet),
    "Session": lambda found, _: SessionInfo.from_session(*found),
    "SecurityEvent": lambda row, _: SecurityEvent.from_row(row),
    "OnlinePayment": lambda payment, _: OnlinePayment.from_model(payment),
}
assert set(_BUILDERS) == node_resolvers.KINDS, "every kind of id needs a type"


def _build(found: node_resolvers.Found | None, language: str) -> Any:
    return _BUILDERS[found.kind](found.value, language) if found is not None else None


NODE_DOC = (
    "Any object by its global id (`Node.id`), if the viewer may see it: the same objects "
    "the other fields lead them to (a customer their own cabinet's, a specialist what the "
    "question fields show). Null for an id that is someone else's, missing, of another kind "
    "or malformed - never an error that tells them apart."
)


async def node(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
) -> Node | None:
    return _build(await node_resolvers.node(info, id), info.context.language)


async def nodes(
    info: Info,
    ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(
            description=f"At most {node_resolvers.MAX_NODES} global ids; more is a "
            "BAD_USER_INPUT error."
        ),
    ],
) -> list[Node | None]:
    language = info.context.language
    return [_build(found, language) for found in await node_resolvers.nodes(info, ids)]


async def receipt(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="Id of the receipt.")],
) -> Receipt | None:
    return _build(await node_resolvers.node(info, id, "Receipt"), info.context.language)


async def meter_reading(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="Id of the reading.")],
) -> MeterReading | None:
    return _build(await node_resolvers.node(info, id, "MeterReading"), info.context.language)
