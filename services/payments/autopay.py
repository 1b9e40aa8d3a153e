"""Autopay's state and what a payment's outcome does to it.

An account's autopay (`models.payments.Autopay`) becomes active when its first payment -
the one `enableAutopay` starts with `save_payment_method` - succeeds and the acquirer
reports the method it saved (`after_payment`). Each bill is then charged once
(`services.payments.recurring`); what became of a charge arrives as any payment's outcome
does (the notification, the sweeper, or the acquirer's answer itself) and comes here:
a success resets the count of refusals and is pushed (its mail is the receipt's), a
refusal is mailed and pushed to the customer (as the preferences of AUTOPAY_CHARGED and
AUTOPAY_REFUSED say), and the second refusal in a row - or a permission the customer
revoked at the bank - turns autopay off (said in that refusal's mail and push).
`disable` is the customer's one step.

Called by `services.payments.rules` inside the transaction that moves the payment, so a
payment and what it does to autopay are written together or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from models.accounts import Account
from models.cabinets import Cabinet, CabinetAccount
from models.mail import MailLane
from models.payments import Autopay, AutopayCharge, ChargeState, OnlinePayment, PaymentStatus
from models.push import NotificationChannel
from payments.providers import Notification
from services.core.clock import now
from services.core.errors import CoreError, RuleError
from services.core.ids import encode_id
from services.core.money import format_rub
from services.notifications.events import NotificationEvent
from services.notifications.notices import notify
from services.notifications.preferences import wants
from services.notifications.push import announce
from services.payments.reasons import reason_text

log = logging.getLogger("kabinet.payments")

REFUSALS_TO_STOP = 2  # charges refused in a row before autopay turns itself off
REVOKED = "permission_revoked"  # the customer withdrew the permission at the bank


@dataclass(frozen=True)
class AutopayState:
    """What `Account.autopay` shows."""

    active: bool
    method: str | None  # the saved method's title while active
    max_amount: Decimal | None  # the monthly cap; None: never enabled
    active_since: object = None  # dt.datetime | None
    waiting: bool = False  # enabled, its first payment still pending

    @classmethod
    def of(cls, autopay: Autopay | None) -> AutopayState:
        """From a row loaded with its `setup_payment` (`autopays_of_accounts`)."""
        if autopay is None:
            return cls(False, None, None)
        active = autopay.active_since is not None
        setup = autopay.setup_payment
        return cls(
            active=active,
            method=autopay.method_title if active else None,
            max_amount=autopay.max_amount,
            active_since=autopay.active_since,
            waiting=not active and setup is not None and setup.status == PaymentStatus.PENDING,
        )


async def autopays_of_accounts(account_ids: list[int]) -> list[Autopay | None]:
    """The autopay of each account (None: never enabled, or enabled by a cabinet that no
    longer holds the account: its method is none of a new holder's business), for the
    API's loader."""
    rows = await Autopay.filter(account_id__in=account_ids).select_related("setup_payment")
    holders = set(
        await CabinetAccount.filter(account_id__in=account_ids).values_list(
            "cabinet_id", "account_id"
        )
    )
    by_account = {
        row.account_id: row  # type: ignore[attr-defined]
        for row in rows
        if (row.cabinet_id, row.account_id) in holders  # type: ignore[attr-defined]
    }
    return [by_account.get(a) for a in account_ids]


async def linked(cabinet: Cabinet, account_id: int | None) -> Account:
    link = None
    if account_id is not None:
        link = (
            await CabinetAccount.filter(cabinet_id=cabinet.id, account_id=account_id)
            .select_related("account")
            .first()
        )
    if link is None:
        raise RuleError(CoreError.NOT_FOUND, "accountId")
    return link.account


async def disable(cabinet: Cabinet, account_id: int | None) -> Account:
    """Turn the account's autopay off at once: no bill is charged from now on (a charge
    already started finishes, with the method it started with, so one the acquirer may
    have made is never lost track of). Nothing to turn off is no error."""
    account = await linked(cabinet, account_id)
    await Autopay.filter(account_id=account.id).update(
        active_since=None, method_id=None, method_title="", setup_payment_id=None, updated_at=now()
    )
    log.info("autopay of account %s turned off by cabinet %s", account.id, cabinet.id)
    return account


async def forget_cabinet(cabinet_id: int) -> int:
    """The cabinet is being erased (services.privacy.deletion, in its transaction): every
    autopay it set up is turned off and its saved method forgotten, and so is the method of
    each charge that is over. Charges not started are skipped, as for `disable`; a charge
    being sent keeps its method until it finishes (it may have been made)."""
    moment = now()
    autopay_ids = await Autopay.filter(cabinet_id=cabinet_id).values_list("id", flat=True)
    await (
        AutopayCharge.filter(autopay_id__in=list(autopay_ids))
        .exclude(state=ChargeState.SENDING)
        .update(method_id=None)
    )
    return await Autopay.filter(id__in=list(autopay_ids)).update(
        active_since=None, method_id=None, method_title="", setup_payment_id=None, updated_at=moment
    )


# ---------------------------------------------------------------- outcomes


async def after_payment(payment: OnlinePayment, event: Notification) -> None:
    """What a payment that just moved does to autopay (in the caller's transaction)."""
    if event.status == PaymentStatus.SUCCEEDED and event.saved_method is not None:
        await _activate(payment, event)
    charge = await AutopayCharge.get_or_none(payment_id=payment.id)
    if charge is None:
        return
    autopay = await Autopay.filter(id=charge.autopay_id).select_for_update().get()  # type: ignore[attr-defined]
    if event.status == PaymentStatus.SUCCEEDED:
        await AutopayCharge.filter(id=charge.id).update(outcome="paid")
        await Autopay.filter(id=autopay.id).update(refusals=0, updated_at=now())
        account = await Account.get(id=payment.account_id)  # type: ignore[attr-defined]
        await announce(
            autopay.cabinet_id,  # type: ignore[attr-defined]
            NotificationEvent.AUTOPAY_CHARGED,
            node_id=encode_id("OnlinePayment", payment.id),
            amount=format_rub(payment.amount),
            account_number=account.number,
            method=autopay.method_title,
        )
    else:
        await _refused(autopay, charge, payment, event.reason or event.status.value)


async def _activate(payment: OnlinePayment, event: Notification) -> None:
    method = event.saved_method
    assert method is not None
    moment = now()
    activated = await Autopay.filter(setup_payment_id=payment.id).update(
        method_id=method.id,
        method_title=method.title,
        active_since=moment,
        refusals=0,
        updated_at=moment,
    )
    if activated:
        log.info("autopay of account %s active with %s", payment.account_id, method.title)  # type: ignore[attr-defined]


async def _refused(
    autopay: Autopay, charge: AutopayCharge, payment: OnlinePayment, reason: str
) -> None:
    refusals = autopay.refusals + 1
    stop = autopay.active_since is not None and (refusals >= REFUSALS_TO_STOP or reason == REVOKED)
    changes: dict[str, object] = {"refusals": refusals, "updated_at": now()}
    if stop:
        changes |= {"active_since": None, "method_id": None, "setup_payment_id": None}
    await Autopay.filter(id=autopay.id).update(**changes)
    await AutopayCharge.filter(id=charge.id).update(outcome=f"refused:{reason}"[:64])
    cabinet = await Cabinet.get(id=autopay.cabinet_id)  # type: ignore[attr-defined]
    account = await Account.get(id=payment.account_id)  # type: ignore[attr-defined]
    event = NotificationEvent.AUTOPAY_REFUSED
    if await wants(cabinet.id, event, NotificationChannel.EMAIL):
        await notify(
            cabinet,
            "autopay_failed",
            lane=MailLane.ROUTINE,
            amount=format_rub(payment.amount),
            account_number=account.number,
            method=autopay.method_title,
            reason=reason_text(reason, cabinet.language),
            stopped=stop,
        )
    await announce(
        cabinet.id,
        event,
        node_id=encode_id("OnlinePayment", payment.id),
        amount=format_rub(payment.amount),
        account_number=account.number,
        method=autopay.method_title,
        stopped=stop,
    )
    log.warning(
        "autopay of account %s: charge %s refused (%s)%s",
        account.id,
        charge.id,
        reason,
        ", autopay turned off" if stop else "",
    )


async def charged_method(payment_id: int) -> str | None:
    """The method title an autopay charge was taken with; None: not an autopay charge."""
    charge = await AutopayCharge.get_or_none(payment_id=payment_id).select_related("autopay")
    return (charge.autopay.method_title or "") if charge is not None else None
