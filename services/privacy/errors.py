"""Why deleting a cabinet, keeping it, or exporting its data was refused."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class PrivacyError(ErrorCode):
    DELETION_NOT_REQUESTED = code(
        "The cabinet has no deletion waiting to happen: there is nothing to cancel.",
        Sentence(
            ru="Удаление кабинета не запрашивалось.",
            en="No deletion of the cabinet was requested.",
        ),
    )
    TOO_MANY_EXPORTS = code(
        "The cabinet asked for an export of its data less than a day ago (one a day): "
        "`retryAfter` says when the next may be asked for.",
        Sentence(
            ru="Выгрузку данных можно запросить раз в сутки. Повторите после {retry_after}.",
            en="A data export can be requested once a day. Try again after {retry_after}.",
        ),
    )
