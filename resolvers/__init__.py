"""Thin functions behind the schema's fields: authorize, call the rules, map errors."""
