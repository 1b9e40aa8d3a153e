"""The reference web client, in a real browser."""
