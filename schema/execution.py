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

import json
import logging
import weakref
from copy import copy
from types import CoroutineType
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLNonNull,
    GraphQLResolveInfoHelpers,
    OperationType,
    Undefined,
    ValidationRule,
    is_leaf_type,
    print_ast,
)
from graphql.execution.executor import CollectedErrors, Executor
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema import compiler
from services.core import telemetry

log = logging.getLogger("kabinet")

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


def _weak_helpers(executor: Executor) -> GraphQLResolveInfoHelpers:
    """graphql-core's resolve-info helpers (gather, track), holding the executor weakly:
    its own hold it through bound methods, a cycle that kept every request's context,
    loaders and rows alive until the collector's next pass (which then stalls whichever
    request is running)."""
    ref = weakref.ref(executor)

    def gather(values: Any) -> Any:
        return ref().gather_async_work(values)  # type: ignore[union-attr]

    def track(values: Any) -> None:
        ref().track_async_work(values)  # type: ignore[union-attr]

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _weak_helpers(self)

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

        return compiler.gather_fields(results, awaitable_fields)


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


# ------------------------------------------------------------------ compiled plans

_COMPILED = compiler.PlanCache(maxsize=1000)  # as many as the parser cache keeps documents


def _count(executor: str, reason: str) -> None:
    telemetry.GRAPHQL_EXECUTIONS.labels(executor, reason).inc()


class CompiledExecutionContext(FastLeafExecutionContext):
    """Executes a document through its compiled plan (schema/compiler.py); anything a
    plan does not cover runs on graphql-core as before, counted in /metrics by reason
    (`kabinet_graphql_executions_total`)."""

    def compiled_plan(self) -> compiler.Plan | None:
        try:
            compiler.check_supported(self)
            plan = _COMPILED.get(self)
        except compiler.Unsupported as refusal:
            _count("graphql-core", str(refusal))
            return None
        _count("compiled", "")
        return plan

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = self.compiled_plan()
        if plan is None:
            return super().execute_operation(serially)
        return self.run_plan(plan, serially)

    def interpret(self, serially: bool | None = None) -> Any:
        """graphql-core's execution of the operation (the interpreter)."""
        return super().execute_operation(serially)

    def run_plan(self, plan: compiler.Plan, serially: bool | None) -> Any:
        serial = plan.serial if serially is None else serially
        self.arguments: dict[compiler.FieldPlan, dict[str, Any]] = {}  # compiler._arguments
        try:
            if serial:
                data = compiler.run_fields_serially(self, plan.root, self.root_value)
            else:
                data = plan.root.run(self, self.root_value, None)  # a dict, or a coroutine of it
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.build_response(None)
        if type(data) is not CoroutineType:
            return self.build_response(data)

        async def await_result() -> Any:
            try:
                awaited = await data
            except GraphQLError as error:
                self.collected_errors.add(error, None)
                return self.build_response(None)
            return self.build_response(awaited)

        return await_result()


# What differential execution found different, for the test suite to fail on.
MISMATCHES: list[dict[str, Any]] = []
MISMATCH = "EXECUTOR_MISMATCH"


