"""GraphQL over HTTP (the GraphQL Foundation's specification), with automatic persisted
queries (Apollo's APQ protocol).

- POST with `Content-Type: application/json` (UTF-8) runs queries and mutations; GET with
  URL parameters runs queries only (a mutation over GET is 405, `Allow: POST`).
- The response media type follows `Accept`: `application/graphql-response+json` when the
  client asks for it, else `application/json` (also for `*/*` or no Accept); anything
  else is 406.
- With `application/graphql-response+json`, a request that is not well-formed, a document
  that does not parse or validate, and variables that do not coerce answer 400 without a
  `data` entry; a response with `data` (even null) answers 200. With `application/json`
  every GraphQL response is 200, as legacy clients expect.
- Only one operation per request: a JSON array (batching) is refused.
- `extensions.persistedQuery = {version: 1, sha256Hash}` without `query` runs the query
  stored under that hash, or answers PERSISTED_QUERY_NOT_FOUND so the client sends the
  query with its hash, which is then stored (services.core.persisted_queries).
- When the database cannot be reached just now, the answer is 503 with `Retry-After`
  and one error, `extensions.code` SERVICE_UNAVAILABLE, without `data`: nothing of the
  operation can be trusted to have happened but what its idempotency key replays.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from config import Settings
from schema import http_cache, ide, text
from services.core import persisted_queries

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

ContextFactory = Callable[[Request, Response], Awaitable[Any]]

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The service is briefly unavailable: retry in a few seconds."
# A restart or a failover of PostgreSQL takes seconds; clients come back after this many.
UNAVAILABLE_RETRY_SECONDS = 5


class RequestProblem(Exception):
    """The HTTP request is not a well-formed GraphQL-over-HTTP request."""

    def __init__(self, message: str, status: int = 400, code: str = "BAD_REQUEST", **headers: str):
        super().__init__(message)
        self.message, self.status, self.code, self.headers = message, status, code, headers


@dataclass(frozen=True)
class Params:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with, or None when the client accepts neither."""
    if not accept:
        return JSON
    best, best_q = None, 0.0
    for part in accept.split(","):
        media, *options = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media == GRAPHQL_RESPONSE:
            candidate = GRAPHQL_RESPONSE
        elif media in {JSON, "application/*", "*/*"}:
            candidate = JSON
        else:
            continue
        # On a tie the spec's own media type wins.
        if q > best_q or (q == best_q and q > 0 and candidate == GRAPHQL_RESPONSE):
            best, best_q = candidate, q
    return best


def _field(data: dict[str, Any], name: str, kind: type, what: str) -> Any:
    value = data.get(name)
    if value is not None and not isinstance(value, kind):
        raise RequestProblem(f"`{name}` must be {what}")
    return value


def _params_from(data: Any) -> Params:
    if isinstance(data, list):
        raise RequestProblem("Batched requests are not supported: send one operation per request")
    if not isinstance(data, dict):
        raise RequestProblem("The request body must be a JSON object")
    variables = _field(data, "variables", dict, "an object")
    if text.has_unstorable_text(variables):
        raise RequestProblem(text.MESSAGE, code=text.CODE)
    return Params(
        query=_field(data, "query", str, "a string"),
        variables=variables,
        operation_name=_field(data, "operationName", str, "a string"),
        extensions=_field(data, "extensions", dict, "an object"),
    )


def _json_parameter(request: Request, name: str) -> Any:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise RequestProblem(f"`{name}` must be URL-encoded JSON") from None


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestProblem(f"The request body is larger than {limit} bytes", 413, "TOO_LARGE")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise RequestProblem(f"The request body is larger than {limit} bytes", 413, "TOO_LARGE")
    return bytes(body)


async def read_params(request: Request, max_bytes: int) -> Params:
    if request.method == "GET":
        return Params(
            query=request.query_params.get("query") or None,
            variables=_check_object(_json_parameter(request, "variables"), "variables"),
            operation_name=request.query_params.get("operationName") or None,
            extensions=_check_object(_json_parameter(request, "extensions"), "extensions"),
        )
    content_type = request.headers.get("content-type", "")
    media, *options = (piece.strip().lower() for piece in content_type.split(";"))
    if media != JSON:
        raise RequestProblem(
            "POST requests must be `Content-Type: application/json`", 415, "UNSUPPORTED_MEDIA_TYPE"
        )
    for option in options:
        name, _, value = option.partition("=")
        if name == "charset" and value.strip('"') not in {"utf-8", "utf8"}:
            raise RequestProblem("The request body must be UTF-8", 415, "UNSUPPORTED_MEDIA_TYPE")
    body = await _read_body(request, max_bytes)
    if not body:
        raise RequestProblem("The request has no body")
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise RequestProblem("The request body is not valid JSON") from None
    return _params_from(data)


