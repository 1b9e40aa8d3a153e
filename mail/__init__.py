"""Outgoing mail: templates, the transactional outbox and SMTP delivery."""
