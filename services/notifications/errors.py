"""Why a push device was refused (registerPushDevice, unregisterPushDevice)."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class NotificationError(ErrorCode):
    INVALID_PUSH_TOKEN = code(
        "The token is not one FCM or APNs hands out for that platform: empty, too long, or "
        "with characters no such token has (an iOS token is hexadecimal).",
        Sentence(
            ru="Токен для push-уведомлений не подходит для этой платформы.",
            en="The push notification token is not valid for this platform.",
        ),
    )
    INVALID_LOCALE = code(
        'The locale is not a language tag such as "ru", "en" or "ru-RU".',
        Sentence(
            ru="Язык уведомлений указан неверно: ожидается, например, ru или en.",
            en='The notification language is not valid: expected e.g. "ru" or "en".',
        ),
    )
    INVALID_APP_VERSION = code(
        "The app version is longer than 32 characters or has control characters.",
        Sentence(
            ru="Версия приложения указана неверно.",
            en="The app version is not valid.",
        ),
    )
    ALWAYS_ON = code(
        "A security notice (NEW_LOGIN, EMAIL_CHANGED) cannot be turned off.",
        Sentence(
            ru="Уведомления о безопасности отключить нельзя.",
            en="Security notices cannot be turned off.",
        ),
    )
    CHANNEL_NOT_AVAILABLE = code(
        "The event is never sent through this channel (its preference is null).",
        Sentence(
            ru="Это уведомление не отправляется таким способом.",
            en="This notification is not sent this way.",
        ),
    )
