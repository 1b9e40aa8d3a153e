"""Registration, e-mail verification, login, sessions, password reset and change."""
