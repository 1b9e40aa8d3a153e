"""Paying a bill in the cabinet: the online payment, payBill's input and payload."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from models import payments as payment_models
from resolvers import accounts as account_resolvers
from resolvers import payments as payment_resolvers
from resolvers.context import Context
from schema.accounts import Account
from schema.enums import described_enum
from schema.errors import MutationInput, attempt, error_type
from schema.relay import Node, encode_id
from schema.scalars import Money
from services.accounts.errors import AccountError
from services.core.errors import CoreError, RuleError
from services.core.messages import message_for
from services.payments.errors import PaymentError
from services.payments.reasons import reason_text

Info = strawberry.Info[Context]

PaymentStatus = described_enum(
    payment_models.PaymentStatus,
    PENDING="Created with the acquirer: waits for the customer to pay and for the acquirer's word.",
    SUCCEEDED="The acquirer took the money; the account's payments show it.",
    CANCELED="The customer, or the acquirer, canceled it.",
    FAILED="Refused by the acquirer, or not confirmed within the timeout.",
    REFUNDED="It SUCCEEDED, then the company gave all of it back (`refundedAmount` equals "
    "`amount`); the account's balance counts it as unpaid again.",
    description="Where an online payment stands: PENDING until the acquirer tells us it "
    "SUCCEEDED, was CANCELED, or FAILED (refused, or not confirmed within the timeout); "
    "REFUNDED once all of it is given back. A payment partly refunded stays SUCCEEDED with "
    "`refundedAmount` above zero.",
)

PaymentMethod = described_enum(
    payment_models.PaymentMethod,
    CARD="A bank card.",
    SBP="The Faster Payments System (SBP): a QR code or a link into the customer's bank app.",
    SBERPAY="SberPay, in Sber's app.",
    description="How the customer pays. Without one, the acquirer's page lets the customer "
    "choose; mobile apps that offer the choice themselves send it.",
)


@strawberry.type(
    description="A payment made in the cabinet (payBill). Once SUCCEEDED it is also in the "
    "account's `payments` history, with channel «Личный кабинет»."
)
class OnlinePayment(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    status: PaymentStatus = strawberry.field(description="Where the payment stands.")
    amount: Money = strawberry.field(description="Amount to pay.")
    refunded_amount: Money = strawberry.field(
        description='Given back to the payer so far (the company refunds; "0.00" when '
        "nothing was): SUCCEEDED with a refundedAmount above zero is partly refunded, "
        "REFUNDED is refunded in full. The account's balance rises by what is refunded."
    )
    created_at: dt.datetime = strawberry.field(description="When payBill created it.")
    completed_at: dt.datetime | None = strawberry.field(
        description="When it left PENDING; null while pending."
    )
    confirmation_url: str | None = strawberry.field(
        description="While PENDING: the acquirer's page where the customer pays; open it in "
        "a browser. Null once the payment is done."
    )
    account_pk: strawberry.Private[int]
    failure_code: strawberry.Private[str] = ""

    @strawberry.field(
        description="Why it did not go through, in the viewer's language (e.g. not enough "
        "money, the 3-D Secure code was wrong, not confirmed in time); null unless CANCELED "
        "or FAILED."
    )
    def failure_reason(self, info: strawberry.Info[Context]) -> str | None:
        if self.status not in (PaymentStatus.CANCELED, PaymentStatus.FAILED):
            return None
        return reason_text(self.failure_code, info.context.language)

    @strawberry.field(description="The account paid into.")
    async def account(self, info: strawberry.Info[Context]) -> Account | None:
        row = await account_resolvers.own_account(info, self.account_pk)
        return Account.from_row(row) if row else None

    @classmethod
    def from_model(cls, payment: Any) -> OnlinePayment:
        pending = payment.status == payment_models.PaymentStatus.PENDING
        return cls(
            id=encode_id("OnlinePayment", payment.id),
            status=PaymentStatus(payment.status),
            amount=Money(payment.amount),
            refunded_amount=Money(payment.refunded_amount or Decimal(0)),
            created_at=payment.created_at,
            completed_at=payment.completed_at,
            confirmation_url=(payment.confirmation_url or None) if pending else None,
            account_pk=payment.account_id,
            failure_code=payment.failure_reason,
        )


@strawberry.input(description="Pay into one of the viewer's accounts online.")
class PayBillInput:
    account_id: strawberry.ID = strawberry.field(description="Id of one of the viewer's accounts.")
    amount: str = strawberry.field(
        description='Amount in roubles, as people type it: "1500", "1 234,56".'
    )
    idempotency_key: str = strawberry.field(
        description="A key the app makes once per payment (e.g. a UUID) and sends again on "
        "every retry: the same key never creates a second payment."
    )
    method: PaymentMethod | None = strawberry.field(
        default=None,
        description="How the customer pays, when the app has asked already; null: the "
        "acquirer's page offers the choice. The sandbox ignores it.",
    )


# What can refuse a payment a cabinet starts: payBill, and enableAutopay's first payment.
PAYING_CODES = [
    CoreError.NOT_FOUND,
    CoreError.INVALID_AMOUNT,
    PaymentError.AMOUNT_TOO_LARGE,
    CoreError.INVALID_IDEMPOTENCY_KEY,
    CoreError.IDEMPOTENCY_KEY_REUSED,
    PaymentError.PROVIDER_UNAVAILABLE,
    PaymentError.PAYMENTS_UNAVAILABLE,
    PaymentError.PROVIDER_REFUSED,
]
PayBillError = error_type("PayBill", PAYING_CODES)


@strawberry.type(description="The result of payBill.")
class PayBillPayload:
    payment: OnlinePayment | None = strawberry.field(
        default=None,
        description="The payment, PENDING: send the customer to its `confirmationUrl`, then "
        "follow `onlinePayment(id)` until it is done.",
    )
    user_errors: list[PayBillError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.type(
    description="How customers can pay: whether payBill takes payments online in this "
    "deployment, and where else to pay. A client hides its pay buttons while `online` is "
    "false and shows `otherWays` instead."
)
class PaymentOptions:
    online: bool = strawberry.field(
        description="True when payBill takes payments; false when the deployment takes none "
        "online (payBill then answers PAYMENTS_UNAVAILABLE)."
    )
    other_ways: str = strawberry.field(
        description="Where else to pay, in the request's language: the bill's QR code, the "
        "company's bank details and its office, as printed on every bill."
    )


@strawberry.input(
    description="Turn autopay on for one of the viewer's accounts: a first payment of what "
    "is owed now (at least 1 RUB, kept as prepayment) that saves the payment method."
)
class EnableAutopayInput:
    account_id: strawberry.ID = strawberry.field(description="Id of one of the viewer's accounts.")
    max_amount: str = strawberry.field(
        description="The most autopay may charge in one calendar month, in roubles as people "
        'type it: "3000", "2 500,50". A bill that would go above it is not charged.'
    )
    idempotency_key: str = strawberry.field(
        description="A key the app makes once (e.g. a UUID) and sends again on every retry: "
        "the same key never creates a second first payment."
    )
    method: PaymentMethod | None = strawberry.field(
        default=None,
        description="How the customer pays the first payment, when the app has asked; "
        "null: the acquirer's page offers the methods it can save.",
    )


EnableAutopayError = error_type(
    "EnableAutopay", [*PAYING_CODES, PaymentError.AUTOPAY_NOT_SUPPORTED]
)


@strawberry.type(description="The result of enableAutopay.")
class EnableAutopayPayload:
    payment: OnlinePayment | None = strawberry.field(
        default=None,
        description="The first payment, PENDING: send the customer to its `confirmationUrl`. "
        "Autopay becomes active when it succeeds and the payment service saves the method.",
    )
    account: Account | None = strawberry.field(
        default=None, description="The account; `autopay` shows its state now."
    )
    user_errors: list[EnableAutopayError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Turn autopay off for one of the viewer's accounts.")
class DisableAutopayInput:
    account_id: strawberry.ID = strawberry.field(description="Id of one of the viewer's accounts.")


DisableAutopayError = error_type("DisableAutopay", [CoreError.NOT_FOUND])


@strawberry.type(description="The result of disableAutopay.")
class DisableAutopayPayload:
    account: Account | None = strawberry.field(
        default=None, description="The account; its `autopay` is off now."
    )
    user_errors: list[DisableAutopayError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


# ---------------------------------------------------------------- the fields


def payment_options(info: Info) -> PaymentOptions:
    options = payment_resolvers.payment_options(info)
    return PaymentOptions(online=options.online, other_ways=options.other_ways)


async def pay_bill(info: Info, input: MutationInput[PayBillInput]) -> PayBillPayload:
    payment, errors = await attempt(
        payment_resolvers.pay_bill(info, input), PayBillError, info.context.language
    )
    return PayBillPayload(
        payment=OnlinePayment.from_model(payment) if payment else None, user_errors=errors
    )


async def online_payment(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="Id of the payment (payBill).")],
) -> OnlinePayment | None:
    """One of the viewer's payments; null for a missing id and another's alike."""
    payment = await payment_resolvers.online_payment(info, id)
    return OnlinePayment.from_model(payment) if payment else None


async def enable_autopay(
    info: Info, input: MutationInput[EnableAutopayInput]
) -> EnableAutopayPayload:
    done, errors = await attempt(
        payment_resolvers.enable_autopay(info, input), EnableAutopayError, info.context.language
    )
    if done is None:
        return EnableAutopayPayload(user_errors=errors)
    payment, row = done
    return EnableAutopayPayload(
        payment=OnlinePayment.from_model(payment), account=Account.from_row(row) if row else None
    )


async def disable_autopay(
    info: Info, input: MutationInput[DisableAutopayInput]
) -> DisableAutopayPayload:
    row, errors = await attempt(
        payment_resolvers.disable_autopay(info, input), DisableAutopayError, info.context.language
    )
    if errors:
        return DisableAutopayPayload(user_errors=errors)
    return DisableAutopayPayload(account=Account.from_row(row) if row else None)


# ---------------------------------------------------------------- paying without logging in


@strawberry.type(
    description="Enough of an account to check the payee before paying without logging in "
    "(payableAccount): anyone who knows the number (it is printed on the bill) sees this."
)
class PayableAccount:
    number: str = strawberry.field(description="The account number, digits only.")
    holder: str = strawberry.field(
        description='The holder as initials, the surname masked: "И*****а М. П.".'
    )
    street: str = strawberry.field(
        description='The street of the address, without house and flat: "г. Нижний '
        'Новгород, ул. Рождественская".'
    )
    amount_due: Money | None = strawberry.field(
        description='What is owed now ("0.00" when nothing is); null unless the deployment '
        "shows it (GUEST_SHOWS_AMOUNT_DUE)."
    )
    minimal_amount: Money = strawberry.field(
        description="The smallest amount payAsGuest takes (GUEST_MIN_AMOUNT)."
    )
    maximal_amount: Money = strawberry.field(
        description="The largest amount payAsGuest takes (GUEST_MAX_AMOUNT)."
    )


@strawberry.input(description="Pay into any account by its number, without logging in.")
class PayAsGuestInput:
    account_number: str = strawberry.field(description="Account number as on the bill.")
    amount: str = strawberry.field(
        description='Amount in roubles, as people type it: "1500", "1 234,56"; from '
        "GUEST_MIN_AMOUNT to GUEST_MAX_AMOUNT."
    )
    email: str = strawberry.field(
        description="The payer's e-mail: the receipt (54-FZ) and our receipt of payment go there."
    )
    idempotency_key: str = strawberry.field(
        description="A key the page makes once per payment (e.g. a UUID) and sends again on "
        "every retry: the same key never creates a second payment."
    )
    method: PaymentMethod | None = strawberry.field(
        default=None,
        description="How the payer pays, when the page has asked already; null: the "
        "acquirer's page offers the choice.",
    )


PayAsGuestError = error_type(
    "PayAsGuest",
    [
        AccountError.INVALID_ACCOUNT_NUMBER,
        CoreError.NOT_FOUND,
        CoreError.INVALID_AMOUNT,
        PaymentError.AMOUNT_TOO_SMALL,
        PaymentError.AMOUNT_TOO_LARGE,
        CoreError.INVALID_EMAIL,
        CoreError.INVALID_IDEMPOTENCY_KEY,
        CoreError.IDEMPOTENCY_KEY_REUSED,
        CoreError.TOO_MANY_ATTEMPTS,
        PaymentError.PROVIDER_UNAVAILABLE,
        PaymentError.PAYMENTS_UNAVAILABLE,
        PaymentError.PROVIDER_REFUSED,
    ],
    retryable=True,
)


@strawberry.type(description="The result of payAsGuest.")
class PayAsGuestPayload:
    payment: OnlinePayment | None = strawberry.field(
        default=None,
        description="The payment, PENDING: send the payer to its `confirmationUrl`; the "
        "acquirer brings them back to the guest payment page, which follows "
        "`guestPayment(statusToken)` until it is done. Its `account` needs a login (a guest "
        "has payableAccount).",
    )
    status_token: str | None = strawberry.field(
        default=None,
        description="Pass to guestPayment to learn how the payment ended; valid 30 days, "
        "names this payment only.",
    )
    user_errors: list[PayAsGuestError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.type(description="How a payment made without logging in stands (guestPayment).")
class GuestPayment:
    status: PaymentStatus = strawberry.field(description="Where the payment stands.")
    amount: Money = strawberry.field(description="Amount paid.")
    account_number: str = strawberry.field(description="The account paid into.")
    holder: str = strawberry.field(description="Its holder, masked as payableAccount shows it.")
    created_at: dt.datetime = strawberry.field(description="When payAsGuest created it.")
    completed_at: dt.datetime | None = strawberry.field(
        description="When it left PENDING; null while pending."
    )
    confirmation_url: str | None = strawberry.field(
        description="While PENDING: the acquirer's page to pay on. Null once done."
    )
    failure_code: strawberry.Private[str] = ""

    @strawberry.field(
        description="Why it did not go through, in the request's language; null unless "
        "CANCELED or FAILED."
    )
    def failure_reason(self, info: strawberry.Info[Context]) -> str | None:
        if self.status not in (PaymentStatus.CANCELED, PaymentStatus.FAILED):
            return None
        return reason_text(self.failure_code, info.context.language)


def _throttled(error: RuleError, language: str) -> GraphQLError:
    """A query has no userErrors: TOO_MANY_ATTEMPTS is a top-level error with the time
    the next attempt is accepted."""
    retry_after = error.retry_after.isoformat() if error.retry_after else None
    return GraphQLError(
        message_for(error, language),
        extensions={"code": error.code.name, "retryAfter": retry_after},
    )


async def payable_account(
    info: Info,
    account_number: Annotated[
        str, strawberry.argument(description="Account number as on the bill.")
    ],
) -> PayableAccount | None:
    """An account by its number, to check the payee; null for an unknown number."""
    try:
        found = await payment_resolvers.payable_account(info, account_number)
    except RuleError as error:
        raise _throttled(error, info.context.language) from None
    if found is None:
        return None
    limits = payment_resolvers.guest_amounts()
    return PayableAccount(
        number=found.number,
        holder=found.holder,
        street=found.street,
        amount_due=Money(found.amount_due) if found.amount_due is not None else None,
        minimal_amount=Money(limits[0]),
        maximal_amount=Money(limits[1]),
    )


async def pay_as_guest(info: Info, input: MutationInput[PayAsGuestInput]) -> PayAsGuestPayload:
    paid, errors = await attempt(
        payment_resolvers.pay_as_guest(info, input), PayAsGuestError, info.context.language
    )
    if paid is None:
        return PayAsGuestPayload(user_errors=errors)
    return PayAsGuestPayload(
        payment=OnlinePayment.from_model(paid.payment), status_token=paid.status_token
    )


async def guest_payment(
    info: Info,
    status_token: Annotated[
        str, strawberry.argument(description="From payAsGuest, or the return page's address.")
    ],
) -> GuestPayment | None:
    """A payment made without logging in; null for a damaged or expired token."""
    state = await payment_resolvers.guest_payment(info, status_token)
    if state is None:
        return None
    payment = state.payment
    pending = payment.status == payment_models.PaymentStatus.PENDING
    return GuestPayment(
        status=PaymentStatus(payment.status),
        amount=Money(payment.amount),
        account_number=state.account_number,
        holder=state.holder,
        created_at=payment.created_at,
        completed_at=payment.completed_at,
        confirmation_url=(payment.confirmation_url or None) if pending else None,
        failure_code=payment.failure_reason,
    )
