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
    PROOF_NO_LONGER_HOLDS = code(
        "The account proven at the start of the recovery is no longer in the cabinet (it was "
        "unlinked meanwhile), so the proof no longer stands for it: start the recovery again.",
        Sentence(
            ru="Лицевой счёт, которым вы подтвердили владение, больше не подключён к этому "
            "кабинету. Начните восстановление заново.",
            en="The account you proved ownership with is no longer in this cabinet. Start "
            "the recovery again.",
        ),
    )
