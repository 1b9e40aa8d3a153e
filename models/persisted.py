from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import UtcDatetimeField


class PersistedQuery(Model):
    """A GraphQL document registered under its SHA-256 (automatic persisted queries)."""

    id = fields.BigIntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, unique=True)
    query = fields.TextField()
    created_at = UtcDatetimeField()

    class Meta:
        table = "persisted_query"
