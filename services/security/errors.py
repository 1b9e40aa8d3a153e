"""Why a password was refused by the password policy (register, setPassword,
changePassword)."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class SecurityError(ErrorCode):
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
    CABINET_FROZEN = code(
        'The cabinet is frozen: its owner answered "this wasn\'t me" to a security notice. '
        "Login, recovery and password reset are refused until a specialist has checked the "
        "cabinet and unfrozen it; call support.",
        Sentence(
            ru="Кабинет заморожен по вашей просьбе: вход и восстановление доступа временно "
            "недоступны. Специалист свяжется с вами; позвонить нам можно по телефону поддержки.",
            en="The cabinet is frozen at your request: login and recovery are unavailable for "
            "now. A specialist will contact you; you can also call support.",
        ),
    )
