"""Per-operation metrics, labelled by the schema's own root field names (`login`, `me`,
...): bounded by the schema, unlike operation names, which clients choose."""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator

from graphql import DocumentNode, FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from services.core import telemetry

# Names by the parsed document and operation name: the parse cache (schema/limits.py) hands
# the same DocumentNode back for the same text, so a document is named once, not once per
# request. An entry leaves with its document.
_NAMES: dict[int, dict[str | None, str]] = {}


def root_fields(execution_context) -> str:
    document = execution_context.graphql_document
    if document is None:
        return "unparsed"
    wanted = execution_context.operation_name
    names = _NAMES.get(id(document))
    if names is None:
        names = _NAMES[id(document)] = {}
        weakref.finalize(document, _NAMES.pop, id(document), None)
    if wanted not in names:
        names[wanted] = _root_fields(document, wanted)
    return names[wanted]


def _root_fields(document: DocumentNode, wanted: str | None) -> str:
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if wanted is not None and (definition.name is None or definition.name.value != wanted):
            continue
        names = sorted(
            {s.name.value for s in definition.selection_set.selections if isinstance(s, FieldNode)}
        )
        return "+".join(names[:3]) + ("+..." if len(names) > 3 else "") or "fragments"
    return "unknown"


def _outcome(execution_context) -> str:
    if execution_context.pre_execution_errors:
        return "rejected"
    result = execution_context.result
    if result is None:
        return "rejected"
    if result.errors:
        return "error"
    for value in (result.data or {}).values():
        if isinstance(value, dict) and value.get("userErrors"):
            return "user_error"
    return "ok"


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        name = root_fields(context)
        try:
            kind = context.operation_type.value
        except Exception:
            kind = "unknown"
        telemetry.OPERATIONS.labels(name, kind, _outcome(context)).inc()
        telemetry.OPERATION_LATENCY.labels(name).observe(time.perf_counter() - started)
