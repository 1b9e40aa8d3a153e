"""Every GraphQL document of the web client is valid against the committed schema, so a
renamed field fails here rather than in a customer's browser. The documents are the
template strings of web/js that start with `query` or `mutation`; `${NAME}` in them is
the string constant NAME of web/js (`export const VIEWER_FIELDS = '...'`)."""

from __future__ import annotations

import re
from functools import cache

import pytest
from graphql import build_schema, parse, validate

from config import ROOT

SOURCES = sorted((ROOT / "web" / "js").rglob("*.js"))
CONSTANT = re.compile(r"const (\w+) = '([^']*)';")
DOCUMENT = re.compile(r"`\s*((?:query|mutation)\b[^`]*)`")


def documents() -> list[tuple[str, str]]:
    constants = {}
    for source in SOURCES:
        constants.update(CONSTANT.findall(source.read_text()))
    found = []
    for source in SOURCES:
        for text in DOCUMENT.findall(source.read_text()):
            text = re.sub(r"\$\{(\w+)\}", lambda m: constants[m.group(1)], text)
            found.append((f"{source.relative_to(ROOT)}: {text.split('(')[0][:60]}", text))
    return found


DOCUMENTS = documents()


@cache
def schema():
    return build_schema((ROOT / "schema.graphql").read_text())


def test_the_client_has_documents() -> None:
    assert len(DOCUMENTS) >= 8


@pytest.mark.parametrize(("where", "document"), DOCUMENTS, ids=[w for w, _ in DOCUMENTS])
def test_document_is_valid(where: str, document: str) -> None:
    errors = validate(schema(), parse(document))
    assert not errors, (where, [e.message for e in errors])


MESSAGES = re.compile(r"addMessages\(\{\s*ru: \{(.*?)\n  \},\s*en: \{(.*?)\n  \},\s*\}\);", re.S)
KEY = re.compile(r"^\s*'([\w.]+)':", re.M)


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_every_text_is_in_both_languages(source) -> None:
    """A page's addMessages has the same keys in Russian and English."""
    text = source.read_text()
    blocks = MESSAGES.findall(text)
    calls = re.findall(r"^addMessages\(\{", text, re.M)
    assert len(blocks) == len(calls), f"{source.name}: write addMessages as the other pages do"
    for ru, en in blocks:
        assert set(KEY.findall(ru)) == set(KEY.findall(en)), source.name


# Each refusal of the ways in reads as a sentence of the page's own (the prefixes its
# codeText tries), but for the codes whose server sentence says more than a page could:
# which rule a password breaks, the minimal payment (register has no minimalPayment field).
ERROR_TEXTS = {
    "LoginErrorCode": (["login"], set()),
    "RegisterErrorCode": (["register", "proof"], {"WEAK_PASSWORD", "NO_RECENT_PAYMENTS"}),
    "VerifyEmailErrorCode": (["verify"], set()),
    "RequestPasswordResetErrorCode": (["forgot"], set()),
    "StartRecoveryWithoutEmailErrorCode": (["recover", "proof"], set()),
    "ConfirmNewEmailErrorCode": (["recover"], set()),
    "SetPasswordErrorCode": (["setPassword"], {"WEAK_PASSWORD"}),
    "ResendVerificationErrorCode": (["layout"], set()),
}


@pytest.mark.parametrize("enum", ERROR_TEXTS)
def test_every_error_code_has_a_sentence(enum: str) -> None:
    prefixes, from_server = ERROR_TEXTS[enum]
    keys = set()
    for source in SOURCES:
        for ru, _en in MESSAGES.findall(source.read_text()):
            keys.update(KEY.findall(ru))
    missing = [
        code
        for code in schema().get_type(enum).values
        if code not in from_server and not any(f"{p}.{code}" in keys for p in prefixes)
    ]
    assert not missing, (enum, missing)
