"""The compiled executor (schema/compiler.py) keeps GraphQL's semantics: each document
here runs on a small purpose-built schema through the compiled plan, through our
interpreter (GRAPHQL_EXECUTOR=graphql-core) and through Strawberry's plain graphql-core
execution, and all three must answer alike (`data` with its key order, and `errors`
with their messages, paths, locations and extensions). Each test also checks the plan
really ran (the executions counter), so none compares graphql-core with itself."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from enum import Enum
from types import SimpleNamespace
from typing import Annotated, Any, NewType

import pytest
import strawberry
from graphql import ExecutionResult
from prometheus_client import REGISTRY
from strawberry.extensions import ParserCache
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution import CompiledExecutionContext, InterpretedExecutionContext
from schema.root import MaskUnexpected

LOG: list[str] = []  # what the mutations did, in order


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Cat(Named):
    lives: int


@strawberry.type
class Dog(Named):
    good: bool


Pet = Annotated[Cat | Dog, strawberry.union("Pet")]


class Colour(Enum):
    RED = "red"
    GREEN = "green"


def _never(value: Any) -> None:
    return None


Broken = NewType("Broken", str)
BROKEN = strawberry.scalar(
    name="Broken", serialize=_never, parse_value=str, description="serializes to None"
)


class Denied(BasePermission):
    message = "Not allowed."
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 - Strawberry's own attribute

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


class Allowed(BasePermission):
    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return True


class Unexpected(Exception):
    """Not meant for clients: MaskUnexpected hides it."""


@strawberry.type
class Item:
    id: int
    label: str | None
    required: str  # None for some items: a non-null leaf that is null

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return f"later {self.id}"

    @strawberry.field
    async def fails(self) -> str:
        await asyncio.sleep(0)
        raise ValueError(f"item {self.id} failed")

    @strawberry.field
    def scaled(self, by: int = 2) -> int:
        return self.id * by

    @strawberry.field
    def child(self) -> Item | None:
        return Item(id=self.id * 10, label=None, required=None) if self.id < 3 else None  # type: ignore[arg-type]


@strawberry.type
class Box:
    strict_items: list[Item]  # [Item!]!: one bad item nulls the list and the box
    loose_items: list[Item] | None  # [Item!]: one bad item nulls the list
    nullable_items: list[Item | None]  # [Item]!: one bad item nulls the item


@strawberry.type
class Guarded:
    """Plain attributes, one of them behind a permission class (no resolver of its own)."""

    shown: str
    hidden: str | None = strawberry.field(permission_classes=[Denied])


def items(*ids: int) -> list[Item]:
    return [Item(id=i, label=f"#{i}" if i % 2 else None, required=f"r{i}") for i in ids]


def broken_item() -> Item:
    return Item(id=99, label="broken", required=None)  # type: ignore[arg-type]


@strawberry.type
class Query:
    @strawberry.field
    def items(self, first: int = 3, offset: int = 0) -> list[Item]:
        return items(*range(offset + 1, offset + first + 1))

    @strawberry.field
    def maybe_items(self, first: int = 3) -> list[Item] | None:
        return items(*range(1, first + 1))

    @strawberry.field
    def box(self) -> Box | None:
        bad = [*items(1), broken_item(), *items(3)]
        return Box(strict_items=bad, loose_items=list(bad), nullable_items=list(bad))

    @strawberry.field
    def good_box(self) -> Box:
        return Box(strict_items=items(1, 2), loose_items=items(3), nullable_items=items(4))

    @strawberry.field
    async def async_fails(self) -> str | None:
        await asyncio.sleep(0)
        raise ValueError("async failure")

    @strawberry.field
    async def async_fails_required(self) -> str:
        await asyncio.sleep(0)
        raise ValueError("required async failure")

    @strawberry.field
    def pets(self) -> list[Pet]:
        return [Cat(name="Tom", lives=9), Dog(name="Rex", good=True)]

    @strawberry.field
    def named(self) -> list[Named]:
        return [Dog(name="Rex", good=False), Cat(name="Tom", lives=7)]

    @strawberry.field
    def echo(self, text: str = "default", times: int = 1) -> str:
        return text * times

    @strawberry.field
    def window(
        self,
        info: strawberry.Info,
        from_: Annotated[str | None, strawberry.argument(name="from")] = "start",
        last_days: int | None = None,
        until: str | None = strawberry.UNSET,
    ) -> str:
        """Renamed arguments, a Python default, UNSET when left out, and the info."""
        until_text = "unset" if until is strawberry.UNSET else repr(until)
        return (
            f"{info.field_name} at {info.path.key} from={from_!r} lastDays={last_days!r} "
            f"until={until_text} {type(info).__name__}"
        )

    @strawberry.field
    def root_value(self, root: strawberry.Parent[Any], word: str = "root") -> str:
        return f"{word}: {root!r}"

    @strawberry.field
    def colour_name(self, colour: Colour = Colour.RED) -> str:
        """An enum argument: Strawberry converts it (its wrappers stay in the way)."""
        return f"{type(colour).__name__}.{colour.name}"

    @strawberry.field(permission_classes=[Denied])
    def secret(self) -> str | None:
        return "secret"

    @strawberry.field(permission_classes=[Allowed])
    def public(self) -> str:
        return "public"

    @strawberry.field
    def guarded(self) -> Guarded:
        return Guarded(shown="shown", hidden="hidden")

    @strawberry.field
    def unexpected(self) -> str | None:
        raise Unexpected("database password is hunter2")

    @strawberry.field
    def broken(self) -> Broken | None:
        return Broken("anything")

    @strawberry.field
    def broken_required(self) -> Broken:
        return Broken("anything")

    @strawberry.field
    def colour(self, colour: Colour = Colour.RED) -> Colour:
        return colour

    @strawberry.field
    def colours(self) -> list[Colour]:
        return [Colour.GREEN, Colour.RED]

    @strawberry.field
    def generated(self) -> list[int]:
        return (i * i for i in range(4))  # type: ignore[return-value]

    @strawberry.field
    def tupled(self) -> list[Item]:
        return tuple(items(1, 2))  # type: ignore[return-value]

    @strawberry.field
    def awaited_items(self) -> list[str | None]:
        async def item(i: int) -> str:
            await asyncio.sleep(0)
            if i == 2:
                raise ValueError("item 2 failed")
            return f"item {i}"

        return [item(i) for i in range(4)]  # type: ignore[misc]

    # Cat implements an interface: Strawberry gives it an is_type_of check (isinstance)
    @strawberry.field
    def wrong_type(self) -> Cat | None:
        return SimpleNamespace(name="Rex", lives=1)  # type: ignore[return-value]

    @strawberry.field
    def wrong_types(self) -> list[Cat]:
        return [Cat(name="Tom", lives=9), SimpleNamespace(name="Rex", lives=1)]  # type: ignore[list-item]

    @strawberry.field
    def numbers(self) -> Numbers:
        return Numbers(
            largest=2**31 - 1,
            smallest=-(2**31),
            flag=True,
            whole=3.0,
            too_big=2**31,
            too_small=-(2**31) - 1,
        )

    # a Cat cast to Dog: Strawberry's is_type_of says no, whatever the object's class
    @strawberry.field
    def cast_cat(self) -> Cat | None:
        return strawberry.cast(Dog, Cat(name="Tom", lives=1))

    @strawberry.field
    def cast_cats(self) -> list[Cat | None]:
        return [Cat(name="Tom", lives=9), strawberry.cast(Dog, Cat(name="Kit", lives=2))]


@strawberry.type
class Numbers:
    """Int leaves: a 32-bit int is kept as it is; anything else goes through serialize_int."""

    largest: int
    smallest: int
    flag: int  # True: graphql-core's Int writes 1
    whole: int  # 3.0: graphql-core's Int writes 3
    too_big: int | None
    too_small: int | None


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def slow(self, label: str) -> str:
        await asyncio.sleep(0.01)
        LOG.append(label)
        return f"{label} after {len(LOG) - 1}"

    @strawberry.mutation
    def quick(self, label: str) -> str:
        LOG.append(label)
        return f"{label} after {len(LOG) - 1}"

    @strawberry.mutation
    async def failing(self) -> str | None:
        LOG.append("failing")
        raise ValueError("mutation failed")


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncIterator[int]:
        for i in range(2):
            yield i


def make(context: type, *, masked: bool = False) -> strawberry.Schema:
    """The schema on `context`; the parser cache hands the same document node to each
    execution of a text (as in the app), so plans are reused; `masked` adds the app's
    MaskUnexpected."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map={Broken: BROKEN}),
        execution_context_class=context,
        extensions=[lambda: ParserCache(maxsize=100), *([MaskUnexpected] if masked else [])],
    )


