"""The /graphql endpoint against the GraphQL-over-HTTP specification: the audits of the
GraphQL Foundation's graphql-http suite (their ids in the test names), and APQ."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

GQL = "application/graphql-response+json"
JSON = "application/json"
USES_VARIABLE = "query($n: Boolean!) { __typename @include(if: $n) }"
PARAMETER_TYPES = {"object": {"a": 1}, "number": 1, "boolean": True, "array": ["x"]}


async def post(client: httpx.AsyncClient, body: object, accept: str | None = GQL, **headers: str):
    sent = {"Content-Type": "application/json", **headers}
    if accept is not None:
        sent["Accept"] = accept
    return await client.post("/graphql", content=json.dumps(body), headers=sent)


def media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


# ---------------------------------------------------------------- media types


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GQL, GQL),  # 22EB
        (JSON, JSON),  # 4655
        ("*/*", JSON),  # 47DE
        (None, JSON),  # 80D8
        (f"{JSON};q=0.9, {GQL}", GQL),
        (f"{GQL};q=0.5, {JSON}", JSON),
    ],
)
async def test_accept_decides_the_media_type(client, accept, expected) -> None:
    response = await post(client, {"query": "{ __typename }"}, accept)
    assert response.status_code == 200
    assert media(response) == expected
    assert "charset=utf-8" in response.headers["content-type"]  # 82A3
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_unacceptable_media_type(client) -> None:
    response = await post(client, {"query": "{ __typename }"}, "text/csv")
    assert response.status_code == 406


async def test_utf8_requests(client) -> None:  # BF61, 78D5
    body = json.dumps({"query": "# Привет\n{ __typename }"}, ensure_ascii=False).encode()
    for content_type in ("application/json; charset=utf-8", "application/json"):
        response = await client.post(
            "/graphql", content=body, headers={"Content-Type": content_type, "Accept": GQL}
        )
        assert response.status_code == 200


# ---------------------------------------------------------------- methods and bodies


async def test_get_runs_queries_never_mutations(client) -> None:  # 5A70, 9C48
    query = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Accept": GQL}
    )
    assert query.status_code == 200 and query.json() == {"data": {"__typename": "Query"}}
    with_variables = await client.get(  # D6D5
        "/graphql",
        params={"query": USES_VARIABLE, "variables": json.dumps({"n": True})},
        headers={"Accept": GQL},
    )
    assert with_variables.status_code == 200
    mutation = await client.get(
        "/graphql",
        params={"query": "mutation { logout { endedSessions } }"},
        headers={"Accept": GQL},
    )
    assert mutation.status_code == 405
    assert mutation.headers["allow"] == "POST"


async def test_post_needs_json_and_a_body(client) -> None:
    no_type = await client.post("/graphql", content=b'{"query":"{ __typename }"}')
    assert 400 <= no_type.status_code < 500  # 9ABE
    form = await client.post(
        "/graphql",
        content=b"query=%7B__typename%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": GQL},
    )
    assert form.status_code == 415
    empty = await client.post(
        "/graphql", content=b"", headers={"Content-Type": "application/json", "Accept": GQL}
    )
    assert empty.status_code == 400  # 7267
    other = await client.request("PUT", "/graphql", json={"query": "{ __typename }"})
    assert other.status_code == 405


# ---------------------------------------------------------------- parameters


async def test_missing_query(client) -> None:
    modern = await post(client, {"notquery": "{ __typename }"})
    assert modern.status_code == 400 and "data" not in modern.json()  # 6610
    legacy = await post(client, {"notquery": "{ __typename }"}, JSON)
    assert legacy.status_code == 400 and legacy.json()["errors"]  # 3715, 8764, 3E3A


@pytest.mark.parametrize("name", ["query", "operationName", "variables", "extensions"])
@pytest.mark.parametrize("kind", ["string", "object", "number", "boolean", "array"])
async def test_parameter_types(client, name: str, kind: str) -> None:
    """4F5x/9FEx/LKJx (query), E3Ex/FB9x/6C0x (operationName), 69Bx/F05x/476x (variables),
    904x/368x/58Bx (extensions): a parameter of the wrong type is a 400 for every client."""
    wrong = {
        "query": kind != "string",
        "operationName": kind != "string",
        "variables": kind not in {"object"},
        "extensions": kind not in {"object"},
    }[name]
    value = (
        "{ __typename }"
        if kind == "string" and name == "query"
        else ("Q" if kind == "string" else PARAMETER_TYPES[kind])
    )
    body = {"query": "query Q { __typename }", name: value}
    modern = await post(client, body)
    legacy = await post(client, body, JSON)
    if wrong:
        assert modern.status_code == 400 and "data" not in modern.json()
        assert legacy.status_code == 400 and legacy.json()["errors"]
    else:
        assert modern.status_code == 200, modern.text
        assert legacy.status_code == 200


@pytest.mark.parametrize("name", ["variables", "operationName", "extensions"])
async def test_null_parameters_are_allowed(client, name: str) -> None:  # 94B0-2, 0220-2
    for accept in (GQL, JSON):
        response = await post(client, {"query": "{ __typename }", name: None}, accept)
        assert response.status_code == 200
        assert response.json() == {"data": {"__typename": "Query"}}


async def test_map_parameters(client) -> None:  # 2EA1, 28B9, 428F, 1B7A
    body = {"query": USES_VARIABLE, "variables": {"n": True}, "extensions": {"x": 1}}
    for accept in (GQL, JSON):
        assert (await post(client, body, accept)).status_code == 200


# ---------------------------------------------------------------- failures


async def test_json_parsing_failure(client) -> None:
    for accept, status in ((GQL, 400), (JSON, 400)):  # 2163/60AA, D477, BCF8
        response = await client.post(
            "/graphql",
            content=b'{"query": "{ __typ',
            headers={"Content-Type": JSON, "Accept": accept},
        )
        assert response.status_code == status
        assert response.json()["errors"]


async def test_document_parsing_failure(client) -> None:
    modern = await post(client, {"query": "{ __typename"})
    assert modern.status_code == 400 and "data" not in modern.json()  # 556A, D586
    assert modern.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    legacy = await post(client, {"query": "{ __typename"}, JSON)
    assert legacy.status_code == 200 and legacy.json()["errors"]  # 572B


async def test_document_validation_failure(client) -> None:
    modern = await post(client, {"query": "{ notAField }"})
    assert modern.status_code == 400 and "data" not in modern.json()  # 74FF, 5E5B
    assert modern.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    legacy = await post(client, {"query": "{ notAField }"}, JSON)
    assert legacy.status_code == 200 and legacy.json()["errors"]  # FDE2


async def test_variable_coercion_failure(client) -> None:  # 86EE
    body = {"query": USES_VARIABLE, "variables": {"n": "many"}}
    modern = await post(client, body)
    assert modern.status_code == 400 and "data" not in modern.json()
    [error] = modern.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == (
        "Variable '$n' has invalid value: Boolean cannot represent a non boolean value: 'many'"
    )


PREVIEW = """query Preview($i: PreviewMeterReadingInput!) {
  previewMeterReading(input: $i) { __typename } }"""


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        (
            {"i": {"meterId": "x", "values": [], "takenOn": "1 May"}},
            "is not a date in the form YYYY-MM-DD",
        ),
        ({"i": {"meterId": "x", "values": []}}, "to include required field 'takenOn'"),
        ({}, "Expected a value of non-null type"),
    ],
)
async def test_variable_errors_say_what_is_wrong(client, variables: dict, words: str) -> None:
    """A wrong-typed, missing or malformed variable, also of a custom scalar whose parser
    raises: BAD_USER_INPUT with graphql-core's words, never "Unexpected error."."""
    for accept, status in ((GQL, 400), (JSON, 200)):
        response = await post(client, {"query": PREVIEW, "variables": variables}, accept)
        assert response.status_code == status
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert words in error["message"], error


