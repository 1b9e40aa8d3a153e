"""The UserError interface, one error type per mutation with its own code enum, and the
turning of the rules' RuleErrors into those types (the payloads' `userErrors`)."""

# No `from __future__ import annotations` here: the factory below builds annotations
# from variables, which Strawberry must see as real types.
import datetime as dt
import enum
import typing
from collections.abc import Awaitable
from typing import Any

import strawberry

from schema.scalars import Money
from services.core.errors import ErrorCode, RuleError, RuleErrors
from services.core.messages import message_for

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
    enum's values are the members' names, described by the members' descriptions. With
    NO_RECENT_PAYMENTS among the codes it also has `minimalPayment` and `payUrl`."""
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
    if any(c.name == "NO_RECENT_PAYMENTS" for c in codes):
        namespace["__annotations__"]["minimal_payment"] = Money | None
        namespace["minimal_payment"] = strawberry.field(
            default=None,
            description="With NO_RECENT_PAYMENTS: the payment to make before trying again.",
        )
        namespace["__annotations__"]["pay_url"] = str | None
        namespace["pay_url"] = strawberry.field(
            default=None,
            description="With NO_RECENT_PAYMENTS: the web page where anyone pays into the "
            "account without logging in (payAsGuest), filled in with the account number and "
            "`minimalPayment`. Once the payment has arrived, the proof can be made with its "
            "amount.",
        )
    cls = type(name, (UserError,), namespace)
    created = strawberry.type(cls, description=f"A problem that stopped {mutation}.")
    created.code_enum = code_enum  # type: ignore[attr-defined]
    _CREATED[name] = created
    return created


# ---------------------------------------------------------------- RuleError -> userErrors


def _path(field: str | tuple[str, ...] | None) -> list[str] | None:
    """`field` is an input name, or a path into the input such as ("values", "1", "value")."""
    if not field:
        return None
    return list(field) if isinstance(field, tuple) else [field]


def user_error(error_cls: Any, error: RuleError, language: str) -> Any:
    code = error_cls.code_enum[error.code]  # an unknown code is a bug: let it surface (masked)
    fields: dict[str, Any] = {
        "field": _path(error.field),
        "message": message_for(error, language),
        "code": code,
    }
    if "retry_after" in error_cls.__dataclass_fields__:
        fields["retry_after"] = error.retry_after
    if "pay_url" in error_cls.__dataclass_fields__:
        minimal = error.params.get("minimal_payment")
        fields["minimal_payment"] = Money(minimal) if minimal is not None else None
        fields["pay_url"] = error.params.get("pay_url")
    return error_cls(**fields)


async def attempt(work: Awaitable[T], error_cls: Any, language: str) -> tuple[T | None, list[Any]]:
    """Run a resolver; (result, []) on success, (None, userErrors) when a rule says no."""
    try:
        return await work, []
    except RuleError as error:
        return None, [user_error(error_cls, error, language)]
    except RuleErrors as errors:
        return None, [user_error(error_cls, e, language) for e in errors.errors]


def outcome(errors: list[Any]) -> str:
    """`ok`, or the first error's code in lower case: the label metrics count."""
    return errors[0].code.name.lower() if errors else "ok"
