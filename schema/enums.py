"""GraphQL enums over the models' Python enums, with a description for every value: the
models (Tortoise stores them) import no Strawberry, so the descriptions are given here."""

from __future__ import annotations

import enum
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=enum.Enum)


def described_enum(
    python_enum: type[E], *, description: str, name: str | None = None, **values: str
) -> type[E]:
    """`strawberry.enum(python_enum)` with each value described: `MEMBER_NAME="what it means"`
    for every member, checked here, so a missing or misspelt one fails at import."""
    if set(values) != {member.name for member in python_enum}:
        raise TypeError(f"describe each value of {python_enum.__name__}, and nothing else")
    graphql_enum = strawberry.enum(python_enum, name=name, description=description)
    for value in graphql_enum.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values[value.name]
    return graphql_enum
