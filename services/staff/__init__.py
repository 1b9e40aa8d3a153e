"""Specialists: the staff cabinets that answer customers' questions."""
