"""Recovery without e-mail: proof by a recent payment, a new address, a new password."""
