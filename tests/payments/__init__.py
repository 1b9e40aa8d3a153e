"""Paying a bill online through the acquirer."""