class DifferentialExecutionContext(CompiledExecutionContext):
    """GRAPHQL_EXECUTOR=differential (the test suite): every query that has a plan runs
    through it and then through graphql-core, and any difference in `data` (values and
    key order) or `errors` (message, path, locations, extensions; in any order) is
    logged, kept in MISMATCHES and answered as an EXECUTOR_MISMATCH error, so the test
    that sent it fails. A difference is checked by a second pair of executions before it
    counts: a value made from the clock (a signed link's timestamp) may change between
    two executions when a second passes, and the executors are not what differs then.
    Mutations run once (through the plan): running one twice would apply it twice."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = self.compiled_plan()
        if plan is None:
            return self.interpret(serially)
        if self.operation.operation != OperationType.QUERY:
            return self.run_plan(plan, serially)
        return self._pair(plan, serially, retry=True)

    def _fresh(self) -> DifferentialExecutionContext:
        executor = copy(self)
        executor.collected_errors = CollectedErrors()
        return executor

    def _pair(self, plan: compiler.Plan, serially: bool | None, retry: bool) -> Any:
        compiled = self._fresh().run_plan(plan, serially)
        if self.is_awaitable(compiled):
            return self._pair_later(plan, serially, retry, compiled, None)
        expected = self._fresh().interpret(serially)
        if self.is_awaitable(expected):
            return self._pair_later(plan, serially, retry, compiled, expected)
        return self._settle(plan, serially, retry, compiled, expected)

    async def _pair_later(
        self, plan: compiler.Plan, serially: bool | None, retry: bool, compiled: Any, expected: Any
    ) -> Any:
        if self.is_awaitable(compiled):
            compiled = await compiled
        if expected is None:
            expected = self._fresh().interpret(serially)
        if self.is_awaitable(expected):
            expected = await expected
        result = self._settle(plan, serially, retry, compiled, expected)
        if self.is_awaitable(result):
            result = await result
        return result

    def _settle(
        self,
        plan: compiler.Plan,
        serially: bool | None,
        retry: bool,
        compiled: ExecutionResult,
        expected: ExecutionResult,
    ) -> Any:
        if _agree(compiled, expected):
            return compiled
        if retry:
            return self._pair(plan, serially, retry=False)
        return _mismatch(self, compiled, expected)


def _mismatch(executor: Executor, compiled: ExecutionResult, expected: ExecutionResult) -> Any:
    document = print_ast(executor.operation)
    found = {
        "operation": document,
        "variables": executor.variable_values.coerced,
        "compiled": {"data": compiled.data, "errors": _errors(compiled)},
        "graphql-core": {"data": expected.data, "errors": _errors(expected)},
    }
    MISMATCHES.append(found)
    log.error("the compiled plan and graphql-core differ: %s", json.dumps(found, default=str))
    error = GraphQLError(
        "The compiled plan and graphql-core answered this query differently.",
        extensions={"code": MISMATCH},
    )
    return ExecutionResult(compiled.data, [*(compiled.errors or ()), error])


def _agree(compiled: ExecutionResult, expected: ExecutionResult) -> bool:
    """The same data, and the same errors - except where several errors race to null one
    position: graphql-core keeps whichever arrives first (CollectedErrors drops the rest),
    and on a real database that can differ from one execution to the next. There each
    side must have nulled the same positions, by errors from below them."""
    if not _same(compiled.data, expected.data):
        return False
    if _errors(compiled) == _errors(expected):
        return True
    return _by_position(compiled) == _by_position(expected)


def _by_position(result: ExecutionResult) -> dict[Any, Any]:
    """Errors by the position they nulled (the highest null on their path). An error
    that nulled its own field, or one without a path, is kept as it is; errors that
    propagated up to a position are only counted there (which one won is timing)."""
    groups: dict[Any, list[str]] = {}
    for error in result.errors or ():
        path = tuple(error.path) if error.path else None
        position = _nulled(result.data, path) if path is not None else None
        formatted = json.dumps(error.formatted, sort_keys=True, default=str)
        if position is None or position == path:
            groups.setdefault((position, formatted), []).append(formatted)
        else:
            groups.setdefault((position, "propagated"), []).append("")
    return {key: len(found) for key, found in groups.items()}


def _nulled(data: Any, path: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The highest position on `path` whose value in `data` is null."""
    node = data
    for depth, key in enumerate(path):
        if node is None:
            return path[:depth]
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return path if node is None else None


def _errors(result: ExecutionResult) -> list[str]:
    return sorted(
        json.dumps(error.formatted, sort_keys=True, default=str) for error in result.errors or ()
    )


def _same(left: Any, right: Any) -> bool:
    """Equal values of the same types, dict keys in the same order."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return left == right


class InterpretedExecutionContext(FastLeafExecutionContext):
    """GRAPHQL_EXECUTOR=graphql-core: no plans at all."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        _count("graphql-core", "setting")
        return super().execute_operation(serially)


EXECUTION_CONTEXTS = {
    "compiled": CompiledExecutionContext,
    "graphql-core": InterpretedExecutionContext,
    "differential": DifferentialExecutionContext,
}
