"""GraphQL Code Generator - a tool the client teams use and nobody here wrote - reads
schema.graphql and the web client's documents (tools/codegen/codegen.yml) and generates
TypeScript from them. The test runs it as a client team would and checks the two things
that went wrong before: custom scalars came out as `unknown`, and codegen found none of the
client's documents. `make test` installs the tool (`npm ci` in tools/codegen)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from graphql import OperationDefinitionNode, parse

from config import ROOT
from schema.root import schema
from tests.web.test_web_documents import DOCUMENTS, FRAGMENT_NAMES

TOOL = ROOT / "tools" / "codegen"
BIN = TOOL / "node_modules" / ".bin" / "graphql-codegen"


@pytest.fixture(scope="module")
def types(tmp_path_factory) -> str:
    """The TypeScript that codegen writes."""
    if not BIN.exists():
        pytest.fail(
            "GraphQL Code Generator is not installed: run `make tools/codegen/node_modules/.installed`"
        )
    out = tmp_path_factory.mktemp("codegen")
    run = subprocess.run(
        [str(BIN), "--config", "codegen.yml"],
        cwd=TOOL,
        env={**os.environ, "CODEGEN_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return (out / "types.ts").read_text()


def custom_scalars() -> list[str]:
    return sorted(
        name
        for name, kind in schema._schema.type_map.items()
        if kind.__class__.__name__ == "GraphQLScalarType"
        and name not in {"String", "Int", "Float", "Boolean", "ID"}
    )


def test_the_schema_has_custom_scalars() -> None:
    assert {"DateTime", "Date", "Money"} <= set(custom_scalars())


@pytest.mark.parametrize("scalar", custom_scalars())
def test_every_custom_scalar_is_a_string(types: str, scalar: str) -> None:
    """Each one crosses the wire as a JSON string in its documented format, so a client's
    type for it is `string`, never `unknown` or `any`."""
    line = re.search(rf"^\s*{scalar}: (.*)$", types.split("export type Scalars = {")[1], re.M)
    assert line, f"codegen wrote no type for {scalar}"
    assert line.group(1) == "{ input: string; output: string; }", line.group(0)


def test_codegen_found_every_document(types: str) -> None:
    """Each operation and fragment of the client has its generated type, and codegen found
    no document the document test does not check."""
    expected = {
        f"{d.name.value}{d.operation.value.capitalize()}"
        for _, text in DOCUMENTS
        for d in parse(text).definitions
        if isinstance(d, OperationDefinitionNode)
    }
    variables = set(re.findall(r"^export type (\w+)Variables = ", types, re.M))
    assert variables == expected
    fragments = set(re.findall(r"^export type (\w+)Fragment = ", types, re.M))
    assert fragments == FRAGMENT_NAMES
