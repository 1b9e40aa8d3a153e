"""The interface every acquirer implements, and how the configured one is found.

An acquirer is one module in this package (or any importable module named by a dotted
path) with a function `provider(settings) -> Provider`. `PAYMENT_PROVIDER` names it;
empty means `sandbox` outside production, and in production a real acquirer must be
named, or `none` to run without online payments (then `provider_for` raises PaymentsOff,
and neither the webhook nor the sweeper runs): the sandbox takes no money.

The whole contract is `Provider`: create a payment for an order and say where the
customer confirms it; turn the acquirer's notification (the webhook request) into a
`Notification`, refusing one whose signature does not hold. (The sandbox alone also has
pages on our server: HTTP, so they live in `routes.sandbox`.)

An acquirer that signs nothing (YooKassa) cannot read a notification alone: it implements
`VerifyingProvider` instead, asking its own API what became of the payment, and
`PollingProvider` lets the sweeper ask about payments left pending. `RefundingProvider`
gives money back (`kabinet payments refund`).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from config import (
    NO_PAYMENTS,
    SANDBOX_PROVIDER,
    ConfigError,
    Settings,
    payment_provider_name,
    provider_module,
)
from models.payments import PaymentStatus, RefundStatus

SANDBOX = SANDBOX_PROVIDER


class ProviderError(Exception):
    """PAYMENT_PROVIDER names no usable acquirer (a configuration error)."""


class PaymentsOff(ProviderError):
    """PAYMENT_PROVIDER=none: the deployment takes no payments online, by choice."""


class ProviderUnavailable(Exception):
    """The acquirer could not be reached or refused to create the payment; try again."""


class ProviderRefused(ProviderUnavailable):
    """The acquirer answered that it will not create this payment (its 4xx); `code` is its
    error code, for the log."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class BadNotification(Exception):
    """A webhook request whose signature or form is wrong: answered 401, nothing changes."""


class UntrustedSender(BadNotification):
    """A webhook request from a client address the acquirer does not send from: 403."""


@dataclass(frozen=True)
class Order:
    """What we ask the acquirer to collect. `id` is ours (and its idempotence key)."""

    id: int
    amount: Decimal
    account_number: str
    description: str
    return_url: str  # where the customer goes back to when done
    expires_at: dt.datetime
    email: str = ""  # the cabinet's address, for the fiscal receipt (54-FZ)
    method: str = ""  # CARD, SBP or SBERPAY: skip the acquirer's choice; empty: the customer's


@dataclass(frozen=True)
class Checkout:
    """The acquirer's answer: its id of the payment and the page to confirm it on."""

    external_id: str
    confirmation_url: str


@dataclass(frozen=True)
class Notification:
    """What a webhook says happened to a payment, in the acquirer's own words made ours."""

    event_id: str
    external_id: str
    status: PaymentStatus  # SUCCEEDED, CANCELED or FAILED
    amount: Decimal
    paid_at: dt.datetime | None = None
    order_id: int | None = None  # our payment's id, when the acquirer keeps it (metadata)
    reason: str = ""  # why it was canceled, in the acquirer's words (failure_reason)


class Provider(Protocol):
    name: str

    async def create_payment(self, order: Order) -> Checkout:
        """Create (or, for an order id seen before, find) the payment; may raise
        ProviderUnavailable."""
        ...

    def read_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        """Verify and parse a webhook request; raise BadNotification when it does not hold."""
        ...


class VerifyingProvider(Protocol):
    """An acquirer whose notification is only a hint: `verify_notification` checks the
    sender, then asks the acquirer's API and answers what the API says of the payment (or,
    for a refund's notification, of the refund; None: nothing to record yet, e.g. still
    pending); raises UntrustedSender or BadNotification."""

    async def verify_notification(
        self, body: bytes, headers: Mapping[str, str], client_host: str
    ) -> Notification | RefundNotification | None: ...


class PollingProvider(Protocol):
    """An acquirer the sweeper can ask about a payment left pending (None: still pending
    or not known; raises ProviderUnavailable)."""

    async def payment_status(self, external_id: str) -> Notification | None: ...


@dataclass(frozen=True)
class RefundOrder:
    """What we ask the acquirer to give back. `id` is our refund's (and its idempotence
    key): the same refund asked again is the same refund."""

    id: int
    payment_external_id: str  # the acquirer's id of the payment
    amount: Decimal
    description: str  # the refunded payment's, for the receipt
    email: str = ""  # the cabinet's address, for the refund's fiscal receipt (54-FZ)


@dataclass(frozen=True)
class RefundResult:
    """The acquirer's word on a refund: its id and where it stands."""

    external_id: str
    status: RefundStatus


@dataclass(frozen=True)
class RefundNotification:
    """What the acquirer's API says of a refund a notification named."""

    payment_external_id: str  # the acquirer's id of the refunded payment
    refund: RefundResult
    amount: Decimal


class RefundingProvider(Protocol):
    """An acquirer that refunds a payment it took; raises ProviderUnavailable (asking
    again with the same order is safe) or ProviderRefused."""

    async def refund(self, order: RefundOrder) -> RefundResult: ...


def provider_name(settings: Settings) -> str:
    """The configured acquirer's name (the rules are config's: `payment_provider_name`)."""
    try:
        name = payment_provider_name(settings)
    except ConfigError as exc:
        raise ProviderError(str(exc)) from None
    if name == NO_PAYMENTS:
        raise PaymentsOff("PAYMENT_PROVIDER=none: online payments are off")
    return name


@functools.cache
def _load(name: str, settings: Settings) -> Provider:
    module = importlib.import_module(provider_module(name) or name)
    return module.provider(settings)


def provider_for(settings: Settings) -> Provider:
    """The configured acquirer (raises ProviderError when there is none, PaymentsOff when
    PAYMENT_PROVIDER=none)."""
    return _load(provider_name(settings), settings)