async def test_request_errors_are_coded_by_their_kind(client) -> None:
    """The code comes from what failed, not from the words of its message."""
    cases = [
        ("query($n: Int) { __typename }", None, "GRAPHQL_VALIDATION_FAILED"),  # never used
        ("{ __typename ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ notAField }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query A { version } query B { version }", "C", "OPERATION_RESOLUTION_FAILURE"),
    ]
    for query, operation, code in cases:
        body = {"query": query, "operationName": operation}
        response = await post(client, body)
        assert response.status_code == 400, response.text
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == code, (query, error)
        assert error["message"] != "Unexpected error."
    never_used = await post(client, {"query": "query($n: Int) { __typename }"})
    assert never_used.json()["errors"][0]["message"] == "Variable '$n' is never used."
    picked = await post(client, {"query": cases[-1][0], "operationName": "B"})
    assert picked.status_code == 200 and picked.json()["data"]["version"]


async def test_a_field_error_keeps_status_200(client) -> None:
    """An execution error is not a request error: data is there (null), so 200."""
    response = await post(client, {"query": "mutation { logout { endedSessions } }"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# ---------------------------------------------------------------- persisted queries


async def test_automatic_persisted_queries(client) -> None:
    query = "query Version { version }"
    sha = hashlib.sha256(query.encode()).hexdigest()
    hashed = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    unknown = await post(client, hashed, JSON)
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    registered = await post(client, {"query": query, **hashed})
    assert registered.status_code == 200 and registered.json()["data"]["version"]
    again = await post(client, hashed)
    assert again.json() == registered.json()
    over_get = await client.get(
        "/graphql", params={"extensions": json.dumps(hashed["extensions"])}, headers={"Accept": GQL}
    )
    assert over_get.json() == registered.json()


async def test_persisted_query_mistakes(client) -> None:
    wrong_hash = {
        "query": "{ version }",
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
    }
    response = await post(client, wrong_hash)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    other_version = {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}}
    response = await post(client, other_version)
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
    invalid = "{ notAField }"
    sha = hashlib.sha256(invalid.encode()).hexdigest()
    await post(
        client,
        {"query": invalid, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}},
    )
    only_hash = await post(
        client, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    )
    # a document that did not validate is never stored
    assert only_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
