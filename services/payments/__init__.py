"""Paying a bill online: the order, the acquirer's notification, the timeout sweeper."""
