"""The electronic receipt."""
