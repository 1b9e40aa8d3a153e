"""Why paying a bill in the cabinet was refused."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class PaymentError(ErrorCode):
    AMOUNT_TOO_LARGE = code(
        "The amount is above the limit of one payment in the cabinet (the message names it).",
        Sentence(
            ru="Через личный кабинет можно оплатить не больше {max} ₽ за один платёж.",
            en="One payment in the cabinet can be at most {max} RUB.",
        ),
    )
    PROVIDER_UNAVAILABLE = code(
        "The payment service cannot take the payment now: try again in a few minutes.",
        Sentence(
            ru="Платёжный сервис сейчас недоступен. Повторите попытку через несколько минут.",
            en="The payment service is unavailable now. Try again in a few minutes.",
        ),
    )
    PROVIDER_REFUSED = code(
        "The payment service refused to create the payment (its reason is in the server log).",
        Sentence(
            ru="Платёжный сервис отклонил платёж. Попробуйте позже или оплатите другим способом.",
            en="The payment service refused the payment. Try later or pay another way.",
        ),
    )
