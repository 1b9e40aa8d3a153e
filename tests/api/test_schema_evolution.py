"""The schema evolves without surprising the apps already in customers' phones: every
breaking change since the last release (schema/released.graphql) is owned up to, with its
reason, in docs/schema-changelog.md; dangerous ones are shown as warnings
(schema/evolution.py, docs/api.md#deprecations-and-breaking-changes)."""

from __future__ import annotations

import re
import warnings

import pytest
from graphql import build_schema

from schema import evolution
from schema.root import schema


class DangerousSchemaChange(UserWarning):
    """A change that breaks no query but may surprise a client (a new enum value in an
    exhaustive switch, a new interface, a new default)."""


def test_every_breaking_change_since_the_release_is_in_the_changelog() -> None:
    breaking, dangerous = evolution.since_release(schema._schema)
    for change in dangerous:
        warnings.warn(str(change), DangerousSchemaChange, stacklevel=1)
    assert not breaking, (
        "breaking changes since schema/released.graphql; deprecate instead (docs/api.md), or "
        "list each in docs/schema-changelog.md under '## Unreleased' as "
        "- `<coordinate>`: <reason>\n" + "\n".join(map(str, breaking))
    )


def test_every_changelog_entry_has_a_reason() -> None:
    """An entry without a reason is not an entry: the test above would not count it."""
    text = evolution.CHANGELOG.read_text(encoding="utf-8")
    section = text.split(f"\n{evolution.UNRELEASED}\n", 1)[1].split("\n## ", 1)[0]
    entries = re.findall(r"^- `([^`]+)`:", section, re.M)
    assert set(entries) == set(evolution.listed(text)), entries


def test_every_deprecation_says_what_to_use_instead() -> None:
    assert not evolution.deprecations_without_a_way_on(schema._schema)


def test_a_deprecation_without_a_reason_is_found() -> None:
    deprecated = build_schema(
        """type Query {
          a: Int @deprecated
          b(x: Int @deprecated(reason: "")): Int
          c: Int @deprecated(reason: "Use Query.d: the same in kopecks.")
          d: Int
          e: E
        }
        enum E { OLD @deprecated NEW }"""
    )
    assert evolution.deprecations_without_a_way_on(deprecated) == [
        "Query.a",
        "Query.b(x:)",
        "E.OLD",
    ]


def test_the_baseline_is_a_schema() -> None:
    released = evolution.released_schema()
    assert released.query_type is not None and released.mutation_type is not None


RELEASED = """
type Query { meter(id: ID!): Meter  meters(first: Int = 10): [Meter!]! }
type Meter { id: ID!  serial: String!  digits: Int! }
enum Code { NOT_FOUND EMAIL_TAKEN }
"""


@pytest.mark.parametrize(
    ("current", "coordinate"),
    [
        # a field removed, a type changed, an argument made required, an enum value removed
        (RELEASED.replace("  digits: Int!", ""), "Meter.digits"),
        (RELEASED.replace("serial: String!", "serial: String"), "Meter.serial"),
        (RELEASED.replace("meter(id: ID!): Meter ", "meter(id: ID!): Meter! "), None),  # safe
        (
            RELEASED.replace("meters(first: Int = 10)", "meters(first: Int!)"),
            "Query.meters(first:)",
        ),
        (RELEASED.replace(" EMAIL_TAKEN", ""), "Code.EMAIL_TAKEN"),
        (
            RELEASED.replace("type Meter {", "interface Meter {") + "type M implements Meter "
            "{ id: ID! serial: String! digits: Int! }",
            "Meter",
        ),
    ],
)
def test_a_breaking_change_is_found_by_its_coordinate(current: str, coordinate) -> None:
    found = [
        c for c in evolution.changes(build_schema(RELEASED), build_schema(current)) if c.breaking
    ]
    assert [c.coordinate for c in found] == ([coordinate] if coordinate else [])


def test_only_the_unreleased_section_owns_up_to_a_change() -> None:
    log = (
        f"# x\n\n{evolution.UNRELEASED}\n\n- `Code.EMAIL_TAKEN`: not a distinct answer.\n"
        "- `Meter.serial`:\n\n## 1\n\n- `Meter.digits`: released long ago.\n"
    )
    assert evolution.listed(log) == {"Code.EMAIL_TAKEN": "not a distinct answer."}


def test_a_release_moves_the_baseline_and_opens_a_new_section(tmp_path) -> None:
    baseline, log = tmp_path / "released.graphql", tmp_path / "changelog.md"
    log.write_text(f"# Log\n\n{evolution.UNRELEASED}\n\n- `Meter.digits`: gone.\n")
    evolution.release("2027.1", RELEASED, baseline, log)
    assert baseline.read_text() == RELEASED
    text = log.read_text()
    assert evolution.listed(text) == {}
    assert "## 2027.1\n\n- `Meter.digits`: gone.\n" in text
