"""Why the personal-data notice was not accepted."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class PrivacyError(ErrorCode):
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
