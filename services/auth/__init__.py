"""Getting into a cabinet and keeping it safe: registration, login, passwords, sessions, the
security log."""
