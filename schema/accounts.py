"""Accounts and what hangs off them: meters, readings, payments, receipts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import strawberry

from models import metering
from resolvers import accounts as account_resolvers
from resolvers import lists, receipts
from resolvers import payments as payment_resolvers
from resolvers import readings as reading_resolvers
from resolvers.context import Context
from schema.autopay import Autopay
from schema.enums import described_enum
from schema.errors import MutationInput, attempt, error_type
from schema.receipts import ConsumptionMonth, EReceipt
from schema.relay import Connection, Node, encode_id, to_connection
from schema.scalars import Money, Period
from services.accounts.errors import AccountError
from services.core.errors import CoreError
from services.readings.zones import zone_count, zone_name, zone_names
from services.receipts.read_model import receipt_lines

Info = strawberry.Info[Context]

ReadingSource = described_enum(
    metering.ReadingSource,
    CUSTOMER="Sent by the customer, in the cabinet or the app.",
    INSPECTOR="Taken by the company's inspector on a visit.",
    ESTIMATED="Not read from the meter: estimated by the company from past consumption.",
    BILLING="Came from the billing system, taken by a channel other than the cabinet.",
    GUEST="Sent without logging in (submitGuestMeterReading), by anyone who had the account "
    "number and the meter's serial from the bill.",
    description="Who took a meter reading.",
)
ReadingStatus = described_enum(
    metering.ReadingStatus,
    ACCEPTED="Accepted: the next reading is compared with it.",
    REVIEW="Far above the usual consumption and confirmed by the "
    "customer (confirmUnusual): waits for the company to check it.",
    REJECTED="Refused by the company: it does not count.",
    REPLACED="A later submission of the same reading window took its place: it does not count.",
    description="What became of a meter reading.",
)
# Members by stored value: a dict lookup a row, not the enum's call machinery.
_SOURCES = {member.value: member for member in ReadingSource}
_REGISTERS = ((1, "t1"), (2, "t2"), (3, "t3"))  # a reading row's zones and their columns
_STATUSES = {member.value: member for member in ReadingStatus}


@strawberry.type(description="A tariff zone of a meter.")
class TariffZone:
    number: int = strawberry.field(description="1, 2 or 3: the register T1, T2, T3.")
    name: str = strawberry.field(description="Day, night, peak... in the request's language.")


@strawberry.type(description="The value of one zone's register.")
class ZoneValue:
    zone: int = strawberry.field(description="Zone number, 1 to 3.")
    name: str = strawberry.field(description="Zone name in the request's language.")
    value: Decimal = strawberry.field(description="Register value in kWh, up to 3 decimals.")


@strawberry.type(description="Register values of a meter on a date.")
class MeterReading(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    taken_on: dt.date = strawberry.field(description="Date the values were read.")
    values: list[ZoneValue] = strawberry.field(description="One value per zone of the meter.")
    source: ReadingSource = strawberry.field(description="Who took the reading.")
    status: ReadingStatus = strawberry.field(description="Whether billing uses it.")
    meter_pk: strawberry.Private[int]

    @strawberry.field(
        description="The meter the values were read from; null when its account is no "
        "longer in the viewer's cabinet."
    )
    async def meter(self, info: Info) -> Meter | None:
        row = await account_resolvers.meter(info, self.meter_pk)
        return Meter.from_row(row, info.context.language) if row else None

    @classmethod
    def from_row(cls, row: dict[str, Any], language: str) -> MeterReading:
        names = zone_names(row["zones"], language)
        values = [
            ZoneValue(zone=z, name=names[z - 1], value=value)
            for z, column in _REGISTERS
            if (value := row[column]) is not None
        ]
        return cls(
            id=encode_id("MeterReading", row["id"]),
            taken_on=row["taken_on"],
            values=values,
            source=_SOURCES.get(row["source"]) or ReadingSource(row["source"]),
            status=_STATUSES.get(row["status"]) or ReadingStatus(row["status"]),
            meter_pk=row["meter_id"],
        )


@strawberry.type(description="An electricity meter of an account.")
class Meter(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    serial: str = strawberry.field(description="Serial number printed on the meter.")
    model: str = strawberry.field(description="Make and model, when billing knows it.")
    zones: list[TariffZone] = strawberry.field(description="Its tariff zones (1 to 3).")
    digits: int = strawberry.field(description="Digits of the register before the point.")
    installed_on: dt.date | None = strawberry.field(description="Installation date.")
    verified_on: dt.date | None = strawberry.field(description="Date of the last verification.")
    next_verification_on: dt.date | None = strawberry.field(
        description="When the next verification is due."
    )
    pk: strawberry.Private[int]
    account_pk: strawberry.Private[int]
    zone_count: strawberry.Private[int]

    @strawberry.field(
        description="The latest accepted reading (or one under review); null when there is "
        "none, or when the meter's account is no longer in the viewer's cabinet."
    )
    def last_reading(self, info: Info) -> MeterReading | None:
        zones, language = self.zone_count, info.context.language
        return lists.when_ready(  # type: ignore[return-value]
            reading_resolvers.last_reading(info, self.pk, self.account_pk),
            lambda row: (
                None if row is None else MeterReading.from_row({**row, "zones": zones}, language)
            ),
        )

    @classmethod
    def from_row(cls, row: dict[str, Any], language: str) -> Meter:
        count = row["zones"]
        names = zone_names(count, language)
        return cls(
            id=encode_id("Meter", row["id"]),
            serial=row["serial"],
            model=row["model"],
            zones=[TariffZone(number=z, name=names[z - 1]) for z in range(1, count + 1)],
            digits=row["digits"],
            installed_on=row["installed_on"],
            verified_on=row["verified_on"],
            next_verification_on=row["next_verification_on"],
            pk=row["id"],
            account_pk=row["account_id"],
            zone_count=count,
        )


@strawberry.type(description="Money received on an account.")
class Payment(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    amount: Money = strawberry.field(description="Amount paid.")
    paid_at: dt.datetime = strawberry.field(description="When it was paid.")
    channel: str = strawberry.field(description="Where: a bank, an office, this cabinet...")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Payment:
        return cls(
            id=encode_id("Payment", row["id"]),
            amount=Money(row["amount"]),
            paid_at=row["paid_at"],
            channel=row["channel"],
        )


@strawberry.type(description="The charge for one tariff zone on a receipt.")
class ReceiptLine:
    zone: int = strawberry.field(description="Zone number, 1 to 3.")
    name: str = strawberry.field(description="Zone name in the request's language.")
    previous: Decimal | None = strawberry.field(description="Register value at the start.")
    current: Decimal | None = strawberry.field(description="Register value at the end.")
    consumption: Decimal | None = strawberry.field(description="kWh consumed.")
    rate: Money | None = strawberry.field(description="Price of a kWh.")
    amount: Money | None = strawberry.field(description="Charged for the zone.")


def _decimal(value: Any) -> Decimal | None:
    return Decimal(value) if value is not None else None


@strawberry.type(description="A monthly bill of an account.")
class Receipt(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    period: Period = strawberry.field(description="The billed month.")
    issued_on: dt.date = strawberry.field(description="Date of issue.")
    due_on: dt.date = strawberry.field(description="Pay by this date.")
    opening_balance: Money = strawberry.field(description="Debt at the start of the month.")
    charged: Money = strawberry.field(description="Charged for the month.")
    paid: Money = strawberry.field(description="Paid during the month.")
    amount_due: Money = strawberry.field(description="To pay: opening + charged - paid.")
    pk: strawberry.Private[int]
    stored_lines: strawberry.Private[Any]  # as the read model has them: parsed when asked for
    language: strawberry.Private[str]

    @strawberry.field(description="Charges per tariff zone.")
    def lines(self) -> list[ReceiptLine]:
        lines = receipt_lines(self.stored_lines)
        zones = zone_count(int(line["zone"]) for line in lines)
        return [
            ReceiptLine(
                zone=line["zone"],
                name=zone_name(zones, line["zone"], self.language),
                previous=_decimal(line.get("previous")),
                current=_decimal(line.get("current")),
                consumption=_decimal(line.get("consumption")),
                rate=_decimal(line.get("rate")),  # type: ignore[arg-type]
                amount=_decimal(line.get("amount")),  # type: ignore[arg-type]
            )
            for line in lines
        ]

    @strawberry.field(
        description="A link to the printable bill (PDF) that works without the session for "
        "RECEIPT_LINK_MINUTES (10) minutes, for opening it in a system viewer. With the "
        "session (cookie or bearer) the bill is at the same address without `?token`."
    )
    async def pdf_url(self, info: Info) -> str:
        return await receipts.pdf_url(info, self.pk)

    @classmethod
    def from_row(cls, row: dict[str, Any], language: str) -> Receipt:
        return cls(
            id=encode_id("Receipt", row["id"]),
            pk=row["id"],
            period=Period(row["period"]),
            issued_on=row["issued_on"],
            due_on=row["due_on"],
            opening_balance=Money(row["opening_balance"]),
            charged=Money(row["charged"]),
            paid=Money(row["paid"]),
            amount_due=Money(row["amount_due"]),
            stored_lines=row["lines"],
            language=language,
        )


First = Annotated[int, strawberry.argument(description="Page size, at most 100.")]
After = Annotated[
    str | None, strawberry.argument(description="The `endCursor` of the previous page.")
]
From = Annotated[
    dt.date | None,
    strawberry.argument(name="from", description="Only items on or after this date."),
]
To = Annotated[
    dt.date | None, strawberry.argument(description="Only items on or before this date.")
]
Months = Annotated[int, strawberry.argument(description="How many months, 1 to 36 (default 12).")]
MeterFilter = Annotated[
    strawberry.ID | None, strawberry.argument(description="Only readings of this meter.")
]


@strawberry.type(description="A personal account (лицевой счёт) held by the cabinet.")
class Account(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    number: str = strawberry.field(description="The number printed on bills.")
    holder_name: str = strawberry.field(description="Name of the account holder.")
    address: str = strawberry.field(description="Address of supply.")
    tariff: str = strawberry.field(description="Tariff plan.")
    balance: Money = strawberry.field(
        description="Balance as of `balanceOn`: positive is a debt, negative is prepaid."
    )
    balance_on: dt.date | None = strawberry.field(description="Date the balance refers to.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Account:
        return cls(
            id=encode_id("Account", row["id"]),
            number=row["number"],
            holder_name=row["holder_name"],
            address=row["address"],
            tariff=row["tariff"],
            balance=Money(row["balance"]),
            balance_on=row["balance_on"],
            pk=row["id"],
        )

    @strawberry.field(description="Meters of the account.")
    def meters(self, info: Info) -> list[Meter]:
        language = info.context.language
        return lists.when_ready(  # type: ignore[return-value]
            account_resolvers.meters(info, self.pk),
            lambda rows: [Meter.from_row(row, language) for row in rows],
        )

    def _connection(
        self,
        info: Info,
        kind: str,
        node: Any,
        first: int,
        after: str | None,
        start: dt.date | None,
        end: dt.date | None,
        meter_id: str | None = None,
    ) -> Any:
        page = lists.account_page(info, kind, self.pk, first, after, start, end, meter_id)
        return lists.when_ready(page, lambda page: to_connection(page, node))

    @strawberry.field(description="Meter readings, newest first.")
    def readings(
        self,
        info: Info,
        first: First = 20,
        after: After = None,
        from_: From = None,
        to: To = None,
        meter_id: MeterFilter = None,
    ) -> Connection[MeterReading]:
        language = info.context.language
        return self._connection(
            info,
            "readings",
            lambda row: MeterReading.from_row(row, language),
            first,
            after,
            from_,
            to,
            meter_id,
        )

    @strawberry.field(description="Payments received, newest first.")
    def payments(
        self,
        info: Info,
        first: First = 20,
        after: After = None,
        from_: From = None,
        to: To = None,
    ) -> Connection[Payment]:
        return self._connection(info, "payments", Payment.from_row, first, after, from_, to)

    @strawberry.field(description="Receipts (bills), newest first.")
    def receipts(
        self,
        info: Info,
        first: First = 20,
        after: After = None,
        from_: From = None,
        to: To = None,
    ) -> Connection[Receipt]:
        language = info.context.language
        return self._connection(
            info, "receipts", lambda row: Receipt.from_row(row, language), first, after, from_, to
        )

    @strawberry.field(
        name="eReceipt", description="Whether the account's bills come by e-mail, and where."
    )
    def e_receipt(self, info: Info) -> EReceipt:
        state = receipts.e_receipt(info, self.pk)
        return lists.when_ready(  # type: ignore[return-value]
            state, lambda state: EReceipt.from_state(state, self.pk)
        )

    @strawberry.field(
        description="Whether the account's new bills are paid by autopay, with which "
        "method and up to how much a month."
    )
    def autopay(self, info: Info) -> Autopay:
        return lists.when_ready(  # type: ignore[return-value]
            payment_resolvers.autopay_state(info, self.pk), Autopay.from_state
        )

    @strawberry.field(
        description="Consumption per month and tariff zone, oldest first, beside the same "
        "month a year earlier: from the receipts, and from the meter readings where a "
        "receipt is missing. The series ends with the current month once anything is known "
        "of it, else with the month before."
    )
    def consumption(self, info: Info, months: Months = 12) -> list[ConsumptionMonth]:
        language = info.context.language
        return lists.when_ready(  # type: ignore[return-value]
            receipts.consumption(info, self.pk, months),
            lambda series: [ConsumptionMonth.from_month(month, language) for month in series],
        )


# ---------------------------------------------------------------- the fields


async def account(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="Id of the account.")],
) -> Account | None:
    """One of the viewer's accounts; null for a missing id and another's alike."""
    row = await account_resolvers.account(info, id)
    return Account.from_row(row) if row else None


# ---------------------------------------------------------------- linking accounts
# The codes of proving an account (services/accounts/proof.py), shared by every mutation
# that takes a proof: register, linkAccount, startRecoveryWithoutEmail.
@strawberry.type(
    description="A change held because the payment that proved ownership could have been "
    "planted (younger than PROOF_FRESH_PAYMENT_DAYS, paid as a guest or online from another "
    "cabinet): nothing changes before `until`. A held recovery is told to the cabinet's "
    "address at once, with a link to cancel it."
)
class ProofHold:
    until: dt.datetime = strawberry.field(
        description="When the change takes effect, unless it is canceled meanwhile."
    )


PROOF_CODES = [
    AccountError.INVALID_ACCOUNT_NUMBER,
    CoreError.INVALID_AMOUNT,
    AccountError.INVALID_PROOF,
    AccountError.NO_RECENT_PAYMENTS,
    CoreError.TOO_MANY_ATTEMPTS,
]


@strawberry.input(description="Add another account to the cabinet by proving ownership.")
class LinkAccountInput:
    account_number: str = strawberry.field(description="Account number as on the bill.")
    payment_amount: str = strawberry.field(
        description="Amount of any payment to the account in the last year."
    )


LinkAccountError = error_type(
    "LinkAccount",
    [*PROOF_CODES, AccountError.ALREADY_LINKED, CoreError.ALREADY_REGISTERED],
    retryable=True,
)


@strawberry.type(description="The result of linkAccount.")
class LinkAccountPayload:
    account: Account | None = strawberry.field(default=None, description="The linked account.")
    hold: ProofHold | None = strawberry.field(
        default=None,
        description="Set when the proof's payment could have been planted: `account` is "
        "null, and the account joins the cabinet at `until`.",
    )
    user_errors: list[LinkAccountError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Remove an account from the cabinet.")
class UnlinkAccountInput:
    account_id: strawberry.ID = strawberry.field(description="Id of the account.")


UnlinkAccountError = error_type("UnlinkAccount", [CoreError.NOT_FOUND, AccountError.LAST_ACCOUNT])


@strawberry.type(description="The result of unlinkAccount.")
class UnlinkAccountPayload:
    unlinked_account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Id of the account no longer in the cabinet."
    )
    user_errors: list[UnlinkAccountError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


# ---------------------------------------------------------------- the fields
# Each takes the mutation's input, calls its resolver (resolvers/accounts.py) and turns the
# domain result, or the rules' errors, into the payload.


async def link_account(info: Info, input: MutationInput[LinkAccountInput]) -> LinkAccountPayload:
    done, errors = await attempt(
        account_resolvers.link_account(info, input), LinkAccountError, info.context.language
    )
    row, until = done or (None, None)
    return LinkAccountPayload(
        account=Account.from_row(row) if row else None,
        hold=ProofHold(until=until) if until else None,
        user_errors=errors,
    )


async def unlink_account(
    info: Info, input: MutationInput[UnlinkAccountInput]
) -> UnlinkAccountPayload:
    unlinked, errors = await attempt(
        account_resolvers.unlink_account(info, input), UnlinkAccountError, info.context.language
    )
    return UnlinkAccountPayload(
        unlinked_account_id=input.account_id if unlinked else None, user_errors=errors
    )
