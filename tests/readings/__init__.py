"""Submitting and previewing meter readings, their history and export."""
