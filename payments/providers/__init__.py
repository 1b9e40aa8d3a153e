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
gives money back (`kabinet payments refund`). `RecurringProvider` charges a payment
method the customer saved with a first payment (`Order.save_method`): autopay.
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
    save_method: bool = False  # autopay's first payment: ask the acquirer to keep the method


@dataclass(frozen=True)
class Checkout:
    """The acquirer's answer: its id of the payment and the page to confirm it on."""

    external_id: str
    confirmation_url: str


@dataclass(frozen=True)
class SavedMethod:
    """A payment method the acquirer keeps for autopay: its id (only ever sent back to the
    same acquirer) and a title safe to show, such as "Bank card *4444" - never card data."""

    id: str
    title: str


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
    saved_method: SavedMethod | None = None  # the method the acquirer saved (autopay)


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


@dataclass(frozen=True)
class Charged:
    """The acquirer's answer to a charge of a saved method: its id of the payment, and
    its outcome when already final (None: pending, the notification or the sweeper tells)."""

    external_id: str
    outcome: Notification | None


class RecurringProvider(Protocol):
    """An acquirer that saves a payment method (`Order.save_method`) and charges it later
    without the customer: `charge_saved` creates the payment (the order's id is its
    idempotence key, so asking again never charges twice); raises ProviderUnavailable or
    ProviderRefused."""

    async def charge_saved(self, order: Order, method_id: str) -> Charged: ...


def recurring(provider: object) -> RecurringProvider | None:
    """The provider as a RecurringProvider, or None when it cannot save methods."""
    return provider if callable(getattr(provider, "charge_saved", None)) else None  # type: ignore[return-value]


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
