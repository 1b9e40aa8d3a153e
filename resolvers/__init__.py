"""Thin functions behind the schema's fields, named after them: who is asking, may they,
call the rule or the read model (services/), hand back a domain result (a model, a row,
a page). Resolvers never import schema/: the schema makes payloads of what they return."""
