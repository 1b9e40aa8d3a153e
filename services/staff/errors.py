"""Why adding or changing a specialist (the staff command line) was refused."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class StaffError(ErrorCode):
    NAME_TOO_LONG = code(
        "The specialist's display name is longer than allowed.",
        Sentence(
            ru="Имя слишком длинное: не больше {max} символов.",
            en="The name is too long: at most {max} characters.",
        ),
    )
