"""Expected failures of business rules, turned into `userErrors` by the schema.

Every error code is a member of one `ErrorCode` enum: the codes a single domain raises live
beside its rules (`services/<domain>/errors.py`), those several domains share in `CoreError`
below. A member carries all the API says about it: its description (for the GraphQL enum
value) and the sentence the customer reads, in every language, with variants chosen by the
`reason` a rule gives (WEAK_PASSWORD: too_short, common...)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any


@dataclasses.dataclass(frozen=True)
class Sentence:
    """What the customer reads, in each language of `services.core.messages.LANGUAGES`;
    `{name}` placeholders are filled from the error's params."""

    ru: str
    en: str


def code(description: str, sentence: Sentence, **variants: Sentence) -> Any:
    """The value of an `ErrorCode` member: `NAME = code("what it means", Sentence(...))`.
    `variants` are sentences for the `reason`s a rule may give; without a matching one the
    customer reads `sentence`."""
    return enum.auto(), description, sentence, variants


class ErrorCode(enum.StrEnum):
    """An error code of the API. The value is the name, so a member is the very string
    clients branch on (`AccountError.INVALID_PROOF == "INVALID_PROOF"`)."""

    description: str
    sentence: Sentence
    variants: dict[str, Sentence]

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[Any]) -> str:
        return name

    def __new__(
        cls, value: str, description: str, sentence: Sentence, variants: dict[str, Sentence]
    ) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        member.sentence = sentence
        member.variants = variants
        return member

    def sentence_for(self, reason: str | None) -> Sentence:
        return self.variants.get(reason or "", self.sentence)


class CoreError(ErrorCode):
    """The codes that several domains raise, or that the shared utilities of core raise."""

    TOO_MANY_ATTEMPTS = code(
        "Too many attempts in a short time: this one was not tried. `retryAfter` says when "
        "the next will be accepted.",
        Sentence(
            ru="Слишком много попыток. Повторите после {retry_after}.",
            en="Too many attempts. Try again after {retry_after}.",
        ),
    )
    TOO_MANY_EMAILS = code(
        "The cabinet has caused as many e-mails as it may in an hour (MAIL_BUDGET_PER_CABINET): "
        "nothing was sent. `retryAfter` says when the next will be.",
        Sentence(
            ru="Слишком много писем за короткое время. Повторите после {retry_after}.",
            en="Too many e-mails in a short time. Try again after {retry_after}.",
        ),
    )
    NOT_FOUND = code(
        "The id in the input names nothing the viewer has: it does not exist, is not theirs, "
        "or is gone.",
        Sentence(ru="Не найдено.", en="Not found."),
    )
    INVALID_AMOUNT = code(
        'The amount cannot be read as roubles and kopecks ("1234,56", "1 234.56", "1234"), '
        "or is not above zero.",
        Sentence(
            ru="Укажите сумму в рублях и копейках, например 1234,56.",
            en="Enter an amount in roubles and kopecks, e.g. 1234.56.",
        ),
        not_positive=Sentence(
            ru="Сумма платежа должна быть больше нуля.",
            en="The amount must be greater than zero.",
        ),
    )
    INVALID_EMAIL = code(
        "The e-mail address is not a valid address.",
        Sentence(
            ru="Проверьте адрес электронной почты: он записан с ошибкой.",
            en="Check the e-mail address: it is not valid.",
        ),
    )
    EMAIL_TAKEN = code(
        "The e-mail address is already the address of another cabinet.",
        Sentence(
            ru="Этот адрес электронной почты уже используется другим кабинетом.",
            en="This e-mail address is already used by another cabinet.",
        ),
    )
    ALREADY_REGISTERED = code(
        "The account already belongs to another cabinet: its holder logs in there, or "
        "recovers access to it.",
        Sentence(
            ru="Этот лицевой счёт уже подключён к личному кабинету. Войдите в кабинет или "
            "восстановите доступ к нему.",
            en="This account already belongs to a cabinet. Log in, or recover access to it.",
        ),
    )
    INVALID_TOKEN = code(
        "The token (from an e-mailed link or an earlier step) is damaged, used already, or "
        "replaced by a newer one: ask for a new one.",
        Sentence(
            ru="Ссылка недействительна: она уже использована, заменена более новой или "
            "повреждена. Запросите новую.",
            en="This link is not valid: it was used already, replaced by a newer one, or "
            "damaged. Request a new one.",
        ),
    )
    EXPIRED_TOKEN = code(
        "The token was genuine but its time ran out: ask for a new one.",
        Sentence(
            ru="Срок действия ссылки истёк. Запросите новую.",
            en="This link has expired. Request a new one.",
        ),
    )
    INVALID_IDEMPOTENCY_KEY = code(
        "`idempotencyKey` is not 1 to 64 visible ASCII characters.",
        Sentence(
            ru="Ключ запроса (idempotencyKey) — от 1 до 64 видимых латинских символов.",
            en="The request key (idempotencyKey) is 1 to 64 visible ASCII characters.",
        ),
    )
    IDEMPOTENCY_KEY_REUSED = code(
        "`idempotencyKey` was used before for a request with other input: a retry must send "
        "the same input, a new request a new key.",
        Sentence(
            ru="Этот ключ запроса (idempotencyKey) уже использован для другого запроса.",
            en="This request key (idempotencyKey) was used for a different request.",
        ),
    )
    SPECIALIST_NOT_FOUND = code(
        "No specialist of the company has that id.",
        Sentence(ru="Такого специалиста нет.", en="There is no such specialist."),
    )


