"""The GraphQL schema: Strawberry types, inputs and payloads, and per domain the fields'
signatures, which call the resolver of the same name (resolvers/) and turn its domain
result, or the rules' errors, into the payload. The assembled schema is
`schema.root.schema`."""
