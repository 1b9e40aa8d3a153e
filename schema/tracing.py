"""A span per GraphQL operation, child of the request's, parent of its SQL statements.

Strawberry ships an OpenTelemetryExtension, but it records the whole document and every
resolver's arguments (a login's password among them) and makes a span per resolver; this
one records what operators need: the operation's type and name (graphql.operation.*), its
root fields (bounded by the schema, as the metrics label them) and its errors, each as an
exception event, the unexpected ones with their traceback. In the schema only when tracing
is on (services/core/tracing.py)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from opentelemetry import trace
from strawberry.extensions import SchemaExtension

from schema.metrics import root_fields
from services.core import tracing

_tracer = trace.get_tracer(tracing.TRACER)  # a proxy until tracing.configure() sets the SDK's


class OperationTracing(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        with _tracer.start_as_current_span("GraphQL operation", record_exception=False) as span:
            yield
            context = self.execution_context
            try:
                kind = context.operation_type.value
            except Exception:  # no document, or no operation of that name in it
                kind = None
            name = context.operation_name
            span.update_name(" ".join(part for part in (kind, name) if part) or "GraphQL")
            if kind:
                span.set_attribute("graphql.operation.type", kind)
            if name:
                span.set_attribute("graphql.operation.name", name)
            span.set_attribute("kabinet.graphql.root_fields", root_fields(context))
            errors = list(context.pre_execution_errors or ())
            if context.result is not None and context.result.errors:
                errors += [e for e in context.result.errors if e not in errors]
            for error in errors:
                _record(span, error)
            if errors:
                span.set_status(trace.StatusCode.ERROR, errors[0].message[:200])


def _record(span: trace.Span, error: GraphQLError) -> None:
    code = (error.extensions or {}).get("code")
    attributes = {"graphql.error.code": str(code)} if code else {}
    if error.path:
        attributes["graphql.error.path"] = ".".join(str(p) for p in error.path)
    original = error.original_error
    if original is not None and not getattr(original, "extensions", None):
        span.record_exception(original, attributes=attributes)  # a bug: with its traceback
    else:
        span.add_event(
            "exception",
            {**attributes, "exception.type": "GraphQLError", "exception.message": error.message},
        )
