"""A faster path through graphql-core for the commonest field of all.

Most fields of a dashboard are plain attributes holding a scalar or an enum (an
amount, a date, a name). graphql-core runs each through the whole machinery: a path
entry, a resolve-info record, Strawberry's default resolver, awaitable checks, a walk
down the type wrappers, and only then the coercion. For such a field - no arguments,
no directives, Strawberry's default resolver, a leaf type - this context reads the
attribute and coerces it in place. Anything unusual (a null, a value the scalar
refuses, an exception) takes the regular path, so errors and their paths come out
exactly as graphql-core would report them.

`execute_fields` below follows graphql-core 3.3's own (which constraints.txt pins);
tests cover nulls, errors, enums and every scalar kind through this path.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLNonNull, Undefined, ValidationRule, is_leaf_type
from graphql.execution.executor import gather_with_cancel
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_UNPLANNED = object()
# (parent type name, field name) -> (resolver, leaf type) or None for the regular path.
_PLANS: dict[tuple[str, str], Any] = {}


class _CodingContext:
    """A validation context whose reported errors carry `extensions.code`."""

    def __init__(self, context: Any, code: str) -> None:
        self._context, self._code = context, code

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": self._code}
        self._context.report_error(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def coded(rule: type[ValidationRule], code: str) -> type[ValidationRule]:
    """`rule` whose errors carry `code`: Strawberry's limits report bare GraphQLErrors,
    and a client branches on a code, not on their words."""

    class Coded(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: Any) -> None:
            super().__init__(_CodingContext(context, code))

    Coded.__name__ = Coded.__qualname__ = rule.__name__
    return Coded


def _bad_input(error: GraphQLError) -> GraphQLError:
    """A variable that does not coerce is the client's to fix: BAD_USER_INPUT with
    graphql-core's message, never masked as unexpected (a custom scalar's ValueError)."""
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        extensions={**(error.extensions or {}), "code": "BAD_USER_INPUT"},
    )


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        """The executor, or the errors of the variables' values: the only errors left
        once Strawberry has parsed, validated and picked the operation."""
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            return [_bad_input(error) for error in built]
        return built

    def _plan(self, parent_type: Any, field_name: str) -> Any:
        key = (parent_type.name, field_name)
        plan = _PLANS.get(key, _UNPLANNED)
        if plan is _UNPLANNED:
            plan = None
            field_def = self.schema.get_field(parent_type, field_name)
            resolve = getattr(field_def, "resolve", None)
            if (
                field_def is not None
                and not field_def.args
                and getattr(resolve, "_is_default", False)
            ):
                leaf = field_def.type
                if isinstance(leaf, GraphQLNonNull):
                    leaf = leaf.of_type
                if is_leaf_type(leaf):
                    plan = (resolve, leaf)
            _PLANS[key] = plan
        return plan

    def execute_fields(
        self,
        parent_type: Any,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                if not node.arguments and not node.directives:
                    plan = self._plan(parent_type, node.name.value)
                    if plan is not None:
                        value = _fast_leaf(plan, source_value)
                        if value is not Undefined:
                            results[response_name] = value
                            continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()


def _fast_leaf(plan: tuple[Any, Any], source: Any) -> Any:
    """The coerced value, or Undefined to send the field the regular way."""
    resolve, leaf = plan
    try:
        value = resolve(source, None)
        if value is None or isinstance(value, Exception):
            return Undefined
        coerced = leaf.coerce_output_value(value)
    except Exception:
        return Undefined
    return Undefined if coerced is None else coerced
