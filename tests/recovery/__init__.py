"""Recovery without e-mail."""
