"""Business rules and each domain's SQL read models: plain async functions over the
models, no GraphQL in sight."""
