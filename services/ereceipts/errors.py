"""Why switching an account to bills by e-mail was refused."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class EReceiptError(ErrorCode):
    EMAIL_NOT_VERIFIED = code(
        "The bills would go to the cabinet's own address, which is not confirmed yet: "
        "confirm it with the e-mailed link (resendVerification), or give another address.",
        Sentence(
            ru="Сначала подтвердите адрес кабинета по ссылке из письма (её можно запросить "
            "заново) или укажите другой адрес.",
            en="Confirm the cabinet's address first with the link we mailed (you can ask for "
            "it again), or give another address.",
        ),
    )
