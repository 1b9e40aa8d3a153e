"""Compiled execution plans: a document we have seen before, executed without
graphql-core's field-by-field interpreter.

graphql-core executes a document by interpreting it field by field: for every field of
every object of the answer it looks the field up, builds a path entry and a resolve-info
record, calls the resolver (Strawberry's default one for a plain attribute), asks whether
the result is awaitable, walks down the type's wrappers (non-null, list, leaf, abstract,
object), and for every object collects its sub-fields again (memoized per object). For
the dashboard that is ~365 fields at a few microseconds each: more than the whole
hand-written request.

A plan does that work once per (document, operation, values of the variables used by
@skip/@include): field collection (graphql-core's own `collect_fields`, so fragments,
type conditions, merging and the directives behave exactly as there), the field
definitions, which resolver each field has, and how to complete its type. Each object's
plan is then Python generated for it (`_generate`: a block per field with only the steps
its kind needs, the rare paths in `_finish`):

- a plain attribute (Strawberry's default resolver) is read as `source.name`, a
  `str`/`bool` leaf or a 32-bit `int` is stored as it is, other leaves are coerced inline;
- a field whose Strawberry resolver is a plain method of the object taking nothing else
  (no arguments, no info, no permission classes or field extensions) is called directly;
- other Strawberry resolvers without permission classes or field extensions, whose
  arguments are scalars (which Strawberry passes on as graphql-core coerced them), are
  called as Strawberry calls them - renamed arguments, `strawberry.Info`, the source as
  self, root or parent - without its layers of wrappers;
- every other field gets the resolve-info graphql-core would build and its resolver;
- a path entry is made only where a resolver or an error needs one; a field's arguments
  are coerced once per execution;
- lists loop without per-item machinery (an object of exactly its type's class goes
  straight to its plan); awaitables are gathered as graphql-core does
  (`gather_with_cancel`, a single one awaited directly).

Errors are graphql-core's own: raised, located and recorded by its `handle_field_error`
with the same nodes and path, so null propagation to the nearest nullable parent, error
paths and locations are the interpreter's. Anything unusual at a position (an async
iterable where a list is expected, a non-iterable, an abstract type resolved by an
awaitable) is completed there by graphql-core's `complete_value`. What a plan does not
cover at all (subscriptions, an abort signal, middleware, fragment variables, disabled
error propagation, @defer/@stream) runs on graphql-core entirely; `schema/execution.py`
decides and counts that in /metrics.
"""

from __future__ import annotations

import datetime as dt
import keyword
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLString,
    OperationType,
    Undefined,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import collect_fields, collect_subfields
from graphql.execution.executor import (
    Executor,
    default_field_resolver,
    gather_with_cancel,
    invalid_return_type_error,
)
from graphql.execution.values import get_argument_values
from graphql.language import DirectiveNode, FragmentDefinitionNode, OperationDefinitionNode
from graphql.pyutils import Path
from graphql.type import TypeNameMetaFieldDef
from graphql.type.scalars import serialize_int
from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField

log = logging.getLogger("kabinet")

# How a field gets its value.
ATTR = 0  # getattr(source, name): Strawberry's default resolver with the default getattr
BASIC = 1  # Strawberry's default resolver with a configured default_resolver(source, name)
DIRECT = 2  # a Strawberry resolver that is a plain method of the source: func(source)
RESOLVE = 3  # the field's resolve function with graphql-core's resolve-info and arguments
TYPENAME = 4  # __typename: the parent type's name
DEFAULT = 5  # graphql-core's default_field_resolver: a key of a mapping, else an attribute
CALL = 6  # a Strawberry resolver called as Strawberry calls it, without its wrappers

# Leaf types whose coercion keeps a value of exactly this Python type as it is.
_UNCHANGED = {GraphQLString.name: str, GraphQLID.name: str, GraphQLBoolean.name: bool}
_NO_FAST_TYPE = type("_NoFastType", (), {})  # no value is ever of this type
# Path(prev, key, typename) without the Python function namedtuple's __new__ is: the
# plan makes one for every object of a list and every field with a resolver.
_path = tuple.__new__

_STRAWBERRY_IS_TYPE_OF = "_get_is_type_of.<locals>.is_type_of"


