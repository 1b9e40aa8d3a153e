"""Why proving an account is yours, linking it or unlinking it was refused."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class AccountError(ErrorCode):
    INVALID_ACCOUNT_NUMBER = code(
        "The account number is not digits only (at most 20; spaces and dashes are dropped), "
        "as printed on the bill.",
        Sentence(
            ru="Номер лицевого счёта состоит только из цифр (до 20), как в квитанции.",
            en="An account number has digits only (up to 20), as printed on the bill.",
        ),
    )
    INVALID_PROOF = code(
        "No payment of that amount reached that account in the last year, or there is no "
        "such account: ownership is not proven.",
        Sentence(
            ru="Номер лицевого счёта и сумма платежа не совпадают с нашими данными. "
            "Проверьте номер по квитанции и укажите сумму любого платежа за последний год.",
            en="The account number and payment amount do not match our records. Check the "
            "number on your bill and enter the amount of any payment made in the last year.",
        ),
    )
    NO_RECENT_PAYMENTS = code(
        "The account had no payment at all in the proof window, so there is nothing to prove "
        "ownership with: make the minimal payment and try again once it has arrived.",
        Sentence(
            ru="По этому лицевому счёту не было платежей за последние {days} дней. Внесите "
            "минимальный платёж {minimal_payment} ₽ и повторите попытку, когда он поступит.",
            en="There have been no payments to this account in the last {days} days. Make a "
            "minimal payment of {minimal_payment} RUB and try again once it has arrived.",
        ),
    )
    ALREADY_LINKED = code(
        "The account is in the viewer's cabinet already.",
        Sentence(
            ru="Этот лицевой счёт уже есть в вашем кабинете.",
            en="This account is already in your cabinet.",
        ),
    )
    LAST_ACCOUNT = code(
        "The account is the cabinet's only one, and a cabinet keeps at least one.",
        Sentence(
            ru="Это последний лицевой счёт кабинета, его нельзя отключить.",
            en="This is the cabinet's last account; it cannot be unlinked.",
        ),
    )
