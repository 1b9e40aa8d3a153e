"""The GraphQL API as clients see it: the contract, transport, limits, errors."""