def schemas(*, masked: bool) -> tuple[strawberry.Schema, dict[str, strawberry.Schema]]:
    return make(CompiledExecutionContext, masked=masked), {
        "graphql-core": make(InterpretedExecutionContext, masked=masked),
        "strawberry": make(StrawberryGraphQLCoreExecutionContext, masked=masked),
    }


SCHEMAS = {False: schemas(masked=False), True: schemas(masked=True)}


def executions(executor: str, reason: str = "") -> float:
    labels = {"executor": executor, "reason": reason}
    return REGISTRY.get_sample_value("kabinet_graphql_executions_total", labels) or 0.0


def answer(result: ExecutionResult) -> str:
    """`data` (keys in order) and the formatted errors (in any order) as one text."""
    errors = sorted(
        json.dumps(error.formatted, sort_keys=True, default=str) for error in result.errors or ()
    )
    return json.dumps({"data": result.data, "errors": errors}, indent=1, ensure_ascii=False)


@pytest.fixture(autouse=True)
def _log() -> Iterator[None]:
    LOG.clear()
    yield
    LOG.clear()


async def same(
    document: str, variables: dict[str, Any] | None = None, *, masked: bool = False
) -> ExecutionResult:
    """The compiled answer, once it is known to be every reference's answer too."""
    compiled_schema, references = SCHEMAS[masked]
    before = executions("compiled")
    compiled = await compiled_schema.execute(document, variable_values=variables)
    assert executions("compiled") == before + 1, "the plan did not run"
    for name, reference in references.items():
        LOG.clear()
        expected = await reference.execute(document, variable_values=variables)
        assert answer(compiled) == answer(expected), name
    return compiled


