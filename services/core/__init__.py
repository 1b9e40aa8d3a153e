"""Small utilities every domain shares: the clock, ids, money, dates, errors, tokens,
throttling, background loops, telemetry."""
