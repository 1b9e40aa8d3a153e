"""Password policy (NIST SP 800-63B, ASVS 5.0 6.2) and Argon2id hashing off the event loop."""

from __future__ import annotations

import asyncio
import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from config import get_settings
from services.core.errors import RuleError
from services.core.pools import background_pool
from services.security.errors import SecurityError

MIN_LENGTH = 8
MAX_LENGTH = 256
COMMON_PASSWORDS = 10_000
CONTEXT_WORD_MIN = 4  # shorter e-mail local parts would ban half the alphabet

# OWASP Password Storage Cheat Sheet minimum for Argon2id: m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


# Argon2 needs 19 MiB and tens of milliseconds a hash: the pool bounds both the memory
# and the CPU a flood of logins can take.
_POOL = background_pool("argon2")


@cache
def _dummy_hash() -> str:
    return HASHER.hash("kabinet: a password no one has")


def normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the xato-net 10-million list ranked by frequency; we take its top 10,000.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS])


def check_policy(password: str, *, field: str, context_words: list[str]) -> str:
    """Return the normalized password or raise WEAK_PASSWORD with the reason.

    No composition rules and no truncation: length, the common-password list, and
    words a guesser would try first for this customer (e-mail, account, company).
    """
    value = normalize(password)
    length = len(value)
    if length < MIN_LENGTH:
        raise RuleError(SecurityError.WEAK_PASSWORD, field, reason="too_short", min=MIN_LENGTH)
    if length > MAX_LENGTH:
        raise RuleError(SecurityError.WEAK_PASSWORD, field, reason="too_long", max=MAX_LENGTH)
    lowered = value.casefold()
    if lowered in _common_passwords():
        raise RuleError(SecurityError.WEAK_PASSWORD, field, reason="common")
    for word in context_words:
        word = normalize(word).casefold().strip()
        if len(word) >= CONTEXT_WORD_MIN and word in lowered:
            raise RuleError(SecurityError.WEAK_PASSWORD, field, reason="contains_personal")
    return value


def context_words(email: str, account_numbers: list[str]) -> list[str]:
    """Words a guesser tries first for this customer: the e-mail's local part, the
    account numbers, the company's name (PASSWORD_CONTEXT_WORDS)."""
    local = email.split("@", 1)[0]
    company = [w for w in get_settings().password_context_words.split(",") if w.strip()]
    return [local, *account_numbers, *company]


async def cabinet_context_words(cabinet_id: int, email: str) -> list[str]:
    from models.cabinets import CabinetAccount

    links = await CabinetAccount.filter(cabinet_id=cabinet_id).prefetch_related("account")
    return context_words(email, [link.account.number for link in links])


async def hash_password(password: str) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, HASHER.hash, normalize(password))


def _verify(stored: str | None, password: str) -> tuple[bool, bool]:
    target = stored or _dummy_hash()
    try:
        HASHER.verify(target, normalize(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    if stored is None:
        return False, False
    return True, HASHER.check_needs_rehash(stored)


async def verify_password(stored: str | None, password: str) -> tuple[bool, bool]:
    """(matches, needs_rehash). With `stored` None a dummy hash is checked, so an
    unknown e-mail costs the same time as a wrong password."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, _verify, stored, password)
