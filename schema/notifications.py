"""Push devices: the type `me.devices` lists, and registerPushDevice/unregisterPushDevice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from models import push as push_models
from resolvers import notifications as notification_resolvers
from resolvers.context import Context
from schema.enums import described_enum
from schema.errors import MutationInput, attempt, error_type
from schema.relay import encode_id
from services.core.errors import CoreError
from services.notifications import events
from services.notifications.errors import NotificationError

Info = strawberry.Info[Context]

PushPlatform = described_enum(
    push_models.PushPlatform,
    IOS="An iOS app: the token is the APNs device token (hexadecimal).",
    ANDROID="An Android app: the token is the FCM registration token.",
    WEB="A browser: the token is the FCM registration token of the web app.",
    description="Where a push device receives pushes from.",
)


@strawberry.type(
    description="An app installation that receives push notifications, bound to the session "
    "that registered it: it is removed when that session ends."
)
class PushDevice:
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    platform: PushPlatform = strawberry.field(description="iOS, Android or web.")
    token_ending: str = strawberry.field(
        description="The last 6 characters of the token, to tell devices apart; the token "
        "itself is never shown."
    )
    app_version: str = strawberry.field(description="The app's version, as registered.")
    locale: str = strawberry.field(description="Language of the pushes: ru or en.")
    created_at: dt.datetime = strawberry.field(description="First registration of the token.")
    last_seen_at: dt.datetime = strawberry.field(description="Last registration of the token.")

    @classmethod
    def from_model(cls, device: Any) -> PushDevice:
        return cls(
            id=encode_id("PushDevice", device.id),
            platform=PushPlatform(device.platform),
            token_ending=device.token[-6:],
            app_version=device.app_version,
            locale=device.locale,
            created_at=device.created_at,
            last_seen_at=device.last_seen_at,
        )


@strawberry.input(description="Register this app installation for push notifications.")
class RegisterPushDeviceInput:
    platform: PushPlatform = strawberry.field(description="IOS, ANDROID or WEB.")
    token: str = strawberry.field(
        description="The token from APNs (iOS, hexadecimal) or FCM (Android, web). Send it "
        "again whenever the app starts or the token changes."
    )
    app_version: str | None = strawberry.field(
        default=None, description='The app\'s version, e.g. "3.2.1"; at most 32 characters.'
    )
    locale: str | None = strawberry.field(
        default=None,
        description='Language of the pushes, e.g. "ru", "en" or "en-GB"; any language other '
        "than Russian and English gets Russian. Default: ru.",
    )


RegisterPushDeviceError = error_type(
    "RegisterPushDevice",
    [
        NotificationError.INVALID_PUSH_TOKEN,
        NotificationError.INVALID_APP_VERSION,
        NotificationError.INVALID_LOCALE,
    ],
)


@strawberry.type(description="The result of registerPushDevice.")
class RegisterPushDevicePayload:
    device: PushDevice | None = strawberry.field(
        default=None, description="The device, bound to this session."
    )
    user_errors: list[RegisterPushDeviceError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Stop push notifications to one device: give `id` or `token`.")
class UnregisterPushDeviceInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="Id of the device, from me.devices."
    )
    token: str | None = strawberry.field(
        default=None, description="The token it registered with (the app's own)."
    )


UnregisterPushDeviceError = error_type("UnregisterPushDevice", [CoreError.NOT_FOUND])


@strawberry.type(description="The result of unregisterPushDevice.")
class UnregisterPushDevicePayload:
    removed: bool = strawberry.field(default=False, description="The device is gone.")
    user_errors: list[UnregisterPushDeviceError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


async def register_push_device(
    info: Info, input: MutationInput[RegisterPushDeviceInput]
) -> RegisterPushDevicePayload:
    device, errors = await attempt(
        notification_resolvers.register_push_device(info, input),
        RegisterPushDeviceError,
        info.context.language,
    )
    return RegisterPushDevicePayload(
        device=PushDevice.from_model(device) if device is not None else None, user_errors=errors
    )


async def unregister_push_device(
    info: Info, input: MutationInput[UnregisterPushDeviceInput]
) -> UnregisterPushDevicePayload:
    _, errors = await attempt(
        notification_resolvers.unregister_push_device(info, input),
        UnregisterPushDeviceError,
        info.context.language,
    )
    return UnregisterPushDevicePayload(removed=not errors, user_errors=errors)


async def devices(cabinet_pk: int) -> list[PushDevice]:
    return [PushDevice.from_model(d) for d in await notification_resolvers.devices(cabinet_pk)]


# ---------------------------------------------------------------- preferences

NotificationEvent = described_enum(
    events.NotificationEvent,
    PAYMENT_SUCCEEDED="An online payment (payBill) went through: a receipt by e-mail, a push.",
    PAYMENT_FAILED="An online payment failed or was canceled at the acquirer: a push.",
    QUESTION_ANSWERED="A specialist answered a question: an e-mail, a push.",
    NEW_LOGIN="A login from a device the cabinet does not know: a push to the other "
    "devices. A security notice: always on.",
    EMAIL_CHANGED="The cabinet moved to another e-mail address: an e-mail to the old "
    "address, a push. A security notice: always on.",
    NEW_BILL="The billing import brought a new bill (deep link: the Receipt): a push. "
    "Its e-mail is the electronic receipt, an opt-in of its own (subscribeEReceipt).",
    READING_WINDOW_OPEN="The monthly window for meter readings opened (deep link: the "
    "Account): a push, once per account per window.",
    READING_WINDOW_CLOSING="The reading window closes soon and nothing was submitted for the "
    "account in it (deep link: the Account): a push, once per account per window.",
    AUTOPAY_CHARGED="Autopay paid a bill (deep link: the OnlinePayment): the receipt by "
    "e-mail, a push.",
    AUTOPAY_REFUSED="The bank refused autopay's charge (deep link: the OnlinePayment): an "
    "e-mail, a push.",
    PASSWORD_CHANGED="The password was changed: an e-mail, a push to the devices of the "  # noqa: S106
    "session that changed it (the others end with their sessions). A security notice: "
    "always on.",
    SESSIONS_ENDED="The other sessions were ended (logoutOtherDevices): a push to the "
    "devices of the session that stays. A security notice: always on.",
    description="What the customer is told about outside the app.",
)


@strawberry.type(description="Whether the customer wants one event by e-mail and by push.")
class NotificationPreference:
    event: NotificationEvent = strawberry.field(description="The event.")
    email: bool | None = strawberry.field(
        description="Sent by e-mail; null when the event is never mailed."
    )
    push: bool | None = strawberry.field(
        description="Pushed to the cabinet's devices; null when it is never pushed."
    )
    always_on: bool = strawberry.field(
        description="A security notice: it cannot be turned off (SECURITY.md 14-15)."
    )

    @classmethod
    def from_rule(cls, preference: Any) -> NotificationPreference:
        return cls(
            event=NotificationEvent(preference.event),
            email=preference.email,
            push=preference.push,
            always_on=preference.always_on,
        )


@strawberry.input(description="One event's channels to change; a null channel stays as it is.")
class NotificationPreferenceInput:
    event: NotificationEvent = strawberry.field(description="The event.")
    email: bool | None = strawberry.field(default=None, description="By e-mail, or not.")
    push: bool | None = strawberry.field(default=None, description="By push, or not.")


@strawberry.input(description="Turn events on or off, per channel.")
class SetNotificationPreferencesInput:
    preferences: list[NotificationPreferenceInput] = strawberry.field(
        description="The changes; events not named stay as they are."
    )


SetNotificationPreferencesError = error_type(
    "SetNotificationPreferences",
    [NotificationError.ALWAYS_ON, NotificationError.CHANNEL_NOT_AVAILABLE],
)


@strawberry.type(description="The result of setNotificationPreferences.")
class SetNotificationPreferencesPayload:
    preferences: list[NotificationPreference] | None = strawberry.field(
        default=None, description="Every event's preference after the change."
    )
    user_errors: list[SetNotificationPreferencesError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list,
        description="Why it was refused: then nothing changed. `field` is "
        '["preferences", index, "email" or "push"].',
    )


async def set_notification_preferences(
    info: Info, input: MutationInput[SetNotificationPreferencesInput]
) -> SetNotificationPreferencesPayload:
    done, errors = await attempt(
        notification_resolvers.set_notification_preferences(info, input),
        SetNotificationPreferencesError,
        info.context.language,
    )
    if done is None:
        return SetNotificationPreferencesPayload(user_errors=errors)
    return SetNotificationPreferencesPayload(
        preferences=[NotificationPreference.from_rule(p) for p in done]
    )


async def notification_preferences(cabinet_pk: int) -> list[NotificationPreference]:
    found = await notification_resolvers.notification_preferences(cabinet_pk)
    return [NotificationPreference.from_rule(p) for p in found]
