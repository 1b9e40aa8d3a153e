"""Every GraphQL document of the web client is valid against the committed schema, so a
renamed field fails here rather than in a customer's browser. The documents are the
template strings of web/js that start with `query` or `mutation`; `${NAME}` in them is
the string constant NAME of web/js (`export const VIEWER_FIELDS = '...'`)."""

from __future__ import annotations

import re

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


def test_the_client_has_documents() -> None:
    assert len(DOCUMENTS) >= 8


@pytest.mark.parametrize(("where", "document"), DOCUMENTS, ids=[w for w, _ in DOCUMENTS])
def test_document_is_valid(where: str, document: str) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    errors = validate(schema, parse(document))
    assert not errors, (where, [e.message for e in errors])
