"""Schema evolution: what changed since the last released schema, and whether each
breaking change is owned up to.

`schema/released.graphql` is the schema of the last release, the one the apps in the
stores were generated from. graphql-core's `find_breaking_changes` and
`find_dangerous_changes` compare it with the schema the code builds; each change is named
by its schema coordinate (`MeterReading.meter`, `Account.readings(from:)`,
`ChangeEmailErrorCode.EMAIL_TAKEN`, `Account`). A breaking change must be listed in the
"Unreleased" section of docs/schema-changelog.md with its reason
(tests/api/test_schema_evolution.py). At a release, `make release-schema` makes the current
schema the baseline and closes the section under the release's name:

    python -m schema.evolution release 2026-12-06
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DEFAULT_DEPRECATION_REASON,
    BreakingChangeType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

from config import ROOT

BASELINE = ROOT / "schema" / "released.graphql"
CHANGELOG = ROOT / "docs" / "schema-changelog.md"
UNRELEASED = "## Unreleased"
ENTRY = re.compile(r"^- `([^`]+)`: *(\S.*)$", re.M)

# The coordinate in graphql-core's sentence: `Type.field(arg:)`, `Type.field`,
# `@directive(arg:)`, `Enum.VALUE`; else the type a sentence is about.
_COORDINATE = re.compile(
    r"@?[_A-Za-z]\w*(?:\.[_A-Za-z]\w*)?\([_A-Za-z]\w*:\)|[_A-Za-z]\w*\.[_A-Za-z]\w*"
)
_ABOUT_A_TYPE = (
    re.compile(r"^(\w+) no longer implements interface \w+\.$"),
    re.compile(r"^\w+ added to interfaces implemented by (\w+)\.$"),
    re.compile(r"^\w+ was (?:added to|removed from) union type (\w+)\.$"),
    re.compile(r"^(?:Standard scalar )?(\w+) (?:was removed(?! from)|changed from)"),
    re.compile(r"^(?:Directive |Repeatable flag was removed from |\w+ was removed from )(@\w+)"),
)


@dataclass(frozen=True)
class Change:
    coordinate: str
    kind: str  # the name of graphql-core's BreakingChangeType or DangerousChangeType
    description: str

    @property
    def breaking(self) -> bool:
        return self.kind in BreakingChangeType.__members__

    def __str__(self) -> str:
        return f"{self.coordinate} ({self.kind}): {self.description}"


def coordinate(description: str) -> str:
    """The schema coordinate a change of graphql-core describes (the sentence itself if
    graphql-core ever words one in a way not foreseen here)."""
    for pattern in _ABOUT_A_TYPE:
        if match := pattern.match(description):
            return match[1]
    if match := _COORDINATE.search(description):
        return match[0].removeprefix("Argument ")
    return description


def changes(released: GraphQLSchema, current: GraphQLSchema) -> list[Change]:
    """Breaking changes, then dangerous ones, from `released` to `current`."""
    found = [*find_breaking_changes(released, current), *find_dangerous_changes(released, current)]
    return [Change(coordinate(c.description), c.type.name, c.description) for c in found]


def listed(changelog: str) -> dict[str, str]:
    """Coordinate -> reason of the entries under "## Unreleased"."""
    start = changelog.find(f"\n{UNRELEASED}\n")
    if start < 0:
        return {}
    section = changelog[start + 1 :]
    end = section.find("\n## ")
    section = section if end < 0 else section[:end]
    return dict(ENTRY.findall(section))


def deprecations_without_a_way_on(schema: GraphQLSchema) -> list[str]:
    """Coordinates deprecated with no reason, or graphql's default one: the reason must
    tell a client what to use instead (docs/api.md#deprecations-and-breaking-changes)."""
    found = []
    for name, kind in schema.type_map.items():
        if name.startswith("__"):
            continue
        members = {**getattr(kind, "fields", {}), **getattr(kind, "values", {})}
        for member_name, member in members.items():
            places = {f"{name}.{member_name}": member}
            for arg_name, arg in getattr(member, "args", {}).items():
                places[f"{name}.{member_name}({arg_name}:)"] = arg
            for where, thing in places.items():
                reason = getattr(thing, "deprecation_reason", None)
                if reason is not None and (
                    not reason.strip() or reason == DEFAULT_DEPRECATION_REASON
                ):
                    found.append(where)
    return found


def released_schema() -> GraphQLSchema:
    return build_schema(BASELINE.read_text(encoding="utf-8"))


def since_release(current: GraphQLSchema) -> tuple[list[Change], list[Change]]:
    """(breaking changes not in the changelog, dangerous changes not in the changelog)."""
    owned = listed(CHANGELOG.read_text(encoding="utf-8"))
    found = [c for c in changes(released_schema(), current) if c.coordinate not in owned]
    return [c for c in found if c.breaking], [c for c in found if not c.breaking]


def release(name: str, sdl: str, baseline: Path = BASELINE, log: Path = CHANGELOG) -> None:
    """The current schema becomes the baseline; "Unreleased" becomes `name`, and a new,
    empty "Unreleased" section opens above it."""
    text = log.read_text(encoding="utf-8")
    if f"\n{UNRELEASED}\n" not in text:
        raise SystemExit(f"{log} has no '{UNRELEASED}' section")
    opened = f"{UNRELEASED}\n\n(nothing yet)\n\n## {name}\n"
    log.write_text(text.replace(f"\n{UNRELEASED}\n", f"\n{opened}", 1), encoding="utf-8")
    baseline.write_text(sdl, encoding="utf-8")


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] != "release":
        raise SystemExit("usage: python -m schema.evolution release <name of the release>")
    from schema.root import schema

    release(argv[1], str(schema) + "\n")
    print(f"{BASELINE.relative_to(ROOT)} is now the schema of release {argv[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
