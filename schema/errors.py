"""The UserError interface and one error type per mutation with its own code enum."""

# No `from __future__ import annotations` here: the factory below builds annotations
# from variables, which Strawberry must see as real types.
import datetime as dt
import enum
import typing

import strawberry

from services.core.errors import ErrorCode

_CREATED: dict[str, type] = {}

T = typing.TypeVar("T")
# `input: MutationInput[XInput]` documents every mutation's one argument the same way.
MutationInput = typing.Annotated[
    T, strawberry.argument(description="What to do: the fields of the input type.")
]


@strawberry.interface(
    description="A problem with a mutation's input that the customer can fix, "
    "in the language the request asked for (Accept-Language)."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the input field the problem is about, e.g. ['paymentAmount']; "
        "null when it is about the request as a whole."
    )
    message: str = strawberry.field(description="What is wrong, as a sentence to show.")


def error_type(mutation: str, codes: list[ErrorCode], *, retryable: bool = False) -> type:
    """`<Mutation>Error implements UserError { field message code [retryAfter] }`; the code
    enum's values are the members' names, described by the members' descriptions."""
    name = f"{mutation}Error"
    if name in _CREATED:
        return _CREATED[name]
    code_enum = strawberry.enum(
        enum.Enum(
            f"{mutation}ErrorCode",
            {c.name: strawberry.enum_value(c.value, description=c.description) for c in codes},
        ),
        description=f"Why {mutation[0].lower()}{mutation[1:]} was refused.",
    )
    namespace = {
        "__annotations__": {"code": code_enum},
        "code": strawberry.field(description="A stable code for the program to branch on."),
    }
    if retryable:
        namespace["__annotations__"]["retry_after"] = dt.datetime | None
        namespace["retry_after"] = strawberry.field(
            default=None,
            description="With TOO_MANY_ATTEMPTS: when the next attempt will be accepted.",
        )
    cls = type(name, (UserError,), namespace)
    created = strawberry.type(cls, description=f"A problem that stopped {mutation}.")
    created.code_enum = code_enum  # type: ignore[attr-defined]
    _CREATED[name] = created
    return created