# Types whose values are known to be neither awaitable, nor an exception, nor None or
# Undefined: their values skip those checks. Learned as values are met (`_learn`).
_PLAIN: set[type] = {int, float, str, bool, list, tuple, dict, Decimal, dt.date, dt.datetime}


def _learn(value_type: type, value: Any) -> None:
    """Remember a type whose value was found not awaitable, when that holds for every
    value of the type: not an exception, not a generator (awaitable by a flag of its
    code), no __getattr__ that could answer `__await__` per instance."""
    if (
        value is not Undefined
        and value_type is not GeneratorType
        and not issubclass(value_type, BaseException)
        and not hasattr(value_type, "__getattr__")
        and not hasattr(value_type, "__await__")
    ):
        _PLAIN.add(value_type)


class Unsupported(Exception):
    """The operation uses something a plan does not cover; the reason names it."""


class ObjectPlan:
    """The fields of one object type for one group of field nodes."""

    __slots__ = ("fields", "run", "singles", "type", "type_name")

    def __init__(self, object_type: Any, fields: tuple[FieldPlan, ...]) -> None:
        self.type = object_type
        self.type_name = object_type.name
        self.fields = fields
        self.run = _generate(self)
        self.singles: tuple[ObjectPlan, ...] | None = None  # one plan a field, run serially


class FieldPlan:
    """One response key of an object: how to get its value and complete it."""

    __slots__ = (
        "attr",
        "call",
        "complete",
        "details",
        "fast",
        "field_def",
        "fragment_variables",
        "func",
        "has_args",
        "key",
        "kind",
        "leaf",
        "node",
        "nodes",
        "non_null",
        "null_message",
        "parent_type",
        "return_type",
    )

    def __init__(self) -> None:
        self.fast: type = _NO_FAST_TYPE
        self.leaf: Any = None  # the leaf type's coerce_output_value, for a leaf field
        self.attr = ""
        self.func: Any = None
        self.call: StrawberryCall | None = None


class Plan:
    """A compiled operation: its root fields and whether they run one after another."""

    __slots__ = ("root", "serial")

    def __init__(self, root: ObjectPlan, serial: bool) -> None:
        self.root = root
        self.serial = serial


class StrawberryCall:
    """How Strawberry calls a field's resolver, worked out once: what its wrappers do per
    call (convert each argument - nothing, for scalars -, rename it to the Python
    parameter, build `strawberry.Info`, pass the source as self, root or parent) without
    their layers of functions (`bench/request_profile.py`: "Strawberry field wrappers")."""

    __slots__ = ("arguments", "definition", "func", "info_class", "info_name", "sources", "this")

    def __init__(self, definition: StrawberryField, info_class: Any) -> None:
        resolver = definition.base_resolver
        assert resolver is not None
        self.definition = definition
        self.func = resolver.wrapped_func
        self.this = resolver.self_parameter is not None
        self.sources = tuple(
            parameter.name
            for parameter in (resolver.parent_parameter, resolver.root_parameter)
            if parameter is not None
        )
        self.info_name = resolver.info_parameter.name if resolver.info_parameter else None
        self.info_class = info_class
        self.arguments: tuple[tuple[str, str], ...] = ()


# ------------------------------------------------------------------ compiling


def directive_variables(operation: OperationDefinitionNode, fragments: dict) -> tuple[str, ...]:
    """Names of the variables @skip/@include read: field collection depends on their
    values, so a plan is kept per combination of them."""
    names: set[str] = set()
    stack: list[Any] = [operation.selection_set]
    stack.extend(
        fragment.definition.selection_set
        for fragment in fragments.values()
        if fragment.definition is not None
    )
    while stack:
        selection_set = stack.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                _variables_of(directive, names)
            stack.append(getattr(selection, "selection_set", None))
    return tuple(sorted(names))


def _variables_of(directive: DirectiveNode, names: set[str]) -> None:
    for argument in directive.arguments or ():
        value = argument.value
        if value.kind == "variable":
            names.add(value.name.value)


def check_supported(executor: Executor) -> None:
    """Raise Unsupported when this execution must run on graphql-core."""
    operation = executor.operation
    if operation.operation not in (OperationType.QUERY, OperationType.MUTATION):
        raise Unsupported("subscription")
    if executor.abort_signal is not None:
        raise Unsupported("abort_signal")
    if executor.hooks is not None:
        raise Unsupported("hooks")
    if not executor.error_propagation:
        raise Unsupported("error_propagation")
    manager = executor.middleware_manager
    if manager is not None and manager.middlewares:
        raise Unsupported("middleware")
    schema = executor.schema
    if schema.get_directive("defer") or schema.get_directive("stream"):
        raise Unsupported("incremental_delivery")
    for definition in executor.fragment_definitions.values():
        if isinstance(definition, FragmentDefinitionNode) and definition.variable_definitions:
            raise Unsupported("fragment_variables")


