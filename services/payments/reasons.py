"""Why a payment did not go through, as the customer reads it (ru/en).

`online_payment.failure_reason` keeps the acquirer's own code - YooKassa's
`cancellation_details.reason` - or ours (`timeout`, or the status when no reason came);
the API shows the sentence in the viewer's language, and a code we do not know as the
general one."""

from __future__ import annotations

from services.core.errors import Sentence

GENERAL = Sentence(
    ru="Платёж не прошёл. Попробуйте ещё раз или выберите другой способ оплаты.",
    en="The payment did not go through. Try again or choose another way to pay.",
)

REASONS: dict[str, Sentence] = {
    "timeout": Sentence(
        ru="Платёж не был подтверждён вовремя.", en="The payment was not confirmed in time."
    ),
    "expired_on_confirmation": Sentence(
        ru="Платёж не был подтверждён вовремя.", en="The payment was not confirmed in time."
    ),
    "canceled": Sentence(ru="Платёж отменён.", en="The payment was canceled."),
    "canceled_by_merchant": Sentence(ru="Платёж отменён.", en="The payment was canceled."),
    "insufficient_funds": Sentence(
        ru="Недостаточно денег для оплаты.", en="There is not enough money to pay."
    ),
    "3d_secure_failed": Sentence(
        ru="Не пройдена проверка 3-D Secure: код не введён или введён неверно.",
        en="The 3-D Secure check failed: the code was not entered or was wrong.",
    ),
    "call_issuer": Sentence(
        ru="Банк отклонил платёж. Позвоните в свой банк.",
        en="Your bank declined the payment. Call your bank.",
    ),
    "card_expired": Sentence(ru="Срок действия карты истёк.", en="The card has expired."),
    "invalid_card_number": Sentence(ru="Неверный номер карты.", en="The card number is wrong."),
    "invalid_csc": Sentence(
        ru="Неверный код CVV2 (CVC2, CID).", en="The CVV2 (CVC2, CID) code is wrong."
    ),
    "issuer_unavailable": Sentence(
        ru="Банк недоступен. Попробуйте позже.",
        en="Your bank is unavailable. Try again later.",
    ),
    "payment_method_limit_exceeded": Sentence(
        ru="Превышен лимит платежей для этого способа оплаты.",
        en="The limit of payments by this method is exceeded.",
    ),
    "payment_method_restricted": Sentence(
        ru="Операции этим способом оплаты запрещены.",
        en="Payments by this method are not allowed.",
    ),
    "fraud_suspected": Sentence(
        ru="Платёж заблокирован из-за подозрения в мошенничестве.",
        en="The payment was blocked as suspected fraud.",
    ),
    "country_forbidden": Sentence(
        ru="Оплата картой, выпущенной в этой стране, невозможна.",
        en="Cards issued in this country cannot be used.",
    ),
}


def reason_text(code: str, language: str) -> str:
    sentence = REASONS.get(code, GENERAL)
    return sentence.en if language == "en" else sentence.ru
