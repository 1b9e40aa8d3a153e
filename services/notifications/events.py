"""The events the customer is told about, and the channels each goes through."""

from __future__ import annotations

from enum import StrEnum

from models.push import NotificationChannel

EMAIL, PUSH = NotificationChannel.EMAIL, NotificationChannel.PUSH


class NotificationEvent(StrEnum):
    """The events; a push's `event` and its template's name in mail/templates/push/."""

    PAYMENT_SUCCEEDED = "payment_succeeded"  # an online payment went through
    PAYMENT_FAILED = "payment_failed"  # it failed or was canceled at the acquirer
    QUESTION_ANSWERED = "question_answered"  # a specialist answered a question
    NEW_LOGIN = "new_login"  # a login from a device the cabinet has not seen (security)
    EMAIL_CHANGED = "email_changed"  # the cabinet moved to another address (security)
    NEW_BILL = "new_bill"  # the billing import brought a new bill
    READING_WINDOW_OPEN = "reading_window_open"  # meter readings are accepted from today
    READING_WINDOW_CLOSING = "reading_window_closing"  # closes soon, nothing submitted yet
    AUTOPAY_CHARGED = "autopay_charged"  # autopay paid a bill
    AUTOPAY_REFUSED = "autopay_refused"  # the acquirer refused autopay's charge
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event, the password changed
    SESSIONS_ENDED = "sessions_ended"  # "end the other sessions" ended them (security)


# The channels each event goes through (a payment's failure is not mailed).
CHANNELS: dict[NotificationEvent, tuple[NotificationChannel, ...]] = {
    NotificationEvent.PAYMENT_SUCCEEDED: (EMAIL, PUSH),
    NotificationEvent.PAYMENT_FAILED: (PUSH,),
    NotificationEvent.QUESTION_ANSWERED: (EMAIL, PUSH),
    NotificationEvent.NEW_LOGIN: (PUSH,),
    NotificationEvent.EMAIL_CHANGED: (EMAIL, PUSH),
    # The bill's own mail is the e-receipt, an opt-in of its own (ereceipts): not this.
    NotificationEvent.NEW_BILL: (PUSH,),
    NotificationEvent.READING_WINDOW_OPEN: (PUSH,),
    NotificationEvent.READING_WINDOW_CLOSING: (PUSH,),
    NotificationEvent.AUTOPAY_CHARGED: (EMAIL, PUSH),
    NotificationEvent.AUTOPAY_REFUSED: (EMAIL, PUSH),
    NotificationEvent.PASSWORD_CHANGED: (EMAIL, PUSH),
    NotificationEvent.SESSIONS_ENDED: (PUSH,),
}
# Security notices: always sent, whatever the preferences say.
ALWAYS_ON = frozenset(
    {
        NotificationEvent.NEW_LOGIN,
        NotificationEvent.EMAIL_CHANGED,
        NotificationEvent.PASSWORD_CHANGED,
        NotificationEvent.SESSIONS_ENDED,
    }
)
