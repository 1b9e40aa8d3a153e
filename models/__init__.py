"""Tortoise models, one module per domain, and the database configuration (`models.db`)."""