def compile_plan(executor: Executor) -> Plan:
    """The plan of the executor's operation (for its @skip/@include values)."""
    schema = executor.schema
    operation = executor.operation
    root_type = schema.get_root_type(operation.operation)
    if root_type is None:
        raise Unsupported("no_root_type")
    grouped, defers, _forbidden = collect_fields(
        schema,
        executor.fragments,
        executor.variable_values,
        root_type,
        operation,
        executor.hide_suggestions,
    )
    if defers:
        raise Unsupported("incremental_delivery")
    return Plan(
        _object_plan(executor, root_type, grouped),
        operation.operation == OperationType.MUTATION,
    )


def _object_plan(executor: Executor, object_type: Any, grouped: dict) -> ObjectPlan:
    fields = []
    for key, details in grouped.items():
        field = _field_plan(executor, object_type, key, details)
        if field is not None:
            fields.append(field)
    return ObjectPlan(object_type, tuple(fields))


def _field_plan(executor: Executor, parent_type: Any, key: str, details: list) -> FieldPlan | None:
    first = details[0]
    if first.defer_usage is not None:
        raise Unsupported("incremental_delivery")
    if any(detail.fragment_variable_values is not None for detail in details):
        raise Unsupported("fragment_variables")
    node = first.node
    field_def = executor.schema.get_field(parent_type, node.name.value)
    if field_def is None:
        return None  # graphql-core skips an unknown field too (validation rejects it)
    plan = FieldPlan()
    plan.key = key
    plan.node = node
    plan.details = details
    plan.nodes = [detail.node for detail in details]
    plan.field_def = field_def
    plan.parent_type = parent_type
    plan.return_type = field_def.type
    plan.fragment_variables = first.fragment_variable_values
    plan.has_args = bool(field_def.args or node.arguments)
    resolve = field_def.resolve or executor.field_resolver
    plan.func = resolve
    plan.kind = RESOLVE
    if field_def is TypeNameMetaFieldDef:
        plan.kind = TYPENAME
    elif resolve is default_field_resolver:
        plan.kind = DEFAULT
        plan.attr = node.name.value
    else:
        _shortcut(executor, plan, resolve)
    plan.non_null = is_non_null_type(field_def.type)
    named = field_def.type.of_type if plan.non_null else field_def.type
    plan.null_message = (
        f"Cannot return null for non-nullable field {parent_type}.{node.name.value}."
    )
    if is_leaf_type(named):
        plan.leaf = named.coerce_output_value
        plan.fast = _UNCHANGED.get(named.name, _NO_FAST_TYPE)
    plan.complete = _completer(executor, plan, named)
    return plan


def _shortcut(executor: Executor, plan: FieldPlan, resolve: Any) -> None:
    """ATTR/BASIC/DIRECT/CALL where the field's Strawberry resolver is known to do no
    more than they do."""
    definition = (plan.field_def.extensions or {}).get("strawberry-definition")
    if definition is None or type(definition).get_result is not StrawberryField.get_result:
        return
    if getattr(resolve, "_is_default", False) and not plan.has_args:
        # Strawberry's basic field (no resolver, no extensions such as permission classes,
        # no exception handlers): field.get_result(source, None, [], {}), which is
        # default_resolver(source, python_name). Strawberry marks a resolver-less field
        # with extensions `_is_default` too, but runs them: that one stays RESOLVE.
        if not definition.is_basic_field or _exception_handlers(executor):
            return
        plan.attr = definition.python_name
        if definition.default_resolver is getattr:
            plan.kind = ATTR
        else:
            plan.kind = BASIC
            plan.func = definition.default_resolver
        return
    resolver = definition.base_resolver
    if (
        resolver is None
        or definition.extensions
        or _exception_handlers(executor)
        or not callable(resolver.wrapped_func)
    ):
        return
    if (
        not plan.has_args
        and resolver.self_parameter is not None
        and resolver.parent_parameter is None
        and resolver.root_parameter is None
        and resolver.info_parameter is None
    ):
        plan.kind = DIRECT
        plan.func = resolver.wrapped_func
        return
    _strawberry_call(executor, plan, definition)


