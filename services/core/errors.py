"""Expected failures of business rules, turned into `userErrors` by the resolvers."""

from __future__ import annotations

import datetime as dt
from typing import Any


class RuleError(Exception):
    """A rule said no. `code` is the API's error code, `field` the input it concerns
    (a name, or a path such as ("values", "0", "value")),
    `params` fill the localized message; `retry_after` is set for throttling."""

    def __init__(
        self,
        code: str,
        field: str | tuple[str, ...] | None = None,
        *,
        retry_after: dt.datetime | None = None,
        **params: Any,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.retry_after = retry_after
        self.params = params

    def __repr__(self) -> str:
        return f"RuleError({self.code!r}, field={self.field!r}, params={self.params!r})"


class NotAllowed(Exception):
    """The viewer's role may not do this at all (a customer asking for a staff field, a
    specialist acting as a customer): FORBIDDEN, not a userError."""


class RuleErrors(Exception):
    """Several input problems found at once, reported together."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__(", ".join(e.code for e in errors))
        self.errors = errors


def raise_all(errors: list[RuleError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise RuleErrors(errors)
