"""Specialists' cabinets and the staff commands."""