def _strawberry_call(executor: Executor, plan: FieldPlan, definition: StrawberryField) -> None:
    """CALL where every argument reaches the resolver as graphql-core coerced it: a scalar
    or an optional scalar (Strawberry converts enums, input types, lists, Maybe and GlobalID;
    those fields keep its wrappers)."""
    strawberry_schema = getattr(executor.schema, "_strawberry_schema", None)
    converter = getattr(strawberry_schema, "schema_converter", None)
    if converter is None or not _strawberry_resolve(plan.func):
        return
    config = strawberry_schema.config
    registry = converter.scalar_registry
    names = []
    for argument in definition.arguments:
        kind = argument.type
        if isinstance(kind, StrawberryOptional) and not isinstance(kind, StrawberryMaybe):
            kind = kind.of_type
        if kind is GlobalID or not is_scalar(kind, registry):
            return
        names.append((config.name_converter.from_argument(argument), argument.python_name))
    call = StrawberryCall(definition, config.info_class)
    call.arguments = tuple(names)
    plan.call = call
    plan.kind = CALL


def _exception_handlers(executor: Executor) -> bool:
    strawberry_schema = getattr(executor.schema, "_strawberry_schema", None)
    converter = getattr(strawberry_schema, "schema_converter", None)
    return bool(getattr(converter, "exception_handlers", ()))


_STRAWBERRY_RESOLVERS = (
    "from_resolver.<locals>._resolver",
    "from_resolver.<locals>._async_resolver",
)


def _strawberry_resolve(resolve: Any) -> bool:
    """Whether a field's resolve function is Strawberry's own (not wrapped by anyone)."""
    return getattr(resolve, "__qualname__", "").endswith(_STRAWBERRY_RESOLVERS)


def _field_path(path: Path) -> Path:
    """The path of the field a (possibly list item) position belongs to."""
    while path.typename is None and path.prev is not None and isinstance(path.key, int):
        path = path.prev
    return path


def _info(executor: Any, plan: FieldPlan, path: Path) -> Any:
    return executor.build_resolve_info(
        plan.field_def, plan.nodes, plan.parent_type, _field_path(path)
    )


def _completer(executor: Executor, plan: FieldPlan, return_type: Any) -> Any:
    """complete(executor, value, path) for the nullable `return_type` at `plan`'s field:
    the completed value, or a coroutine of it. Callers check non-null themselves."""
    if is_list_type(return_type):
        return _list_completer(executor, plan, return_type)
    if is_leaf_type(return_type):
        return _leaf_completer(return_type)
    if is_abstract_type(return_type):
        return _abstract_completer(plan, return_type)
    if is_object_type(return_type):
        return _object_completer(executor, plan, return_type)
    raise Unsupported("output_type")  # pragma: no cover - graphql-core has no other kind


def _leaf_completer(leaf: Any) -> Any:
    coerce = leaf.coerce_output_value
    fast = _UNCHANGED.get(leaf.name, _NO_FAST_TYPE)

    def complete_leaf(_ex: Any, value: Any, _path: Path | None) -> Any:
        if type(value) is fast:
            return value
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            return Executor.complete_leaf_value(leaf, value)  # raises graphql-core's error
        return coerced

    return complete_leaf


def _object_completer(executor: Executor, plan: FieldPlan, object_type: Any) -> Any:
    sub_plan = object_plan_for(executor, object_type, plan.details)
    is_type_of = object_type.is_type_of
    plain_check = is_type_of is not None and getattr(is_type_of, "__qualname__", "").endswith(
        _STRAWBERRY_IS_TYPE_OF
    )
    run = sub_plan.run
    # A value of exactly the type's class that was not cast to another type: Strawberry's
    # check, if the type has one, answers yes (isinstance of its own class) unasked.
    origin = _origin(object_type) if plain_check or is_type_of is None else None

    def complete_object(ex: Any, value: Any, path: Path) -> Any:
        if type(value) is origin and TYPE_CAST_ATTRIBUTE not in value.__dict__:
            return run(ex, value, path)
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if is_type_of is not None:
            # Strawberry's own check reads only the value; any other gets the info.
            matches = is_type_of(value, None if plain_check else _info(ex, plan, path))
            if ex.is_awaitable(matches):
                return _later(
                    matches,
                    lambda: ex.complete_object_value(
                        object_type, plan.details, _info(ex, plan, path), path, value, None
                    ),
                )
            if not matches:
                raise invalid_return_type_error(object_type, value, plan.details)
        return run(ex, value, path)

    complete_object.origin = origin  # type: ignore[attr-defined]
    complete_object.run = run  # type: ignore[attr-defined]
    return complete_object