def messages(result: ExecutionResult) -> list[tuple[str, list]]:
    return sorted((error.message, error.path or []) for error in result.errors or ())


async def test_a_null_non_null_leaf_nulls_the_nearest_nullable_parent() -> None:
    result = await same("{ items(first: 3) { id child { id required child { id } } } }")
    assert result.data == {
        "items": [
            {"id": 1, "child": None},
            {"id": 2, "child": None},
            {"id": 3, "child": None},
        ]
    }
    assert messages(result) == [
        (
            "Cannot return null for non-nullable field Item.required.",
            ["items", 0, "child", "required"],
        ),
        (
            "Cannot return null for non-nullable field Item.required.",
            ["items", 1, "child", "required"],
        ),
    ]


async def test_an_error_inside_a_list_of_non_null_items() -> None:
    result = await same("""{ box { strictItems { id required } } }""")
    assert result.data == {"box": None}  # [Item!]! is null, and so the nullable box
    result = await same("{ box { looseItems { id required } nullableItems { id required } } }")
    assert result.data == {
        "box": {
            "looseItems": None,
            "nullableItems": [{"id": 1, "required": "r1"}, None, {"id": 3, "required": "r3"}],
        }
    }
    assert [error.path for error in result.errors or ()] == [
        ["box", "looseItems", 1, "required"],
        ["box", "nullableItems", 1, "required"],
    ]


async def test_a_non_null_root_field_that_fails_nulls_the_data() -> None:
    result = await same("{ version: echo asyncFailsRequired items { id } }")
    assert result.data is None


async def test_async_resolvers_raising_keep_their_paths_and_locations() -> None:
    result = await same(
        """{
          asyncFails
          maybeItems(first: 2) { id later
            fails }
          good: goodBox { strictItems { later } }
        }"""
    )
    assert result.data is not None and result.data["asyncFails"] is None
    assert result.data["maybeItems"] is None  # Item.fails is String!, in [Item!]
    # item 1's failure nulls the list: item 2's is cancelled, reported by neither
    assert sorted(error.message for error in result.errors or ()) == [
        "async failure",
        "item 1 failed",
    ]
    assert {tuple(loc.line for loc in error.locations or ()) for error in result.errors or ()} == {
        (2,),
        (4,),
    }


@pytest.mark.parametrize("shown", [True, False])
async def test_skip_and_include_with_literals(shown: bool) -> None:
    flag = "true" if shown else "false"
    result = await same(
        f"""{{ items(first: 1) {{ id @skip(if: {flag}) label @include(if: {flag})
          ... @include(if: {flag}) {{ later }} }} }}"""
    )
    assert set(result.data["items"][0]) == ({"label", "later"} if shown else {"id"})  # type: ignore[index]


