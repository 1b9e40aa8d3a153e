"""What a request leaves behind: its objects go when it ends, by reference counting,
not at the garbage collector's next pass (which then stalls some later request)."""

from __future__ import annotations

import gc
import weakref

from config import Settings
from resolvers.dataloaders import Loaders


def test_a_requests_loaders_are_freed_without_the_collector() -> None:
    gc.disable()
    try:
        loaders = Loaders(Settings())
        assert loaders.questions and loaders.nodes  # the loaders made on first use too
        gone = weakref.ref(loaders)
        del loaders
        assert gone() is None
    finally:
        gc.enable()


async def test_an_executed_documents_context_is_freed_without_the_collector() -> None:
    """The executor keeps graphql-core's resolve-info helpers, which hold it: weakly, or
    every request's context would wait for the collector."""
    import strawberry

    from schema.execution import EXECUTION_CONTEXTS

    class Held:
        pass

    @strawberry.type
    class Query:
        @strawberry.field
        async def name(self, info: strawberry.Info) -> str:
            await info._raw_info.async_helpers.gather([_ready("x")])
            return "x"

    gc.disable()
    try:
        for executor in EXECUTION_CONTEXTS.values():
            schema = strawberry.Schema(query=Query, execution_context_class=executor)
            context = Held()
            gone = weakref.ref(context)
            result = await schema.execute("{ name }", context_value=context)
            assert result.errors is None and result.data == {"name": "x"}, executor
            del context, result
            assert gone() is None, executor
    finally:
        gc.enable()


async def _ready(value: str) -> str:
    return value