def _origin(object_type: Any) -> type | None:
    """The class of a Strawberry object type, when its instances keep a cast (Strawberry's
    `cast` sets an attribute on the instance) in their `__dict__`."""
    definition = (object_type.extensions or {}).get("strawberry-definition")
    origin = getattr(definition, "origin", None)
    if (
        not isinstance(origin, type)
        or not origin.__dictoffset__
        or hasattr(origin, TYPE_CAST_ATTRIBUTE)
        or issubclass(origin, BaseException)
    ):
        return None
    return origin


async def _later(awaitable: Any, complete: Any) -> Any:
    """graphql-core's own completion once an awaitable check has settled (it repeats
    the check, which is a pure predicate)."""
    await awaitable
    completed = complete()
    if type(completed) is CoroutineType:
        completed = await completed
    return completed


def _abstract_completer(plan: FieldPlan, abstract_type: Any) -> Any:
    by_type: dict[str, Any] = {}

    def complete_abstract(ex: Any, value: Any, path: Path) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        info = _info(ex, plan, path)
        resolve_type = abstract_type.resolve_type or ex.type_resolver
        runtime = resolve_type(value, info, abstract_type)
        if ex.is_awaitable(runtime):
            return _resolve_later(ex, plan, abstract_type, runtime, info, path, value)
        object_type = ex.ensure_valid_runtime_type(
            runtime, abstract_type, plan.details, info, value
        )
        complete = by_type.get(object_type.name)
        if complete is None:
            complete = by_type[object_type.name] = _object_completer(ex, plan, object_type)
        return complete(ex, value, path)

    return complete_abstract


async def _resolve_later(
    ex: Any, plan: FieldPlan, abstract_type: Any, runtime: Any, info: Any, path: Path, value: Any
) -> Any:
    object_type = ex.ensure_valid_runtime_type(
        await runtime, abstract_type, plan.details, info, value
    )
    completed = ex.complete_object_value(object_type, plan.details, info, path, value, None)
    if ex.is_awaitable(completed):
        completed = await completed
    return completed


def _list_completer(executor: Executor, plan: FieldPlan, list_type: Any) -> Any:
    item_type = list_type.of_type
    item_non_null = is_non_null_type(item_type)
    named = item_type.of_type if item_non_null else item_type
    item_complete = _completer(executor, plan, named)
    leaf_items = is_leaf_type(named)
    # objects of exactly their type's class: its plan at once (`_object_completer`)
    origin = getattr(item_complete, "origin", None)
    item_run = getattr(item_complete, "run", None)
    details = plan.details
    message = plan.null_message

    def complete_list(ex: Any, value: Any, path: Path) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if type(value) is not list and type(value) is not tuple:
            # async iterables, other iterables, non-iterables: graphql-core's way
            return ex.complete_value(list_type, details, _info(ex, plan, path), path, value, None)
        is_awaitable = ex.is_awaitable
        completed: list[Any] = []
        append = completed.append
        pending: list[int] = []
        try:
            for index, item in enumerate(value):
                item_path = None if leaf_items else _path(Path, (path, index, None))
                try:
                    kind = type(item)
                    if kind is origin and TYPE_CAST_ATTRIBUTE not in item.__dict__:
                        result = item_run(ex, item, item_path)
                    elif kind in _PLAIN:
                        result = item_complete(ex, item, item_path)
                    elif item is None:
                        result = None
                    elif is_awaitable(item):
                        item_path = item_path or Path(path, index, None)
                        append(
                            _await_item(
                                ex, item, item_complete, item_type, details, item_path, message
                            )
                        )
                        pending.append(index)
                        continue
                    else:
                        _learn(kind, item)
                        result = item_complete(ex, item, item_path)
                    if result is None:
                        if item_non_null:
                            raise TypeError(message)
                        append(None)
                    elif type(result) is CoroutineType:
                        item_path = item_path or Path(path, index, None)
                        append(_settle_item(ex, result, item_type, details, item_path))
                        pending.append(index)
                    else:
                        append(result)
                except Exception as raw_error:
                    ex.handle_field_error(
                        raw_error, item_type, details, item_path or Path(path, index, None)
                    )
                    append(None)
        except Exception:
            if pending:
                ex.settle_in_background([completed[i] for i in pending])
            raise
        if not pending:
            return completed
        return _gather_items(completed, pending)

    return complete_list


