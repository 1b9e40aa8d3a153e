"""Opaque ids and Relay-style connections (first/after, pageInfo, totalCount, nodes, edges)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast

import strawberry

from services.core import ids
from services.core.paging import Page

T = TypeVar("T")
Row = dict[str, Any]


# An id is a string: `strawberry.ID` is a NewType, so ids.encode_id is called directly
# (every node of a page has one) and only its type is said here.
encode_id = cast(Callable[[str, int], strawberry.ID], ids.encode_id)


decode_id = ids.decode_id


@strawberry.interface(
    description="An object with a global id: fetch it again with `node(id:)` (deep links, "
    "cache refreshes). Ids are opaque and stable; clients may use them as cache keys."
)
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id; pass it back as is.")


@strawberry.type(description="Where a page of a connection sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item: pass it as `after` for the next page."
    )


@strawberry.type(description="An item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to continue after this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, newest first.")
class Connection(Generic[T]):
    nodes: list[T] = strawberry.field(description="The items, when cursors are not needed.")
    cursor: strawberry.Private[Callable[[int], str]]  # of the i-th node: made when asked for
    has_next: strawberry.Private[bool]
    has_previous: strawberry.Private[bool]
    count: strawberry.Private[Callable[[], int | Awaitable[int]]]

    @strawberry.field(description="The items with their cursors.")
    def edges(self) -> list[Edge[T]]:
        return [Edge(cursor=self.cursor(i), node=node) for i, node in enumerate(self.nodes)]

    @strawberry.field(description="Paging information.")
    def page_info(self) -> PageInfo:
        last = len(self.nodes) - 1
        return PageInfo(
            has_next_page=self.has_next,
            has_previous_page=self.has_previous,
            start_cursor=self.cursor(0) if self.nodes else None,
            end_cursor=self.cursor(last) if self.nodes else None,
        )

    @strawberry.field(description="Number of items in the whole list (with the same filters).")
    def total_count(self) -> int:
        return self.count()  # type: ignore[return-value]  (graphql-core awaits an awaitable)


def to_connection(page: Page, node: Callable[[Row], T]) -> Connection[T]:
    """The connection of a read model's page, each row made a node by `node`."""
    return Connection(
        nodes=[node(row) for row in page.rows],
        cursor=page.cursor,
        has_next=page.has_next,
        has_previous=page.has_previous,
        count=page.count,
    )
