"""Why registering, logging in, or changing a cabinet's password or address was refused."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class AuthError(ErrorCode):
    WEAK_PASSWORD = code(
        "The new password breaks the password policy: too short, too long, too common, or "
        "it contains the e-mail, an account number or the company name (`message` says which).",
        Sentence(
            ru="Пароль слишком простой, его легко подобрать. Придумайте другой.",
            en="The password is too weak and easy to guess. Choose another one.",
        ),
        too_short=Sentence(
            ru="Пароль слишком короткий: нужно не меньше {min} символов.",
            en="The password is too short: use at least {min} characters.",
        ),
        too_long=Sentence(
            ru="Пароль слишком длинный: не больше {max} символов.",
            en="The password is too long: at most {max} characters.",
        ),
        common=Sentence(
            ru="Этот пароль слишком распространён, его легко подобрать. Придумайте другой.",
            en="This password is too common and easy to guess. Choose another one.",
        ),
        contains_personal=Sentence(
            ru="Пароль не должен содержать адрес почты, номер лицевого счёта или название "
            "компании.",
            en="The password must not contain your e-mail, account number or the company name.",
        ),
    )
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
