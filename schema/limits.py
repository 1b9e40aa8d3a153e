"""The cost of a query, checked before execution (OWASP GraphQL cheat sheet: query cost).

Every field costs 1; a connection multiplies what it selects per item by its page size
(`first`, its default when absent). Nested connections multiply: `questions(first: 100) {
messages(first: 100) { ... } }` costs over 10,000, far past the default limit, while the
whole dashboard of a cabinet stays near 2,000. `nodes(ids:)` multiplies likewise by the
number of ids. Introspection is not counted (depth and token limits bound it).

A page size given by a variable counts as the value the request gives it, coerced as
execution will see it - not the variable's declared default: `query($n: Int = 1)` sent with
`{"n": 100}` fetches pages of 100 (issue 17, item 5). So the cost is not a validation rule,
whose verdict is kept per document whatever the variables: the
`DocumentLimits` extension computes it when execution is about to start, and refuses the
operation there with the same QUERY_TOO_COMPLEX a validation error had.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

from graphql import (
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import parse as parse_document
from graphql.execution.values import get_variable_values
from strawberry.extensions import SchemaExtension

LARGEST_PAGE = 100
LARGEST_ID_LIST = 100  # resolvers/nodes.py MAX_NODES
DEFAULT_PAGE = 20


def _page_size(node: FieldNode, variables: dict[str, Any]) -> int:
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(int(value.value), 1)
        if isinstance(value, VariableNode):
            if value.name.value not in variables:
                return DEFAULT_PAGE  # no value and no default: the argument is left out
            given = variables[value.name.value]
            if isinstance(given, int) and not isinstance(given, bool):
                return max(given, 1)
            return DEFAULT_PAGE if given is None else LARGEST_PAGE
        return LARGEST_PAGE
    return DEFAULT_PAGE


def _id_count(node: FieldNode, variables: dict[str, Any]) -> int | None:
    """How many objects `nodes(ids: ...)` fetches, which multiplies what it selects as a
    page size does; None for a field without `ids`. A variable counts by the list
    `variables` gives it, else as the longest list allowed."""
    for argument in node.arguments or ():
        if argument.name.value != "ids":
            continue
        value = argument.value
        if isinstance(value, ListValueNode):
            return len(value.values)
        if isinstance(value, VariableNode) and isinstance(variables.get(value.name.value), list):
            return len(variables[value.name.value])
        return LARGEST_ID_LIST
    return None


class _Coster:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def cost(self, selections: SelectionSetNode | None, parent: Any, seen: frozenset[str]) -> int:
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.cost(selection.selection_set, target, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue  # other rules report unknown or cyclic fragments
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.cost(fragment.selection_set, target, seen | {name})
        return total

    def _field(self, node: FieldNode, parent: Any, seen: frozenset[str]) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        fields = getattr(parent, "fields", None) or {}
        definition = fields.get(name)
        if definition is None:
            return 1  # FieldsOnCorrectTypeRule reports it
        named = get_named_type(definition.type)
        inner = self.cost(node.selection_set, named, seen)
        if named.name.endswith("Connection"):
            return 1 + _page_size(node, self.variables) * inner
        if (count := _id_count(node, self.variables)) is not None:
            return 1 + count * inner
        return 1 + inner


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _page_variables(document: DocumentNode) -> frozenset[str]:
    """The variables any `first` argument of the document takes its page size from."""
    names: set[str] = set()

    class Collect(Visitor):
        def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
            if node.name.value == "first" and isinstance(node.value, VariableNode):
                names.add(node.value.name.value)

    visit(document, Collect())
    return frozenset(names)


class _Plan:
    """What the cost of one operation of a parsed document depends on, and the costs
    already computed for it, by the page sizes its variables had."""

    MAX_COSTS = 64  # remembered per operation; a client trying every page size starts over

    def __init__(self, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        used = _page_variables(document)
        self.operation = operation
        self.page_definitions = [
            d for d in operation.variable_definitions or () if d.variable.name.value in used
        ]
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.costs: dict[tuple[Any, ...], int] = {}


# Plans by the parsed document (the parse cache hands the same DocumentNode back for the same
# text, so the walk runs once per document and page sizes, not once per request: it costs
# about as much as validating the dashboard). An entry leaves with its document.
_PLANS: dict[int, dict[str | None, _Plan | None]] = {}


def _plan(document: DocumentNode, operation_name: str | None) -> _Plan | None:
    plans = _PLANS.get(id(document))
    if plans is None:
        plans = _PLANS[id(document)] = {}
        weakref.finalize(document, _PLANS.pop, id(document), None)
    if operation_name not in plans:
        operation = _operation(document, operation_name)
        plans[operation_name] = None if operation is None else _Plan(document, operation)
    return plans[operation_name]


def _page_sizes(
    schema: GraphQLSchema, plan: _Plan, variables: dict[str, Any]
) -> dict[str, Any] | None:
    """The page-size variables as execution will see them: a JSON integer within Int's
    range is itself (the common case, without graphql-core's coercion machinery); anything
    else (absent, null, 100.0, a default to apply) goes through graphql-core's coercion."""
    values = {}
    for definition in plan.page_definitions:
        value = variables.get(definition.variable.name.value)
        if type(value) is not int or not -(2**31) <= value < 2**31:
            coerced = get_variable_values(schema, plan.page_definitions, variables)
            return None if isinstance(coerced, list) else coerced.coerced
        values[definition.variable.name.value] = value
    return values


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int | None:
    """The cost of the operation with the request's variables, coerced as execution will
    see them; None when execution refuses it anyway (no such operation, a page size that
    does not coerce: graphql-core reports that and executes nothing)."""
    plan = _plan(document, operation_name)
    if plan is None:
        return None
    values = _page_sizes(schema, plan, variables or {})
    if values is None:
        return None
    sizes = tuple(sorted(values.items()))
    cost = plan.costs.get(sizes)
    if cost is None:
        root = {
            "query": schema.query_type,
            "mutation": schema.mutation_type,
            "subscription": schema.subscription_type,
        }[plan.operation.operation.value]
        coster = _Coster(schema, plan.fragments, values)
        cost = coster.cost(plan.operation.selection_set, root, frozenset())
        if len(plan.costs) >= _Plan.MAX_COSTS:
            plan.costs.clear()
        plan.costs[sizes] = cost
    return cost


class DocumentCache:
    """Parsed documents by their text, and validation verdicts by the parsed document,
    least recently used forgotten first (what Strawberry's ParserCache and
    ValidationCache keep, in one place). A verdict is looked up by the document's
    identity - the parse cache hands out one node per text - where ValidationCache hashes
    the whole tree on every request (graphql-core's nodes hash their fields recursively)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.parse = functools.lru_cache(maxsize=maxsize)(parse_document)
        self._verdicts: OrderedDict[tuple[int, int, tuple], tuple[Any, Any, list]] = OrderedDict()
        self._lock = threading.Lock()  # a test may execute in a second thread
        self.hits = self.misses = 0

    def validate(
        self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]
    ) -> list[GraphQLError]:
        from strawberry.schema.schema import validate_document

        key = (id(schema), id(document), rules)
        with self._lock:
            entry = self._verdicts.get(key)
            if entry is not None and entry[0] is document and entry[1] is schema:
                self._verdicts.move_to_end(key)
                self.hits += 1
                return entry[2]
        errors = validate_document(schema, document, rules)
        with self._lock:
            self.misses += 1
            self._verdicts[key] = (document, schema, errors)
            while len(self._verdicts) > self.maxsize:
                self._verdicts.popitem(last=False)
        return errors

    def sizes(self) -> tuple[int, int]:
        """Documents parsed and verdicts kept."""
        return self.parse.cache_info().currsize, len(self._verdicts)


DOCUMENTS = DocumentCache(1000)


class DocumentLimits(SchemaExtension):
    """A document's way to execution, in one extension: parsed once per text under the
    token limit (what Strawberry's ParserCache and MaxTokensLimiter do), validated once per
    document with the rules of depth, aliases and text added (ValidationCache and
    AddValidationRules), and its cost with the request's actual variables checked before
    any resolver runs (QUERY_TOO_COMPLEX, `extensions.cost`, `maxCost`). One extension, not
    four: Strawberry makes every extension and wraps its hooks anew for each request,
    about 40-70 us apiece on the dashboard (bench/request_profile.py)."""

    def __init__(
        self,
        max_tokens: int,
        rules: Sequence[type[ASTValidationRule]],
        max_cost: int,
        cache: DocumentCache = DOCUMENTS,
    ) -> None:
        self.max_tokens = max_tokens
        self.rules = tuple(rules)
        self.max_cost = max_cost
        self.cache = cache

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            context.graphql_document = self.cache.parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.pre_execution_errors = self.cache.validate(
            context.schema._schema, context.graphql_document, tuple(context.validation_rules)
        )
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            cost = query_cost(
                context.schema._schema, document, context.operation_name, context.variables
            )
            if cost is not None and cost > self.max_cost:
                error = GraphQLError(
                    f"The query costs {cost}, more than the {self.max_cost} allowed: ask for "
                    "smaller pages or fewer nested lists.",
                    _operation(document, context.operation_name),
                    extensions={
                        "code": "QUERY_TOO_COMPLEX",
                        "cost": cost,
                        "maxCost": self.max_cost,
                    },
                )
                context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
