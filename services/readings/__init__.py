"""Meter readings: the checks, the estimate, storing, the export; tariff zones."""