def _check_object(value: Any, name: str) -> Any:
    if value is not None and not isinstance(value, dict):
        raise RequestProblem(f"`{name}` must be an object")
    return value


def _is_request_error(result: Any) -> bool:
    """Parse, validation and variable-coercion errors come before execution: no field
    was resolved, so no error has a path and there is no data."""
    return (
        result.data is None
        and bool(result.errors)
        and all(not error.path for error in result.errors)
    )


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def unavailable_response(media: str = JSON) -> Response:
    """503 for a database that is away: what every route answers then (also outside
    GraphQL, through the server's middleware)."""
    body = _error_body(UNAVAILABLE_MESSAGE, SERVICE_UNAVAILABLE)
    body["errors"][0]["extensions"]["retryAfter"] = UNAVAILABLE_RETRY_SECONDS
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=503,
        media_type=f"{media}; charset=utf-8",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_SECONDS), "Cache-Control": "no-store"},
    )


def _unavailable(result: Any) -> bool:
    return any(
        (error.extensions or {}).get("code") == SERVICE_UNAVAILABLE for error in result.errors or ()
    )


class GraphQLEndpoint:
    def __init__(self, schema: Any, settings: Settings, context: ContextFactory) -> None:
        self.schema = schema
        self.settings = settings
        self.context = context
        self.ide_html = ide.page(settings)

    def _answer(
        self,
        media: str,
        body: dict[str, Any],
        status: int,
        sub: Response | None = None,
        **headers: str,
    ) -> Response:
        response = Response(
            json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            status_code=status,
            media_type=f"{media}; charset=utf-8",
            headers={**headers, "Cache-Control": "no-store"},
        )
        if sub is not None:
            response.headers.raw.extend(
                (k, v)
                for k, v in sub.headers.raw
                if k.lower() not in {b"content-length", b"content-type"}
            )
        return response

    async def handle(self, request: Request) -> Response:
        if request.method not in {"GET", "POST"}:
            return Response(status_code=405, headers={"Allow": "GET, POST"})
        if ide.wanted(request) and (self.ide_html or not request.query_params):
            return ide.response(self.ide_html)  # production: 404, or the query's result
        media = negotiate(request.headers.get("accept"))
        if media is None:
            return self._answer(
                JSON,
                _error_body(
                    "Accept application/graphql-response+json or application/json", "NOT_ACCEPTABLE"
                ),
                406,
            )
        request_error_status = 400 if media == GRAPHQL_RESPONSE else 200
        try:
            params = await read_params(request, self.settings.max_request_bytes)
            query, new_hash = await persisted_queries.resolve(params.query, params.extensions)
        except RequestProblem as problem:
            status = problem.status if problem.status != 400 else request_error_status
            return self._answer(
                media, _error_body(problem.message, problem.code), status, **problem.headers
            )
        except persisted_queries.PersistedQueryProblem as problem:
            return self._answer(
                media, _error_body(problem.message, problem.code), request_error_status
            )
        if not query:
            return self._answer(
                media,
                _error_body("No GraphQL query found in the request", "BAD_REQUEST"),
                request_error_status,
            )

        sub = Response()
        context = await self.context(request, sub)
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        try:
            result = await self.schema.execute(
                query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError:
            return self._answer(
                media,
                _error_body("Mutations are not allowed over GET: use POST", "METHOD_NOT_ALLOWED"),
                405,
                Allow="POST",
            )
        if _unavailable(result):
            return unavailable_response(media)
        body: dict[str, Any] = {}
        if _is_request_error(result):
            status = request_error_status
            if media == JSON:
                body["data"] = None
        else:
            status = 200
            body["data"] = result.data
        if result.errors:
            body["errors"] = [_format(error) for error in result.errors]
        if result.extensions:
            body["extensions"] = result.extensions
        if new_hash is not None and status == 200 and not _is_request_error(result):
            await persisted_queries.remember(new_hash, query)
        answer = self._answer(media, body, status, sub)
        return http_cache.conditional(request, params.extensions, result, answer, self.settings)


def _format(error: GraphQLError) -> dict[str, Any]:
    """Every error carries a code; those graphql-core raises before execution get theirs
    from what failed: the parse, a variable's value, or a validation rule."""
    formatted = error.formatted
    extensions = formatted.get("extensions") or {}
    if "code" not in extensions and not error.path:
        formatted["extensions"] = {**extensions, "code": _request_error_code(error.message)}
    return formatted


# The limits of schema/root.py report in graphql-core's and Strawberry's words; clients
# branch on these codes instead (tests/api/test_hardening.py pins each).
_LIMIT_CODES = (
    ("Syntax Error: Document contains more than", "QUERY_TOO_LARGE"),
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found. Allowed", "TOO_MANY_ALIASES"),
)


def _request_error_code(message: str) -> str:
    for words, code in _LIMIT_CODES:
        if words in message:
            return code
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"
