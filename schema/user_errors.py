"""Rules raise RuleError; here they become the mutation's typed, localized userErrors
(the `XError` types of schema/errors.py's `error_type`)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from services.core.errors import RuleError, RuleErrors
from services.core.messages import message_for

T = TypeVar("T")


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
