"""The cabinet's security: server-side sessions, the security log, the password policy
and hashing, device names. The building blocks auth, recovery, accounts and staff share."""
