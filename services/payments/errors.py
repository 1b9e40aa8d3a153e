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
        guest=Sentence(
            ru="Без входа в личный кабинет можно оплатить не больше {max} ₽ за один платёж.",
            en="One payment without logging in can be at most {max} RUB.",
        ),
    )
    AMOUNT_TOO_SMALL = code(
        "The amount is below the smallest payment taken without logging in "
        "(GUEST_MIN_AMOUNT; the message names it).",
        Sentence(
            ru="Без входа в личный кабинет можно оплатить не меньше {min} ₽.",
            en="A payment without logging in must be at least {min} RUB.",
        ),
    )
    PROVIDER_UNAVAILABLE = code(
        "The payment service cannot take the payment now: try again in a few minutes.",
        Sentence(
            ru="Платёжный сервис сейчас недоступен. Повторите попытку через несколько минут.",
            en="The payment service is unavailable now. Try again in a few minutes.",
        ),
    )
    PAYMENTS_UNAVAILABLE = code(
        "This deployment takes no payments online (PAYMENT_PROVIDER=none): nothing was "
        "created. The message says where else to pay: by the bill's bank details, at a bank "
        "or at the company's office; `paymentOptions` tells a client before it asks.",
        Sentence(
            ru="Оплата онлайн в личном кабинете не принимается. Оплатите счёт по QR-коду "
            "квитанции в приложении банка, в любом банке по реквизитам или в офисе "
            "{company}: {address}. Реквизиты: получатель {company}, ИНН {inn}, КПП {kpp}, "
            "р/с {account} в {bank}, БИК {bic}, к/с {correspondent}. Телефон: {phone}.",
            en="The cabinet takes no payments online. Pay the bill by its QR code in your "
            "bank's app, at any bank by the bank details, or at the office of {company}: "
            "{address}. Bank details: payee {company}, INN {inn}, KPP {kpp}, account "
            "{account} at {bank}, BIC {bic}, correspondent account {correspondent}. "
            "Phone: {phone}.",
        ),
    )
    PROVIDER_REFUSED = code(
        "The payment service refused to create the payment (its reason is in the server log).",
        Sentence(
            ru="Платёжный сервис отклонил платёж. Попробуйте позже или оплатите другим способом.",
            en="The payment service refused the payment. Try later or pay another way.",
        ),
    )
    AUTOPAY_NOT_SUPPORTED = code(
        "The payment service of this deployment cannot save a payment method, so autopay "
        "cannot be turned on: nothing was created. Pay each bill with payBill instead.",
        Sentence(
            ru="Автоплатёж недоступен: платёжный сервис не умеет сохранять способ оплаты. "
            "Оплачивайте счета вручную.",
            en="Autopay is not available: the payment service cannot save a payment method. "
            "Pay your bills by hand.",
        ),
    )
