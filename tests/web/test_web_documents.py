"""Every GraphQL document of the web client is valid against the committed schema, so a
renamed field fails here rather than in a customer's browser. The documents are the
`gql`-tagged template literals of web/js (web/js/gql.js); `${NAME}` in one is the gql
fragment constant NAME of web/js, appended to the document. GraphQL Code Generator
reads the same literals (tests/web/test_codegen.py), so no document may hide in a
plain string: a test below fails on one."""

from __future__ import annotations

import re
from functools import cache

import pytest
from graphql import (
    FragmentDefinitionNode,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
)

from config import ROOT

SOURCES = sorted((ROOT / "web" / "js").rglob("*.js"))
COMMENT = re.compile(r"^\s*//.*$", re.M)
TAGGED = re.compile(r"gql`([^`]*)`")
CONSTANT = re.compile(r"const (\w+) = gql`([^`]*)`")
# A document anywhere but in a gql literal: a string that starts like one.
UNTAGGED = re.compile(r"(?<!gql)[`'\"]\s*(?:query|mutation|subscription|fragment)\b")


def code(source) -> str:
    return COMMENT.sub("", source.read_text())


def literals() -> list[tuple[str, str]]:
    """(source, text) of every gql literal, `${NAME}` replaced by the fragment NAME."""
    constants = {}
    for source in SOURCES:
        constants.update(CONSTANT.findall(code(source)))
    found = []
    for source in SOURCES:
        for text in TAGGED.findall(code(source)):
            text = re.sub(r"\$\{(\w+)\}", lambda m: constants[m.group(1)], text)
            found.append((str(source.relative_to(ROOT)), text))
    return found


def documents() -> list[tuple[str, str]]:
    """The operations (a fragment alone is checked within the documents that use it)."""
    return [
        (f"{where}: {text.split('(')[0].split('{')[0].strip()[:60]}", text)
        for where, text in literals()
        if any(isinstance(d, OperationDefinitionNode) for d in parse(text).definitions)
    ]


DOCUMENTS = documents()


def definition_names(kind: type) -> set[str]:
    """Names of the operations or fragments defined in the client's gql literals."""
    return {
        d.name.value
        for _, text in literals()
        for d in parse(text).definitions
        if isinstance(d, kind) and d.name
    }


OPERATION_NAMES = definition_names(OperationDefinitionNode)
FRAGMENT_NAMES = definition_names(FragmentDefinitionNode)


@cache
def schema():
    return build_schema((ROOT / "schema.graphql").read_text())


def test_the_client_has_documents() -> None:
    assert len(DOCUMENTS) >= 30


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_no_document_is_a_plain_string(source) -> None:
    """A document in '...' or an untagged `...` is checked by nobody: tag it with gql."""
    assert not UNTAGGED.findall(code(source)), f"{source.name}: write documents as gql`...`"


def test_every_operation_has_its_own_name() -> None:
    """Codegen names a document's types after its operation: an anonymous or repeated
    name would merge or lose them."""
    names = [
        d.name.value if d.name else None
        for _, text in DOCUMENTS
        for d in parse(text).definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    assert None not in names
    assert len(names) == len(set(names))


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
# which rule a password breaks, the minimal payment (register has no minimalPayment field),
# the largest amount one payment may have.
ERROR_TEXTS = {
    "LoginErrorCode": (["login"], set()),
    "RegisterErrorCode": (["register", "proof"], {"WEAK_PASSWORD", "NO_RECENT_PAYMENTS"}),
    "VerifyEmailErrorCode": (["verify"], set()),
    "RequestPasswordResetErrorCode": (["forgot"], set()),
    "StartRecoveryWithoutEmailErrorCode": (["recover", "proof"], set()),
    "ConfirmNewEmailErrorCode": (["recover"], set()),
    "SetPasswordErrorCode": (["setPassword"], {"WEAK_PASSWORD"}),
    "ResendVerificationErrorCode": (["layout"], set()),
    "PayBillErrorCode": (["pay"], {"AMOUNT_TOO_LARGE"}),
    "AcceptPrivacyNoticeErrorCode": (["privacy"], set()),
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
