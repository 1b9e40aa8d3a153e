from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from resolvers import meta
from schema.scalars import SCALARS


@strawberry.type(description="The root of every query.")
class Query:
    version: str = strawberry.field(
        resolver=meta.version, description="Version of the kabinet server answering."
    )


schema = strawberry.Schema(query=Query, config=StrawberryConfig(scalar_map=SCALARS))
