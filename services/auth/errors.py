"""Why registering, logging in, or changing a cabinet's password or address was refused."""

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
