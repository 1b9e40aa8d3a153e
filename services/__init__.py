"""Business rules: plain async functions over the models, no GraphQL in sight."""
