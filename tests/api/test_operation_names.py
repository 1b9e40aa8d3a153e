"""The metrics' and traces' name of an operation: its root fields, worked out once per
parsed document and operation (schema/metrics.py)."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from graphql import parse

from schema import metrics


def operation(document, name=None):
    return SimpleNamespace(graphql_document=document, operation_name=name)


def test_each_operation_of_a_document_is_named_by_its_own_root_fields() -> None:
    document = parse(
        "query A { version me { email } } query B { version } "
        "query C { ...F } fragment F on Query { version }"
    )
    assert metrics.root_fields(operation(document, "A")) == "me+version"
    assert metrics.root_fields(operation(document, "B")) == "version"
    assert metrics.root_fields(operation(document, "A")) == "me+version"  # kept: the same
    assert metrics.root_fields(operation(document, "C")) == "fragments"
    assert metrics.root_fields(operation(document, "D")) == "unknown"
    assert metrics.root_fields(operation(parse("{ version }"))) == "version"
    assert metrics.root_fields(operation(None)) == "unparsed"


def test_the_names_of_a_document_leave_with_it() -> None:
    gc.collect()
    before = len(metrics._NAMES)
    document = parse("{ version }")
    assert metrics.root_fields(operation(document)) == "version"
    assert len(metrics._NAMES) == before + 1
    del document
    gc.collect()
    assert len(metrics._NAMES) == before
