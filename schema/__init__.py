"""The GraphQL schema: Strawberry types only. The assembled schema is `schema.root.schema`."""
