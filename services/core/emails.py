"""E-mail addresses: syntax (RFC 5321/5322 via email-validator) and one canonical form."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from services.core.errors import CoreError, RuleError

MAX_LENGTH = 254


def normalize_email(value: str, *, field: str = "email") -> str:
    """The canonical form used for storage and lookups: IDNA-decoded, lower case, with an
    ASCII mailbox name (INVALID_EMAIL otherwise).

    Mailbox local parts are case-sensitive in theory and never in practice; treating
    them case-insensitively keeps one customer from holding two cabinets by case.
    """
    text = (value or "").strip()
    if not text or len(text) > MAX_LENGTH:
        raise RuleError(CoreError.INVALID_EMAIL, field)
    try:
        # No SMTPUTF8: a mailbox name beyond ASCII (иван@mail.ru) would be accepted here and
        # then refused by the mailer, whose servers need not speak SMTPUTF8. Domains may
        # still be international (IDNA): they travel as xn--.
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise RuleError(CoreError.INVALID_EMAIL, field) from None
    if _mailer_domain(result.domain) != result.ascii_domain.lower():
        raise RuleError(CoreError.INVALID_EMAIL, field)
    return result.normalized.lower()


def _mailer_domain(domain: str) -> str:
    """The domain as the mailer writes it (config.parse_mailbox: Python's IDNA 2003 codec).
    For a few letters (ß, ς, joiners) IDNA 2003 names another domain than IDNA 2008 does:
    mail for a@straße.de would go to a@strasse.de. Such an address is refused above
    rather than mailed to someone else."""
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return ""


def mask_email(email: str) -> str:
    """i***@mail.ru: enough to recognise one's own address, not to learn someone else's."""
    local, _, domain = email.partition("@")
    if not local:
        return "***@" + domain
    return f"{local[0]}***@{domain}"
