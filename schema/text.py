"""Text that cannot be stored is refused before anything runs.

PostgreSQL's text holds no NUL (U+0000), and no UTF-8 encoder takes a lone surrogate
(U+D800-U+DFFF, which JSON's `\\ud800` escapes can still produce): such a string reaching
the database would fail the query mid-resolver. No customer types either, so a request
carrying one, in a variable or in a literal of the document, is answered as bad input
(`BAD_USER_INPUT`) before any resolver runs.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "Text must not contain NUL characters or unpaired surrogates."
CODE = "BAD_USER_INPUT"


def has_unstorable_text(value: Any) -> bool:
    """Whether any string in a JSON value (a request's variables) cannot be stored."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(has_unstorable_text(k) or has_unstorable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_unstorable_text(item) for item in value)
    return False


class StorableTextRule(ValidationRule):
    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if UNSTORABLE.search(node.value):
            self.report_error(GraphQLError(MESSAGE, node, extensions={"code": CODE}))
