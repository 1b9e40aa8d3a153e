"""Composing and delivering mail through the outbox."""
