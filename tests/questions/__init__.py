"""Questions to specialists, their mail and photos."""
