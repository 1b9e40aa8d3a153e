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


# The channels each event goes through (a payment's failure is not mailed).
CHANNELS: dict[NotificationEvent, tuple[NotificationChannel, ...]] = {
    NotificationEvent.PAYMENT_SUCCEEDED: (EMAIL, PUSH),
    NotificationEvent.PAYMENT_FAILED: (PUSH,),
    NotificationEvent.QUESTION_ANSWERED: (EMAIL, PUSH),
    NotificationEvent.NEW_LOGIN: (PUSH,),
    NotificationEvent.EMAIL_CHANGED: (EMAIL, PUSH),
}
# Security notices: always sent, whatever the preferences say.
ALWAYS_ON = frozenset({NotificationEvent.NEW_LOGIN, NotificationEvent.EMAIL_CHANGED})
