"""The schema is the contract with the client teams: committed, and documented throughout."""

from __future__ import annotations

from config import ROOT
from schema.root import schema


def test_the_committed_schema_is_the_code_s() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == str(schema) + "\n", (
        "schema.graphql is out of date: run `make schema` and commit it"
    )


def test_every_type_field_and_argument_is_described() -> None:
    missing = []
    for name, kind in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not kind.description:
            missing.append(name)
        for field_name, field in getattr(kind, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if not arg.description:
                    missing.append(f"{name}.{field_name}({arg_name})")
    assert not missing, f"undocumented in GraphiQL: {missing}"


def test_every_enum_value_is_described() -> None:
    undescribed = [
        f"{name}.{value_name}"
        for name, kind in schema._schema.type_map.items()
        if not name.startswith("__")
        for value_name, value in getattr(kind, "values", {}).items()
        if not value.description
    ]
    assert not undescribed, f"enum values undocumented in GraphiQL: {undescribed}"
