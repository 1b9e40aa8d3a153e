"""What the customer reads: every error code as a sentence in Russian (default) and English."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from config import get_settings
from services.core.errors import RuleError

LANGUAGES = ("ru", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "INVALID_PROOF": {
        "ru": "Номер лицевого счёта и сумма платежа не совпадают с нашими данными. "
        "Проверьте номер по квитанции и укажите сумму любого платежа за последний год.",
        "en": "The account number and payment amount do not match our records. Check the "
        "number on your bill and enter the amount of any payment made in the last year.",
    },
    "NO_RECENT_PAYMENTS": {
        "ru": "По этому лицевому счёту не было платежей за последние {days} дней. Внесите "
        "минимальный платёж {minimal_payment} ₽ и повторите попытку, когда он поступит.",
        "en": "There have been no payments to this account in the last {days} days. Make a "
        "minimal payment of {minimal_payment} RUB and try again once it has arrived.",
    },
    "TOO_MANY_ATTEMPTS": {
        "ru": "Слишком много попыток. Повторите после {retry_after}.",
        "en": "Too many attempts. Try again after {retry_after}.",
    },
    "ALREADY_REGISTERED": {
        "ru": "Этот лицевой счёт уже подключён к личному кабинету. Войдите в кабинет или "
        "восстановите доступ к нему.",
        "en": "This account already belongs to a cabinet. Log in, or recover access to it.",
    },
    "ALREADY_LINKED": {
        "ru": "Этот лицевой счёт уже есть в вашем кабинете.",
        "en": "This account is already in your cabinet.",
    },
    "EMAIL_TAKEN": {
        "ru": "Этот адрес электронной почты уже используется другим кабинетом.",
        "en": "This e-mail address is already used by another cabinet.",
    },
    "SAME_EMAIL": {
        "ru": "Это и так адрес вашего кабинета.",
        "en": "This already is your cabinet's address.",
    },
    "INVALID_EMAIL": {
        "ru": "Проверьте адрес электронной почты: он записан с ошибкой.",
        "en": "Check the e-mail address: it is not valid.",
    },
    "INVALID_ACCOUNT_NUMBER": {
        "ru": "Номер лицевого счёта состоит только из цифр (до 20), как в квитанции.",
        "en": "An account number has digits only (up to 20), as printed on the bill.",
    },
    "INVALID_AMOUNT": {
        "ru": "Укажите сумму в рублях и копейках, например 1234,56.",
        "en": "Enter an amount in roubles and kopecks, e.g. 1234.56.",
    },
    "WEAK_PASSWORD.too_short": {
        "ru": "Пароль слишком короткий: нужно не меньше {min} символов.",
        "en": "The password is too short: use at least {min} characters.",
    },
    "WEAK_PASSWORD.too_long": {
        "ru": "Пароль слишком длинный: не больше {max} символов.",
        "en": "The password is too long: at most {max} characters.",
    },
    "WEAK_PASSWORD.common": {
        "ru": "Этот пароль слишком распространён, его легко подобрать. Придумайте другой.",
        "en": "This password is too common and easy to guess. Choose another one.",
    },
    "WEAK_PASSWORD.contains_personal": {
        "ru": "Пароль не должен содержать адрес почты, номер лицевого счёта или название компании.",
        "en": "The password must not contain your e-mail, account number or the company name.",
    },
    "INVALID_CREDENTIALS": {
        "ru": "Неверный адрес электронной почты или пароль.",
        "en": "Wrong e-mail address or password.",
    },
    "WRONG_PASSWORD": {
        "ru": "Текущий пароль указан неверно.",
        "en": "The current password is wrong.",
    },
    "INVALID_TOKEN": {
        "ru": "Ссылка недействительна: она уже использована, заменена более новой или "
        "повреждена. Запросите новую.",
        "en": "This link is not valid: it was used already, replaced by a newer one, or "
        "damaged. Request a new one.",
    },
    "EXPIRED_TOKEN": {
        "ru": "Срок действия ссылки истёк. Запросите новую.",
        "en": "This link has expired. Request a new one.",
    },
    "ALREADY_VERIFIED": {
        "ru": "Адрес электронной почты уже подтверждён.",
        "en": "The e-mail address is already confirmed.",
    },
    "NOT_FOUND": {
        "ru": "Не найдено.",
        "en": "Not found.",
    },
    "LAST_ACCOUNT": {
        "ru": "Это последний лицевой счёт кабинета, его нельзя отключить.",
        "en": "This is the cabinet's last account; it cannot be unlinked.",
    },
    "EMAIL_NOT_VERIFIED": {
        "ru": "Сначала подтвердите адрес кабинета по ссылке из письма (её можно запросить "
        "заново) или укажите другой адрес.",
        "en": "Confirm the cabinet's address first with the link we mailed (you can ask for "
        "it again), or give another address.",
    },
    "NO_CABINET": {
        "ru": "К этому лицевому счёту ещё не подключён личный кабинет: восстанавливать нечего. "
        "Зарегистрируйте кабинет с этим номером и суммой платежа.",
        "en": "No cabinet holds this account yet, so there is nothing to recover. Register a "
        "cabinet with this number and payment amount.",
    },
    # ---- meter readings (services/readings/rules.py)
    "MISSING_ZONE": {
        "ru": "Укажите показание зоны «{zone}».",
        "en": "Enter the value of the {zone} zone.",
    },
    "UNKNOWN_ZONE": {
        "ru": "У этого счётчика нет зоны {zone}: зон у него {zones}.",
        "en": "This meter has no zone {zone}: it has {zones} zone(s).",
    },
    "BAD_VALUE": {
        "ru": "Проверьте показание зоны «{zone}».",
        "en": "Check the value of the {zone} zone.",
    },
    "BAD_VALUE.not_a_number": {
        "ru": "Показание зоны «{zone}» должно быть числом, например 12345,6.",
        "en": "The value of the {zone} zone must be a number, e.g. 12345.6.",
    },
    "BAD_VALUE.negative": {
        "ru": "Показание зоны «{zone}» не может быть отрицательным.",
        "en": "The value of the {zone} zone cannot be negative.",
    },
    "BAD_VALUE.decimals": {
        "ru": "Показание зоны «{zone}»: не больше трёх знаков после запятой.",
        "en": "The value of the {zone} zone: at most three digits after the point.",
    },
    "BAD_VALUE.too_large": {
        "ru": "Показание зоны «{zone}» не помещается на счётчике: у него {digits} цифр до "
        "запятой. Переписывайте цифры до запятой, без ведущих лишних знаков.",
        "en": "The value of the {zone} zone does not fit the meter: it has {digits} digits "
        "before the point.",
    },
    "BAD_VALUE.repeated": {
        "ru": "Показание зоны «{zone}» указано дважды.",
        "en": "The value of the {zone} zone is given twice.",
    },
    "LOWER_THAN_PREVIOUS": {
        "ru": "Показание зоны «{zone}» меньше последнего принятого ({previous} на "
        "{previous_on}). Проверьте, верно ли переписаны цифры.",
        "en": "The value of the {zone} zone is lower than the last accepted one ({previous} "
        "on {previous_on}). Check the digits.",
    },
    "IMPLAUSIBLE_VALUE": {
        "ru": "Расход по зоне «{zone}» — {consumption} кВт·ч за {days} дн. — намного больше "
        "обычного (до {limit} кВт·ч). Проверьте показание; если оно верно, подтвердите его, "
        "и мы проверим его вручную.",
        "en": "The consumption of the {zone} zone, {consumption} kWh in {days} day(s), is far "
        "above the usual (up to {limit} kWh). Check the value; if it is right, confirm it and "
        "we will review it.",
    },
    "OUTSIDE_WINDOW": {
        "ru": "Сейчас показания не принимаются. Передайте их с {start} по {end}.",
        "en": "Readings are not accepted now. Submit them from {start} to {end}.",
    },
    "DATE_IN_FUTURE": {
        "ru": "Дата показаний не может быть позже сегодняшней ({today}).",
        "en": "The reading date cannot be later than today ({today}).",
    },
    "DATE_BEFORE_PREVIOUS": {
        "ru": "Дата показаний раньше даты последних принятых показаний ({previous_on}).",
        "en": "The reading date is before that of the last accepted reading ({previous_on}).",
    },
    "DATE_BEFORE_PREVIOUS.same_day": {
        "ru": "Показания за {previous_on} уже приняты. Укажите дату, когда сняты новые.",
        "en": "A reading of {previous_on} is accepted already. Give the date of the new one.",
    },
    "INVALID_IDEMPOTENCY_KEY": {
        "ru": "Ключ запроса (idempotencyKey) — от 1 до 64 видимых латинских символов.",
        "en": "The request key (idempotencyKey) is 1 to 64 visible ASCII characters.",
    },
    "IDEMPOTENCY_KEY_REUSED": {
        "ru": "Этот ключ запроса (idempotencyKey) уже использован для другого запроса.",
        "en": "This request key (idempotencyKey) was used for a different request.",
    },
    # ---- payments (services/payments/rules.py)
    "INVALID_AMOUNT.not_positive": {
        "ru": "Сумма платежа должна быть больше нуля.",
        "en": "The amount must be greater than zero.",
    },
    "AMOUNT_TOO_LARGE": {
        "ru": "Через личный кабинет можно оплатить не больше {max} ₽ за один платёж.",
        "en": "One payment in the cabinet can be at most {max} RUB.",
    },
    "PROVIDER_UNAVAILABLE": {
        "ru": "Платёжный сервис сейчас недоступен. Повторите попытку через несколько минут.",
        "en": "The payment service is unavailable now. Try again in a few minutes.",
    },
    # Questions to specialists and their photos.
    "SUBJECT_REQUIRED": {
        "ru": "Укажите тему вопроса.",
        "en": "Enter the subject of your question.",
    },
    "SUBJECT_TOO_LONG": {
        "ru": "Тема слишком длинная: не больше {max} символов.",
        "en": "The subject is too long: at most {max} characters.",
    },
    "BODY_REQUIRED": {
        "ru": "Напишите текст сообщения.",
        "en": "Write the text of your message.",
    },
    "BODY_TOO_LONG": {
        "ru": "Сообщение слишком длинное: не больше {max} символов.",
        "en": "The message is too long: at most {max} characters.",
    },
    "ACCOUNT_NOT_FOUND": {
        "ru": "Такого лицевого счёта нет в вашем кабинете.",
        "en": "There is no such account in your cabinet.",
    },
    "ATTACHMENT_NOT_FOUND": {
        "ru": "Фотография не найдена: загрузите её ещё раз.",
        "en": "The photo was not found: upload it again.",
    },
    "TOO_MANY_ATTACHMENTS": {
        "ru": "К одному сообщению можно приложить не больше {limit} фотографий.",
        "en": "A message can carry at most {limit} photos.",
    },
    "TOO_MANY_MESSAGES": {
        "ru": "Вы отправили много сообщений за сутки. Следующее можно отправить после "
        "{retry_after}.",
        "en": "You have sent many messages today. You can send the next one after {retry_after}.",
    },
    "QUESTION_CLOSED": {
        "ru": "Вопрос закрыт. Если нужна помощь, задайте новый вопрос.",
        "en": "This question is closed. If you need help, ask a new question.",
    },
    "SPECIALIST_NOT_FOUND": {
        "ru": "Такого специалиста нет.",
        "en": "There is no such specialist.",
    },
    "NAME_TOO_LONG": {
        "ru": "Имя слишком длинное: не больше {max} символов.",
        "en": "The name is too long: at most {max} characters.",
    },
    "ATTACHMENT_TOO_LARGE": {
        "ru": "Фотография слишком большая: не больше {max_mb} МБ.",
        "en": "The photo is too large: at most {max_mb} MB.",
    },
    "ATTACHMENT_NOT_IMAGE": {
        "ru": "Это не фотография: приложите снимок в формате JPEG или PNG.",
        "en": "This is not a photo: attach a JPEG or PNG picture.",
    },
    "TOO_MANY_PENDING_ATTACHMENTS": {
        "ru": "Загружено {limit} фотографий, которые ещё не отправлены. Отправьте их с "
        "вопросом: неотправленные удаляются через {hours} ч.",
        "en": "{limit} uploaded photos have not been sent yet. Send them with a question: "
        "unsent ones are deleted after {hours} h.",
    },
}

_QUALITY = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def language_from_header(header: str | None) -> str:
    """The best of ru/en for an Accept-Language header; Russian when nothing matches."""
    best, best_q = "ru", -1.0
    for part in (header or "").split(","):
        match = _QUALITY.match(part)
        if not match:
            continue
        lang = match[1].lower()
        try:
            q = float(match[2]) if match[2] else 1.0
        except ValueError:
            continue
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


def _local(moment: dt.datetime, language: str) -> str:
    local = moment.astimezone(ZoneInfo(get_settings().timezone))
    if language == "ru":
        return local.strftime("%H:%M %d.%m.%Y")
    return local.strftime("%Y-%m-%d %H:%M")


def _localized(value: object, language: str) -> object:
    """Dates as each language writes them; zone names (ZoneLabel) in the language."""
    localized = getattr(value, "localized", None)
    if callable(localized):
        return localized(language)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y") if language == "ru" else value.isoformat()
    return value


def message_for(error: RuleError, language: str) -> str:
    language = language if language in LANGUAGES else "ru"
    key = error.code
    reason = error.params.get("reason")
    if reason and f"{key}.{reason}" in MESSAGES:
        key = f"{key}.{reason}"
    texts = MESSAGES.get(key)
    if texts is None:
        return error.code
    params = {k: _localized(v, language) for k, v in error.params.items() if k != "reason"}
    if error.retry_after is not None:
        params["retry_after"] = _local(error.retry_after, language)
    try:
        return texts[language].format(**params)
    except (KeyError, IndexError):
        return texts[language]