async def test_one_document_with_other_variable_values_gets_its_own_plan() -> None:
    document = """query($show: Boolean!, $hide: Boolean = false) {
      items(first: 1) { id @include(if: $show) label @skip(if: $hide)
        ...more @include(if: $show) } }
      fragment more on Item { later child @skip(if: $hide) { id } }"""
    answers = [
        (await same(document, variables)).data
        for variables in (
            {"show": True},
            {"show": False},
            {"show": True, "hide": True},
            {"show": True},
            {"show": False, "hide": True},
        )
    ]
    assert answers == [
        {"items": [{"id": 1, "label": "#1", "later": "later 1", "child": {"id": 10}}]},
        {"items": [{"label": "#1"}]},
        {"items": [{"id": 1, "later": "later 1"}]},
        {"items": [{"id": 1, "label": "#1", "later": "later 1", "child": {"id": 10}}]},
        {"items": [{}]},
    ]


async def test_fragments_on_unions_and_interfaces_with_typename() -> None:
    result = await same(
        """{
          pets { __typename ... on Cat { name lives } ...dog }
          named { __typename name ... on Dog { good } ... on Named { name } ... { __typename } }
          __typename
        }
        fragment dog on Dog { good name __typename }"""
    )
    assert result.data == {
        "pets": [
            {"__typename": "Cat", "name": "Tom", "lives": 9},
            {"__typename": "Dog", "good": True, "name": "Rex"},
        ],
        "named": [
            {"__typename": "Dog", "name": "Rex", "good": False},
            {"__typename": "Cat", "name": "Tom"},
        ],
        "__typename": "Query",
    }


async def test_aliases_of_one_field_with_other_arguments() -> None:
    result = await same(
        """{ a: echo(text: "a") b: echo(text: "b", times: 2) echo
          first: items(first: 1) { id } second: items(first: 1, offset: 5) { id id2: id } }"""
    )
    assert result.data == {
        "a": "a",
        "b": "bb",
        "echo": "default",
        "first": [{"id": 1}],
        "second": [{"id": 6, "id2": 6}],
    }


async def test_variables_with_defaults() -> None:
    document = """query($text: String = "dflt", $times: Int! = 2, $c: Colour = GREEN) {
      echo(text: $text, times: $times) colour(colour: $c) }"""
    assert (await same(document)).data == {"echo": "dfltdflt", "colour": "GREEN"}
    assert (await same(document, {"text": "x", "times": 3, "c": "RED"})).data == {
        "echo": "xxx",
        "colour": "RED",
    }
    # an explicit null is not the default: `None * 2` fails and nulls the data
    assert (await same(document, {"text": None})).data is None


async def test_permission_classes() -> None:
    result = await same("{ secret public }")
    assert result.data == {"secret": None, "public": "public"}
    [error] = result.errors or ()
    assert (error.message, error.extensions) == ("Not allowed.", {"code": "FORBIDDEN"})


async def test_a_permission_class_on_a_plain_attribute() -> None:
    result = await same("{ guarded { shown hidden } }")
    assert result.data == {"guarded": {"shown": "shown", "hidden": None}}
    assert [error.message for error in result.errors or ()] == ["Not allowed."]


async def test_unexpected_errors_are_masked() -> None:
    result = await same("{ unexpected echo }", masked=True)
    assert result.data == {"unexpected": None, "echo": "default"}
    [error] = result.errors or ()
    assert error.message == "Unexpected error."
    assert "hunter2" not in json.dumps(error.formatted)


async def test_mutations_run_one_after_another() -> None:
    result = await same(
        """mutation { one: slow(label: "one") two: quick(label: "two")
          three: slow(label: "three") failing four: quick(label: "four") }"""
    )
    assert result.data == {
        "one": "one after 0",
        "two": "two after 1",
        "three": "three after 2",
        "failing": None,
        "four": "four after 4",
    }
    assert LOG == ["one", "two", "three", "failing", "four"]


async def test_a_scalar_that_serializes_to_none() -> None:
    result = await same("{ broken echo }")
    assert result.data == {"broken": None, "echo": "default"}
    assert (await same("{ brokenRequired echo }")).data is None


async def test_enums() -> None:
    result = await same("{ colour colours red: colour(colour: RED) green: colour(colour: GREEN) }")
    assert result.data == {
        "colour": "RED",
        "colours": ["GREEN", "RED"],
        "red": "RED",
        "green": "GREEN",
    }


async def test_a_generator_or_a_tuple_instead_of_a_list() -> None:
    result = await same("{ generated tupled { id later } }")
    assert result.data == {
        "generated": [0, 1, 4, 9],
        "tupled": [{"id": 1, "later": "later 1"}, {"id": 2, "later": "later 2"}],
    }


async def test_a_list_of_awaitable_items() -> None:
    result = await same("{ awaitedItems }")
    assert result.data == {"awaitedItems": ["item 0", "item 1", None, "item 3"]}
    assert [error.path for error in result.errors or ()] == [["awaitedItems", 2]]