async def _await_item(
    ex: Any, item: Any, complete: Any, item_type: Any, details: list, path: Path, message: str
) -> Any:
    try:
        resolved = await item
        completed = complete(ex, resolved, path)
        if type(completed) is CoroutineType:
            completed = await completed
        if completed is None and is_non_null_type(item_type):
            raise TypeError(message)
    except Exception as raw_error:
        ex.handle_field_error(raw_error, item_type, details, path)
        return None
    return completed


async def _settle_item(ex: Any, completed: Any, item_type: Any, details: list, path: Path) -> Any:
    try:
        return await completed
    except Exception as raw_error:
        ex.handle_field_error(raw_error, item_type, details, path)
        return None


async def _gather_items(completed: list[Any], pending: list[int]) -> list[Any]:
    if len(pending) == 1:
        index = pending[0]
        completed[index] = await completed[index]
    else:
        results = await gather_with_cancel(*(completed[i] for i in pending))
        for index, result in zip(pending, results, strict=True):
            completed[index] = result
    return completed


def object_plan_for(executor: Executor, object_type: Any, details: list) -> Any:
    """A callable giving the object's plan, compiled the first time it is needed
    (abstract types meet their runtime types only then)."""
    grouped, defers, _forbidden = collect_subfields(
        executor.schema,
        executor.fragments,
        executor.variable_values,
        executor.operation,
        object_type,
        details,
        executor.hide_suggestions,
    )
    if defers:
        raise Unsupported("incremental_delivery")
    return _object_plan(executor, object_type, grouped)


# ------------------------------------------------------------------ executing


# The code of an object's plan (`_generate`): one block per field, in the field's order,
# each with only the steps its kind needs, and the field's constants bound by name.
_PROLOGUE = """
def run(ex, source, path):
    results = {}
    pending = []
    try:
"""
_EPILOGUE = """
    except Exception:
        if pending:
            ex.settle_in_background([results[key] for key in pending])
        raise
    if not pending:
        return results
    return gather_fields(results, pending)
"""
_FIELD = """
        field_path = None
        try:
{get}
            value_type = type(value)
{finish}
        except Exception as raw_error:
            ex.handle_field_error(
                raw_error, F{i}.return_type, F{i}.details, field_path or Path(path, K{i}, TN)
            )
            results[K{i}] = None
"""
_GET = {
    ATTR: "            value = source.{attr}",
    DIRECT: "            value = FN{i}(source)",
    BASIC: "            value = FN{i}(source, A{i})",
    # graphql-core's default_field_resolver, the resolve-info made only for a callable
    # value (the only case that reads it)
    DEFAULT: """            if type(source) is dict or isinstance(source, Mapping):
                value = source.get(A{i})
            else:
                value = getattr(source, A{i}, None)
            if callable(value):
                field_path = Path(path, K{i}, TN)
                value = _call_value(ex, F{i}, value, field_path)""",
    CALL: """            field_path = _path(Path, (path, K{i}, TN))
            value = _call(ex, F{i}, source, field_path)""",
    RESOLVE: """            field_path = _path(Path, (path, K{i}, TN))
            value = _resolve(ex, F{i}, source, field_path)""",
}
_GET_BY_NAME = "            value = getattr(source, A{i})"  # an attribute no identifier names
_FAST_TYPE = """            if value_type is FAST{i}:
                results[K{i}] = value"""
# graphql-core's Int keeps an int of 32 bits as it is (serialize_int)
_FAST_INT = """            if value_type is int and -2147483648 <= value <= 2147483647:
                results[K{i}] = value"""
_FAST_LEAF = """            {keyword} value_type in _PLAIN:
                completed = LEAF{i}(value)
                if completed is None or completed is Undefined:
                    F{i}.complete(ex, value, None)  # raises graphql-core's error
                results[K{i}] = completed"""
