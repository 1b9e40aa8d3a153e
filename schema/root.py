"""The root Query and Mutation (the Subscription is schema/subscriptions.py), and the
assembled schema."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from config import Settings
from models import db
from resolvers import meta
from resolvers.context import Context
from schema import (
    accounts,
    auth,
    ereceipts,
    notifications,
    payments,
    privacy,
    questions,
    readings,
    recovery,
)
from schema import nodes as node_fields
from schema.accounts import Account, MeterReading, Receipt
from schema.auth import User
from schema.execution import EXECUTION_CONTEXTS, coded
from schema.http import SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE
from schema.limits import DocumentLimits
from schema.metrics import OperationMetrics
from schema.payments import GuestPayment, OnlinePayment, PayableAccount, PaymentOptions
from schema.permissions import CustomersOnly, StaffOnly
from schema.privacy import PrivacyNotice
from schema.questions import Question, Specialist
from schema.readings import PreviewMeterReadingPayload
from schema.relay import Connection, Node
from schema.scalars import SCALARS
from schema.subscriptions import Subscription
from schema.text import StorableTextRule
from schema.tracing import OperationTracing
from services.core import tracing


@strawberry.type(
    description="The request budget of this client (its IP address), per server "
    "process: requests are refused with 429 when it runs out."
)
class RateLimit:
    limit: int = strawberry.field(description="Requests allowed per minute.")
    remaining: int = strawberry.field(description="Requests left now.")
    reset_at: dt.datetime = strawberry.field(description="When the budget is full again.")


def rate_limit(info: strawberry.Info[Context]) -> RateLimit | None:
    state = info.context.rate_limit
    return RateLimit(**state) if state else None


@strawberry.type(description="The root of every query.")
class Query:
    rate_limit: RateLimit | None = strawberry.field(
        resolver=rate_limit,
        description="This client's request budget; null when rate limiting is off.",
    )
    version: str = strawberry.field(
        resolver=meta.version, description="Version of the kabinet server answering."
    )
    me: User | None = strawberry.field(
        resolver=auth.me, description="The logged-in cabinet; null when nobody is logged in."
    )
    account: Account | None = strawberry.field(
        resolver=accounts.account,
        description="One of the cabinet's accounts by id; null if there is no such account "
        "in this cabinet.",
    )
    node: Node | None = strawberry.field(
        resolver=node_fields.node, description=node_fields.NODE_DOC
    )
    nodes: list[Node | None] = strawberry.field(
        resolver=node_fields.nodes,
        description="`node` for each id, in the order given (null where `node` is null).",
    )
    receipt: Receipt | None = strawberry.field(
        resolver=node_fields.receipt,
        description="A receipt (bill) of the cabinet's accounts by id, for deep links; null "
        "if there is no such receipt the viewer may see (like `node`).",
    )
    meter_reading: MeterReading | None = strawberry.field(
        resolver=node_fields.meter_reading,
        description="A meter reading of the cabinet's accounts by id, for deep links; null "
        "if there is no such reading the viewer may see (like `node`).",
    )
    online_payment: OnlinePayment | None = strawberry.field(
        resolver=payments.online_payment,
        description="A payment made in this cabinet (payBill) by id, with its status; null "
        "if there is no such payment of this cabinet.",
    )
    payment_options: PaymentOptions = strawberry.field(
        resolver=payments.payment_options,
        description="Whether payBill takes payments online, and where else to pay; needs no login.",
    )
    payable_account: PayableAccount | None = strawberry.field(
        resolver=payments.payable_account,
        description="An account by the number on its bill, with just enough to check the "
        "payee before payAsGuest (masked holder, street); null for an unknown number. Needs "
        "no login; counted against the guest limits (GUEST_ATTEMPTS_PER_HOUR per client, "
        "GUEST_ATTEMPTS_PER_ACCOUNT per number): past them a top-level TOO_MANY_ATTEMPTS "
        "error with `extensions.retryAfter`.",
    )
    guest_payment: GuestPayment | None = strawberry.field(
        resolver=payments.guest_payment,
        description="How a payment made without logging in (payAsGuest) stands, by its "
        "status token; null for a damaged or expired token. Needs no login.",
    )
    privacy_notice: PrivacyNotice = strawberry.field(
        resolver=privacy.current_notice,
        description="The personal-data notice to show before register (its `version` goes "
        "into `acceptPrivacyNotice`), and for a logged-in customer whether they accepted "
        "it; needs no login.",
    )
    preview_meter_reading: PreviewMeterReadingPayload = strawberry.field(
        resolver=readings.preview_meter_reading,
        description="Every check of submitMeterReading and the estimated consumption and "
        "charge, storing nothing.",
    )
    question: Question | None = strawberry.field(
        resolver=questions.question,
        description="A question by id: for a customer one of their own, for a specialist any; "
        "null otherwise.",
    )
    staff_questions: Connection[Question] | None = strawberry.field(
        resolver=questions.staff_questions,
        permission_classes=[StaffOnly],
        description="Specialists only: the queue of questions, the customer who has waited "
        "longest first.",
    )
    specialists: list[Specialist] | None = strawberry.field(
        resolver=questions.specialists,
        permission_classes=[StaffOnly],
        description="Specialists only: every specialist, to assign questions to.",
    )


@strawberry.type(description="Everything that changes data.")
class Mutation:
    register = strawberry.mutation(
        resolver=auth.register,
        description="Create a cabinet for an account, proven by the amount of a recent "
        "payment; a verification link goes to the e-mail address.",
    )
    verify_email = strawberry.mutation(
        resolver=auth.verify_email,
        description="Confirm an e-mail address (after registration or changeEmail).",
    )
    resend_verification = strawberry.mutation(
        resolver=auth.resend_verification, description="Send the verification link again."
    )
    login = strawberry.mutation(
        resolver=auth.login, description="Log in; starts a session (cookie and token)."
    )
    accept_privacy_notice = strawberry.mutation(
        resolver=privacy.accept_privacy_notice,
        permission_classes=[CustomersOnly],
        description="Accept the current personal-data notice, after a new version of it was "
        "shown (`me.privacyNotice.accepted` is false); recorded in the security log "
        "(customers only).",
    )
    logout = strawberry.mutation(resolver=auth.logout, description="End this session.")
    logout_everywhere = strawberry.mutation(
        resolver=auth.logout_everywhere, description="End every session of the cabinet."
    )
    logout_other_devices = strawberry.mutation(
        resolver=auth.logout_other_devices,
        description="End every session of the cabinet except this one.",
    )
    revoke_session = strawberry.mutation(
        resolver=auth.revoke_session, description="End one session (another device)."
    )
    register_push_device = strawberry.mutation(
        resolver=notifications.register_push_device,
        description="Register this app installation for push notifications, bound to this "
        "session (it is removed when the session ends). Idempotent: the same token again "
        "refreshes it; a new token of the same session replaces the old one.",
    )
    unregister_push_device = strawberry.mutation(
        resolver=notifications.unregister_push_device,
        description="Stop push notifications to one of the cabinet's devices.",
    )
    set_notification_preferences = strawberry.mutation(
        resolver=notifications.set_notification_preferences,
        description="Turn events on or off by e-mail and by push; security notices stay on.",
    )
    request_password_reset = strawberry.mutation(
        resolver=auth.request_password_reset,
        description="Mail a link to set a new password, if the address has a cabinet.",
    )
    set_password = strawberry.mutation(
        resolver=auth.set_password,
        description="Set a new password with the token of an e-mailed link: a password "
        "reset, or the last step of a recovery without e-mail (which also moves the cabinet "
        "to the new address).",
    )
    start_recovery_without_email = strawberry.mutation(
        resolver=recovery.start_recovery_without_email,
        description="Recovery without e-mail, step 1: prove ownership of an account of the "
        "cabinet with the amount of a payment from the last year.",
    )
    confirm_new_email = strawberry.mutation(
        resolver=recovery.confirm_new_email,
        description="Recovery without e-mail, step 2: name the new address; a link to set the "
        "password goes there and the old address is told.",
    )
    change_password = strawberry.mutation(
        resolver=auth.change_password, description="Change the password."
    )
    set_mail_language = strawberry.mutation(
        resolver=auth.set_mail_language,
        description="Choose the language (ru or en) of every e-mail and push to the cabinet "
        "from now on; the web client also switches to it at login.",
    )
    change_email = strawberry.mutation(
        resolver=auth.change_email, description="Move the cabinet to another e-mail address."
    )
    delete_cabinet = strawberry.mutation(
        resolver=privacy.delete_cabinet,
        permission_classes=[CustomersOnly],
        description="Delete the cabinet (customers only), confirmed by its password: every "
        "session ends at once and the cabinet is erased after CABINET_DELETION_GRACE_DAYS "
        "unless cancelCabinetDeletion is called from a new login first. Readings and "
        "payments stay with the accounts, which become free to register again.",
    )
    cancel_cabinet_deletion = strawberry.mutation(
        resolver=privacy.cancel_cabinet_deletion,
        permission_classes=[CustomersOnly],
        description="Keep the cabinet whose deletion is pending (me.deletion).",
    )
    request_data_export = strawberry.mutation(
        resolver=privacy.request_data_export,
        permission_classes=[CustomersOnly],
        description="Ask for a copy of the cabinet's data (customers only, once a day): a ZIP "
        "is prepared in the background and a link valid DATA_EXPORT_LINK_HOURS is mailed.",
    )
    link_account = strawberry.mutation(
        resolver=accounts.link_account,
        permission_classes=[CustomersOnly],
        description="Add an account to the cabinet, proven by the amount of a recent payment "
        "(customers only).",
    )
    unlink_account = strawberry.mutation(
        resolver=accounts.unlink_account, description="Remove an account from the cabinet."
    )
    subscribe_e_receipt = strawberry.mutation(
        resolver=ereceipts.subscribe_e_receipt,
        name="subscribeEReceipt",
        description="Switch an account to the electronic receipt: each new bill is e-mailed "
        "as a PDF, to the cabinet's address or (once confirmed by a link) another one.",
    )
    unsubscribe_e_receipt = strawberry.mutation(
        resolver=ereceipts.unsubscribe_e_receipt,
        name="unsubscribeEReceipt",
        description="Stop the electronic receipt of an account.",
    )
    submit_meter_reading = strawberry.mutation(
        resolver=readings.submit_meter_reading,
        description="Submit a meter reading (in the monthly window); idempotent per "
        "idempotencyKey.",
    )
    submit_guest_meter_reading = strawberry.mutation(
        resolver=readings.submit_guest_meter_reading,
        description="Submit a meter reading without logging in, by the account number and "
        "the meter's serial: the checks of submitMeterReading, answers that tell nothing of "
        "the meter's history, stored with source GUEST; counted against the guest limits. "
        "Idempotent per idempotencyKey.",
    )
    pay_as_guest = strawberry.mutation(
        resolver=payments.pay_as_guest,
        description="Pay into any account by its number without logging in: a PENDING "
        "payment, the acquirer's page and a status token for guestPayment; the receipt goes "
        "to the given e-mail. Counted against the guest limits; idempotent per "
        "idempotencyKey.",
    )
    pay_bill = strawberry.mutation(
        resolver=payments.pay_bill,
        description="Start an online payment into an account: a PENDING payment and the "
        "acquirer's page to confirm it on; idempotent per idempotencyKey.",
    )
    enable_autopay = strawberry.mutation(
        resolver=payments.enable_autopay,
        description="Turn autopay on for an account: a first payment (answered as payBill "
        "answers) that saves the payment method; each new bill is then charged on the day "
        "after it comes, up to `maxAmount` a month. Idempotent per idempotencyKey.",
    )
    disable_autopay = strawberry.mutation(
        resolver=payments.disable_autopay,
        description="Turn autopay off for an account, at once: no bill is charged from now on.",
    )
    ask_question = strawberry.mutation(
        resolver=questions.ask_question,
        permission_classes=[CustomersOnly],
        description="Ask the company's specialists a question, about one of the cabinet's "
        "accounts or none, with up to 3 photos (customers only).",
    )
    reply_to_question = strawberry.mutation(
        resolver=questions.reply_to_question,
        permission_classes=[CustomersOnly],
        description="Write again in one of the cabinet's questions (customers only); an "
        "answered question waits for a specialist again.",
    )
    mark_question_read = strawberry.mutation(
        resolver=questions.mark_question_read,
        permission_classes=[CustomersOnly],
        description="The customer has read the answers of a question (customers only).",
    )
    close_question = strawberry.mutation(
        resolver=questions.close_question,
        description="Close a question: a customer one of their own, a specialist any.",
    )
    answer_question = strawberry.mutation(
        resolver=questions.answer_question,
        permission_classes=[StaffOnly],
        description="Specialists only: answer a question, with photos if any; the customer "
        "is told by e-mail.",
    )
    assign_question = strawberry.mutation(
        resolver=questions.assign_question,
        permission_classes=[StaffOnly],
        description="Specialists only: give a question to a specialist (or take it).",
    )
    unfreeze_cabinet = strawberry.mutation(
        resolver=auth.unfreeze_cabinet,
        permission_classes=[StaffOnly],
        description="Specialists only: lift the freeze of a cabinet whose owner said "
        '"this wasn\'t me", once they have checked it.',
    )
    reopen_question = strawberry.mutation(
        resolver=questions.reopen_question,
        permission_classes=[StaffOnly],
        description="Specialists only: open a closed question again (OPEN when the "
        "customer wrote last, else ANSWERED).",
    )


log = logging.getLogger("kabinet")


def _client_error(error: Exception) -> bool:
    """Errors raised for clients on purpose carry an `extensions.code`."""
    original = getattr(error, "original_error", None)
    return original is None or bool(getattr(original, "extensions", None))


class MaskUnexpected(MaskErrors):
    """Every error not meant for clients becomes "Unexpected error.", except a database
    that cannot be reached just now: that is SERVICE_UNAVAILABLE, which the endpoint
    answers with 503 and Retry-After (schema/http.py), and the client retries."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not _client_error(error))

    def _process_result(self, result: object) -> None:
        """MaskErrors' own, without its isinstance against a runtime-checkable Protocol
        (typing walks the protocol's attributes on every request: ~0.3% of a dashboard
        request, bench/request_profile.py); the same test, whether `errors` is there."""
        if errors := getattr(result, "errors", None):
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if db.outage_cause(error.original_error) is None:
            return super().anonymise_error(error)
        return GraphQLError(
            UNAVAILABLE_MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": SERVICE_UNAVAILABLE},
        )


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log what went wrong unexpectedly, with its traceback, for operators. Errors
        meant for clients (a bad argument, a refused query, UNAUTHENTICATED) are answers,
        not incidents: the metrics count them, the log does not repeat them. A database
        that is away is one warning line per request, not a traceback per field."""
        unexpected = [error for error in errors if not _client_error(error)]
        causes = [db.outage_cause(error.original_error) for error in unexpected]
        if outages := [cause for cause in causes if cause is not None]:
            log.warning("database unavailable: %s", db.describe_outage(outages[0]))
        unexpected = [e for e, cause in zip(unexpected, causes, strict=True) if cause is None]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with the limits of `settings`; production also hides introspection and
    the "did you mean" suggestions that would map the schema for an attacker."""
    production = settings.is_production
    # The limits' validation rules, made once: the validation cache keys its entries by the
    # rule classes too, and a limiter made per request makes new classes - never a cache
    # hit, and every request validated again (half the CPU of the dashboard query).
    rules = [
        *(
            coded(rule, "QUERY_TOO_DEEP")
            for rule in QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules
        ),
        *(
            coded(rule, "TOO_MANY_ALIASES")
            for rule in MaxAliasesLimiter(
                max_alias_count=settings.graphql_max_aliases
            ).validation_rules
        ),
        StorableTextRule,
    ]
    extensions: list = [
        lambda: DocumentLimits(settings.graphql_max_tokens, rules, settings.graphql_max_cost),
        MaskUnexpected,
        OperationMetrics,
    ]
    if production:
        extensions.append(DisableIntrospection)
    if tracing.enabled():  # after MaskUnexpected: the span sees the errors unmasked
        extensions.append(OperationTracing)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS, disable_field_suggestions=production),
        execution_context_class=EXECUTION_CONTEXTS[settings.graphql_executor],
        extensions=extensions,
    )


# The development schema: what schema.graphql records and what tests execute directly.
schema = build_schema(Settings())
