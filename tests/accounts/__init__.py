"""The accounts of a cabinet: the dashboard's reads, linking and unlinking."""
