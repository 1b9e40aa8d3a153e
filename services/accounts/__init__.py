"""The accounts a cabinet manages: proof of ownership, linking and unlinking."""