async def test_an_object_of_the_wrong_type() -> None:
    result = await same("{ wrongType { name } echo }")
    assert result.data == {"wrongType": None, "echo": "default"}
    assert [error.message for error in result.errors or ()] == [
        "Expected value of type 'Cat' but got: <SimpleNamespace instance>."
    ]
    assert (await same("{ wrongTypes { name } }")).data is None


async def test_executions_are_counted_by_executor() -> None:
    compiled, interpreted = executions("compiled"), executions("graphql-core", "setting")
    await same("{ echo }")
    assert executions("compiled") == compiled + 1
    assert executions("graphql-core", "setting") == interpreted + 1  # the reference
    subscriptions = executions("graphql-core", "subscription")
    stream = await SCHEMAS[False][0].subscribe("subscription { ticks }")
    ticks = [result.data async for result in stream]  # type: ignore[union-attr]
    assert ticks == [{"ticks": 0}, {"ticks": 1}]
    # each event is an execution of the operation
    assert executions("graphql-core", "subscription") == subscriptions + 2
    assert executions("compiled") == compiled + 1


def root_kinds(document: str) -> dict[str, int]:
    """How the plan of `document` (compiled by an execution before) gets each root field."""
    from schema import compiler, execution

    compiled_schema, _ = SCHEMAS[False]
    found = {}
    for operation, graphql_schema, _names, plans in execution._COMPILED._entries.values():
        if graphql_schema is compiled_schema._schema and operation.loc.source.body == document:
            for plan in plans.values():
                found.update({field.key: field.kind for field in plan.root.fields})
    assert found, "no plan of the document"
    kinds = {v: k for k, v in vars(compiler).items() if k.isupper() and isinstance(v, int)}
    return {key: kinds[kind] for key, kind in found.items()}


async def test_resolvers_with_scalar_arguments_are_called_as_strawberry_calls_them() -> None:
    document = """query ($days: Int) {
      window
      named: window(from: "May", lastDays: $days, until: null)
      defaulted: window(lastDays: 7)
      rootValue(word: "source")
      items(first: 2, offset: 1) { id scaled big: scaled(by: 10) }
      colourName(colour: GREEN)
      echo
    }"""
    result = await same(document, {"days": 30})
    assert result.data == {
        "window": "window at window from='start' lastDays=None until=unset Info",
        "named": "window at named from='May' lastDays=30 until=None Info",
        "defaulted": "window at defaulted from='start' lastDays=7 until=unset Info",
        "rootValue": "source: None",
        "items": [{"id": 2, "scaled": 4, "big": 20}, {"id": 3, "scaled": 6, "big": 30}],
        "colourName": "Colour.GREEN",
        "echo": "default",
    }
    assert root_kinds(document) == {
        "window": "CALL",
        "named": "CALL",
        "defaulted": "CALL",
        "rootValue": "CALL",
        "items": "CALL",
        "colourName": "RESOLVE",  # an enum argument: Strawberry converts it
        "echo": "CALL",
    }


async def test_int_leaves_at_and_past_32_bits() -> None:
    result = await same("{ numbers { largest smallest flag whole tooBig tooSmall } }")
    assert result.data == {
        "numbers": {
            "largest": 2**31 - 1,
            "smallest": -(2**31),
            "flag": 1,
            "whole": 3,
            "tooBig": None,
            "tooSmall": None,
        }
    }
    assert sorted(path for _message, path in messages(result)) == [
        ["numbers", "tooBig"],
        ["numbers", "tooSmall"],
    ]


async def test_an_object_cast_to_another_type_is_refused_alone_and_in_a_list() -> None:
    """A value of exactly the field type's class goes straight to its plan unless it was
    cast (`strawberry.cast`) to another type: then Strawberry's check refuses it."""
    result = await same("{ castCat { name } castCats { name lives } }")
    assert result.data == {"castCat": None, "castCats": [{"name": "Tom", "lives": 9}, None]}
    assert sorted(path for _message, path in messages(result)) == [["castCat"], ["castCats", 1]]


async def test_aliases_that_are_python_keywords() -> None:
    """Keys are bound to the generated code by name, never written into it."""
    result = await same(
        "{ goodBox { class: strictItems { def: id, return: label, import: required } } }"
    )
    assert result.data == {
        "goodBox": {
            "class": [
                {"def": 1, "return": "#1", "import": "r1"},
                {"def": 2, "return": None, "import": "r2"},
            ]
        }
    }
