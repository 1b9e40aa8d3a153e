"""Why recovering a cabinet without its e-mail address was refused."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class RecoveryError(ErrorCode):
    NO_CABINET = code(
        "No cabinet holds the account, so there is nothing to recover: register a cabinet "
        "with the account instead.",
        Sentence(
            ru="К этому лицевому счёту ещё не подключён личный кабинет: восстанавливать "
            "нечего. Зарегистрируйте кабинет с этим номером и суммой платежа.",
            en="No cabinet holds this account yet, so there is nothing to recover. Register "
            "a cabinet with this number and payment amount.",
        ),
    )
