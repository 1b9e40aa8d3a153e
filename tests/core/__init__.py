"""The shared utilities of services/core."""
