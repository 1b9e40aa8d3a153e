"""The GraphQL schema: Strawberry types only; resolvers live in `resolvers/`."""

from schema.root import schema

__all__ = ["schema"]
