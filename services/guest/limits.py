"""Acting on an account without logging in, by the number printed on its bill: the limits
every guest call counts against, and what a guest may see of the account.

Anyone can type any number, so every guest call (payableAccount, payAsGuest,
submitGuestMeterReading) counts one attempt per client (GUEST_ATTEMPTS_PER_HOUR) and
per account number (GUEST_ATTEMPTS_PER_ACCOUNT), in the database before the account is
looked up, exactly across aliases, batches and processes (services.core.throttle), and
whether or not the number exists. What a guest sees is only enough to check the payee:
the holder's initials with the surname masked and the street without house or flat.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from config import get_settings
from models.accounts import Account
from services.accounts.proof import normalize_account_number
from services.core import throttle
from services.core.errors import CoreError, RuleError
from services.core.masking import mask_holder, street_of
from services.security.sessions import Client

HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class PayableAccount:
    number: str
    holder: str  # "И*****а М. П."
    street: str  # "г. Нижний Новгород, ул. Рождественская"
    amount_due: Decimal | None  # only with GUEST_SHOWS_AMOUNT_DUE; 0 when nothing is owed
    account_id: int


def _limits(number: str, client: Client) -> tuple[throttle.Limit, throttle.Limit]:
    settings = get_settings()
    return (
        (f"guest:ip:{client.limit_key}", throttle.Window(settings.guest_attempts_per_hour, HOUR)),
        (
            f"guest:account:{number}",
            throttle.Window(settings.guest_attempts_per_account, HOUR),
        ),
    )


async def count_attempt(number: str, client: Client) -> None:
    """One guest call against the client's and the number's budgets; TOO_MANY_ATTEMPTS
    with `retryAfter` past either (nothing counted then)."""
    try:
        await throttle.attempt(*_limits(number, client))
    except throttle.Throttled as throttled:
        raise RuleError(
            CoreError.TOO_MANY_ATTEMPTS, None, retry_after=throttled.retry_after
        ) from None


async def account_for_guest(raw_number: str, client: Client) -> Account | None:
    """The account with that number, after the attempt is counted; None when there is none."""
    number = normalize_account_number(raw_number)
    await count_attempt(number, client)
    return await Account.filter(number=number).first()


def payable(account: Account) -> PayableAccount:
    shows_due = get_settings().guest_shows_amount_due
    return PayableAccount(
        number=account.number,
        holder=mask_holder(account.holder_name),
        street=street_of(account.address),
        amount_due=max(account.balance, Decimal(0)) if shows_due else None,
        account_id=account.id,
    )


async def payable_account(raw_number: str, client: Client) -> PayableAccount | None:
    """What payableAccount shows; None for an unknown number (and for a malformed one)."""
    try:
        account = await account_for_guest(raw_number, client)
    except RuleError as error:
        if error.code == CoreError.TOO_MANY_ATTEMPTS:
            raise
        return None
    return payable(account) if account else None