class RuleError(Exception):
    """A rule said no. `code` is the API's error code, `field` the input it concerns
    (a name, or a path such as ("values", "0", "value")),
    `params` fill the localized message (`reason` picks a variant of it);
    `retry_after` is set for throttling."""

    def __init__(
        self,
        code: ErrorCode,
        field: str | tuple[str, ...] | None = None,
        *,
        retry_after: dt.datetime | None = None,
        **params: Any,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.retry_after = retry_after
        self.params = params

    def __repr__(self) -> str:
        return f"RuleError({self.code!r}, field={self.field!r}, params={self.params!r})"


class NotAllowed(Exception):
    """The viewer's role may not do this at all (a customer asking for a staff field, a
    specialist acting as a customer): FORBIDDEN, not a userError."""


class RuleErrors(Exception):
    """Several input problems found at once, reported together."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__(", ".join(e.code for e in errors))
        self.errors = errors


def raise_all(errors: list[RuleError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise RuleErrors(errors)


class RequestError(ErrorCode):
    """The codes of a request refused as a whole, before anything of it ran: top-level
    errors (`errors[0].extensions.code`) with an HTTP status, not `userErrors`."""

    QUERY_TOO_LARGE = code(
        "The GraphQL document is longer than MAX_QUERY_BYTES (comments and whitespace "
        "count): HTTP 413. Send a shorter document.",
        Sentence(
            ru="Запрос слишком длинный: не больше {limit} байт.",
            en="The query is too long: at most {limit} bytes.",
        ),
    )
    JSON_TOO_DEEP = code(
        "The JSON of the request (its variables or extensions) nests deeper than "
        "MAX_JSON_DEPTH: HTTP 400.",
        Sentence(
            ru="Слишком глубокая вложенность JSON: не больше {limit} уровней.",
            en="The JSON nests too deep: at most {limit} levels.",
        ),
    )
    TOO_MANY_PERSISTED_QUERIES = code(
        "This client registered APQ_REGISTRATIONS_PER_HOUR new persisted queries in the last "
        "hour: this one was neither run nor stored (HTTP 429, `retryAfter`). Send the query "
        "without `extensions.persistedQuery`, or register it after `retryAfter`.",
        Sentence(
            ru="Слишком много новых сохранённых запросов. Повторите после {retry_after}.",
            en="Too many new persisted queries. Try again after {retry_after}.",
        ),
    )
