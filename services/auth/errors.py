"""Why registering, logging in, accepting the personal-data notice, or changing a cabinet's
password or address was refused."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class AuthError(ErrorCode):
    INVALID_CREDENTIALS = code(
        "No cabinet has that e-mail address and password (which of the two is wrong is not told).",
        Sentence(
            ru="Неверный адрес электронной почты или пароль.",
            en="Wrong e-mail address or password.",
        ),
    )
    UNSUPPORTED_LANGUAGE = code(
        "The language is not one the company writes in: `ru` or `en`.",
        Sentence(
            ru="Письма можно получать на русском (ru) или английском (en).",
            en="Letters come in Russian (ru) or English (en).",
        ),
    )
    WRONG_PASSWORD = code(
        "The cabinet's current password, asked for to confirm the change, is wrong.",
        Sentence(
            ru="Текущий пароль указан неверно.",
            en="The current password is wrong.",
        ),
    )
    SAME_EMAIL = code(
        "The new address is the cabinet's address already.",
        Sentence(
            ru="Это и так адрес вашего кабинета.",
            en="This already is your cabinet's address.",
        ),
    )
    ALREADY_VERIFIED = code(
        "The cabinet's address is confirmed already: no link was sent.",
        Sentence(
            ru="Адрес электронной почты уже подтверждён.",
            en="The e-mail address is already confirmed.",
        ),
    )
    PRIVACY_NOTICE_NOT_ACCEPTED = code(
        "The current personal-data notice was not accepted: no version was given, or one that "
        "is no longer current (the notice changed since the client showed it). Nothing was "
        "done; the message names the current version and where to read it (`/privacy`). Show "
        "it and send its version (`privacyNotice.version`, or `acceptPrivacyNotice` of "
        "register).",
        Sentence(
            ru="Ознакомьтесь с уведомлением об обработке персональных данных (редакция от "
            "{version}: {url}) и подтвердите согласие с ним.",
            en="Read the personal data notice (version of {version}: {url}) and confirm that "
            "you accept it.",
        ),
    )
