"""The cost of a query, checked at validation (OWASP GraphQL cheat sheet: query cost).

Every field costs 1; a connection multiplies what it selects per item by its page size
(`first`, its default when absent; a variable counts as its declared default or as the
largest page, 100). Nested connections multiply: `questions(first: 100) { messages(
first: 100) { ... } }` costs over 10,000, far past the default limit, while the whole
dashboard of a cabinet stays near 2,000. Introspection is not counted (depth and token
limits bound it).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
)

LARGEST_PAGE = 100
LARGEST_ID_LIST = 100  # resolvers/nodes.py MAX_NODES
DEFAULT_PAGE = 20


def _page_size(node: FieldNode, defaults: dict[str, Any]) -> int:
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(int(value.value), 1)
        if isinstance(value, VariableNode):
            default = defaults.get(value.name.value)
            return max(int(default), 1) if isinstance(default, int) else LARGEST_PAGE
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
    def __init__(self, context: Any, defaults: dict[str, Any]) -> None:
        self.context = context
        self.defaults = defaults

    def cost(self, selections: SelectionSetNode | None, parent: Any, seen: frozenset[str]) -> int:
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.context.schema.get_type(condition.name.value) if condition else parent
                total += self.cost(selection.selection_set, target, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in seen:
                    continue  # other rules report unknown or cyclic fragments
                target = self.context.schema.get_type(fragment.type_condition.name.value)
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
            return 1 + _page_size(node, self.defaults) * inner
        if (count := _id_count(node, self.defaults)) is not None:
            return 1 + count * inner
        return 1 + inner


def query_cost_rule(max_cost: int) -> type[ValidationRule]:
    class QueryCostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            schema = self.context.schema
            root = {
                "query": schema.query_type,
                "mutation": schema.mutation_type,
                "subscription": schema.subscription_type,
            }[node.operation.value]
            defaults = {}
            for definition in node.variable_definitions or ():
                if isinstance(definition.default_value, IntValueNode):
                    defaults[definition.variable.name.value] = int(definition.default_value.value)
            cost = _Coster(self.context, defaults).cost(node.selection_set, root, frozenset())
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"The query costs {cost}, more than the {max_cost} allowed: ask for "
                        "smaller pages or fewer nested lists.",
                        node,
                        extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": max_cost},
                    )
                )

    return QueryCostRule