_FINISH = "_finish(ex, F{i}, value, value_type, field_path, path, results, pending)"
_TYPENAME = """
        results[K{i}] = TN
"""


def _generate(plan: ObjectPlan) -> Any:
    """`run(ex, source, path)` for the object's plan, as Python compiled for it: what
    executing it would do field by field (`_finish` has the steps past the common
    cases), without looking up each field's kind, key and types at run time."""
    namespace: dict[str, Any] = {
        "TN": plan.type_name,
        "Path": Path,
        "_path": _path,
        "Mapping": Mapping,
        "Undefined": Undefined,
        "_PLAIN": _PLAIN,
        "_finish": _finish,
        "_call": _call,
        "_call_value": _call_value,
        "_resolve": _resolve,
        "gather_fields": gather_fields,
    }
    blocks = [_PROLOGUE]
    for i, field in enumerate(plan.fields):
        namespace[f"F{i}"] = field
        namespace[f"K{i}"] = field.key
        if field.kind == TYPENAME:
            blocks.append(_TYPENAME.format(i=i))
            continue
        namespace[f"A{i}"] = field.attr
        namespace[f"FN{i}"] = field.func
        attr = field.attr
        if field.kind == ATTR and not (attr.isidentifier() and not keyword.iskeyword(attr)):
            get = _GET_BY_NAME.format(i=i)
        else:
            get = _GET[field.kind].format(i=i, attr=attr)
        fast = []
        if field.fast is not _NO_FAST_TYPE:
            namespace[f"FAST{i}"] = field.fast
            fast.append(_FAST_TYPE.format(i=i))
        elif field.leaf is serialize_int:
            fast.append(_FAST_INT.format(i=i))
        if field.leaf is not None:
            namespace[f"LEAF{i}"] = field.leaf
            fast.append(_FAST_LEAF.format(i=i, keyword="elif" if fast else "if"))
        finish = _FINISH.format(i=i)
        if fast:  # the common cases, else the rest
            fast.append(f"            else:\n                {finish}")
        else:
            fast.append(f"            {finish}")
        blocks.append(_FIELD.format(i=i, get=get, finish="\n".join(fast)))
    if not plan.fields:
        blocks.append("        pass\n")
    blocks.append(_EPILOGUE)
    code = compile("".join(blocks), f"<plan of {plan.type_name}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own template; names and keys are bound, not spliced
    return namespace["run"]


def _finish(
    ex: Any,
    field: FieldPlan,
    value: Any,
    value_type: type,
    field_path: Path | None,
    path: Path | None,
    results: dict[str, Any],
    pending: list[str],
) -> None:
    """A field's value past the common cases: null, awaitable, or to be completed (an
    object, a list, a leaf of an unusual type). Its errors are the caller's to handle."""
    key = field.key
    if value_type in _PLAIN:
        pass  # known to be neither null nor awaitable
    elif value is None:
        if field.non_null:
            raise TypeError(field.null_message)
        results[key] = None
        return
    elif ex.is_awaitable(value):
        path = field_path or Path(path, key, field.parent_type.name)
        results[key] = _await_field(ex, field, value, path)
        pending.append(key)
        return
    else:
        _learn(value_type, value)
    if field.leaf is not None:
        completed = field.complete(ex, value, None)
    else:
        field_path = field_path or _path(Path, (path, key, field.parent_type.name))
        completed = field.complete(ex, value, field_path)
    if completed is None:
        if field.non_null:
            raise TypeError(field.null_message)
        results[key] = None
    elif type(completed) is CoroutineType:
        path = field_path or Path(path, key, field.parent_type.name)
        results[key] = _settle_field(ex, field, completed, path)
        pending.append(key)
    else:
        results[key] = completed


def _call_value(ex: Any, field: FieldPlan, value: Any, path: Path) -> Any:
    return _with_info(ex, field, path, value)


def _resolve(ex: Any, field: FieldPlan, source: Any, path: Path) -> Any:
    return _with_info(ex, field, path, field.func, source)


def _with_info(ex: Any, field: FieldPlan, path: Path, func: Any, *before: Any) -> Any:
    """func(*before, info, **arguments) with the resolve-info graphql-core would build."""
    info = ex.build_resolve_info(field.field_def, field.nodes, field.parent_type, path)
    if field.has_args:
        return func(*before, info, **_arguments(ex, field))
    return func(*before, info)


def _arguments(ex: Any, field: FieldPlan) -> dict[str, Any]:
    """The field's arguments as graphql-core coerces them (by their GraphQL names):
    once per execution, however many objects of a list have the field (`ex.arguments`,
    set by whoever runs the plan; its values are only read)."""
    known = ex.arguments
    arguments = known.get(field)
    if arguments is None:
        arguments = known[field] = get_argument_values(
            field.field_def,
            field.node,
            ex.variable_values,
            field.fragment_variables,
            ex.hide_suggestions,
        )
    return arguments


def _call(ex: Any, field: FieldPlan, source: Any, path: Path) -> Any:
    """The field's Strawberry resolver with what Strawberry would give it."""
    call: StrawberryCall = field.call  # type: ignore[assignment]
    kwargs: dict[str, Any] = {}
    if field.has_args:
        args = _arguments(ex, field)
        for graphql_name, python_name in call.arguments:
            if graphql_name in args:
                kwargs[python_name] = args[graphql_name]
    for name in call.sources:
        kwargs[name] = source
    if call.info_name is not None:
        info = ex.build_resolve_info(field.field_def, field.nodes, field.parent_type, path)
        kwargs[call.info_name] = call.info_class(_raw_info=info, _field=call.definition)
    if call.this:
        return call.func(source, **kwargs)
    return call.func(**kwargs)


async def _await_field(ex: Any, field: FieldPlan, value: Any, path: Path) -> Any:
    try:
        resolved = await value
        completed = field.complete(ex, resolved, path)
        if type(completed) is CoroutineType:
            completed = await completed
        if completed is None and field.non_null:
            raise TypeError(field.null_message)
    except Exception as raw_error:
        ex.handle_field_error(raw_error, field.return_type, field.details, path)
        return None
    return completed


async def _settle_field(ex: Any, field: FieldPlan, completed: Any, path: Path) -> Any:
    try:
        completed = await completed
        if completed is None and field.non_null:
            raise TypeError(field.null_message)
        return completed
    except Exception as raw_error:
        ex.handle_field_error(raw_error, field.return_type, field.details, path)
        return None


async def gather_fields(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    """`results` with the awaitables under the `pending` keys awaited together."""
    if len(pending) == 1:
        key = pending[0]
        results[key] = await results[key]
    else:
        awaited = await gather_with_cancel(*(results[key] for key in pending))
        results.update(zip(pending, awaited, strict=True))
    return results


async def run_fields_serially(ex: Any, plan: ObjectPlan, source: Any) -> dict[str, Any]:
    """A mutation's root fields, one after another (each awaited before the next)."""
    results: dict[str, Any] = {}
    if plan.singles is None:  # compiled on first use, kept with the plan
        plan.singles = tuple(ObjectPlan(plan.type, (field,)) for field in plan.fields)
    for single in plan.singles:
        completed = single.run(ex, source, None)
        if type(completed) is CoroutineType:
            completed = await completed
        results.update(completed)
    return results


class PlanCache:
    """Plans by operation node (the parser cache hands out the same node for the same
    document text) and the values of its @skip/@include variables; least recently
    used forgotten first."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[int, int], tuple[Any, Any, tuple[str, ...], dict]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def get(self, executor: Executor) -> Plan:
        """The plan for this execution, compiled on first use; raises Unsupported."""
        operation = executor.operation
        schema = executor.schema
        key = (id(schema), id(operation))
        with self._lock:  # a test may execute in a second thread with its own loop
            entry = self._entries.get(key)
            if entry is None or entry[0] is not operation or entry[1] is not schema:
                names = directive_variables(operation, executor.fragments)
                entry = (operation, schema, names, {})
                self._entries[key] = entry
                if len(self._entries) > self.maxsize:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
        _operation, _schema, names, plans = entry
        coerced = executor.variable_values.coerced
        values = tuple(coerced.get(name) for name in names)
        plan = plans.get(values)
        if plan is None:
            try:
                plan = compile_plan(executor)
            except Unsupported as refusal:
                plan = str(refusal)
            except Exception:
                log.exception("compiling a plan failed; graphql-core executes this document")
                plan = "compile_error"
            plans[values] = plan
        if isinstance(plan, str):  # the reason it has no plan; a new exception each time
            raise Unsupported(plan)
        return plan
