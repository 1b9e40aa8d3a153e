"""GraphQL over HTTP (the GraphQL Foundation's specification), with automatic persisted
queries (Apollo's APQ protocol).

- POST with `Content-Type: application/json` (UTF-8) runs queries and mutations; GET with
  URL parameters runs queries only (a mutation over GET is 405, `Allow: POST`).
- The response media type follows `Accept`: `application/graphql-response+json` when the
  client asks for it, else `application/json` (also for `*/*` or no Accept); anything
  else is 406.
- A request that is not well-formed (a body that is not JSON, a `query` that is not a
  string, `variables` that are not an object, no query at all) is 400 for every client.
- With `application/graphql-response+json`, a document that does not parse or validate,
  and variables that do not coerce answer 400 without a `data` entry; a response with
  `data` (even null) answers 200. With `application/json` every GraphQL response is 200,
  as legacy clients expect.
- Only one operation per request: a JSON array (batching) is refused.
- `extensions.persistedQuery = {version: 1, sha256Hash}` without `query` runs the query
  stored under that hash, or answers PERSISTED_QUERY_NOT_FOUND so the client sends the
  query with its hash, which is then stored (services.core.persisted_queries).
- A bearer token or session cookie that is no live session is a top-level
  UNAUTHENTICATED with `extensions.reason` EXPIRED, REVOKED or INVALID: 401 for
  `application/graphql-response+json`, 200 for `application/json`; a dead cookie is
  deleted. No token at all is an anonymous request.
- Before anything is parsed, cached or persisted: a document over MAX_QUERY_BYTES is
  413 QUERY_TOO_LARGE, variables or extensions nested deeper than MAX_JSON_DEPTH are 400
  JSON_TOO_DEEP, and a client past its APQ_REGISTRATIONS_PER_HOUR new persisted queries
  is 429 TOO_MANY_PERSISTED_QUERIES (the typed codes of services.core.errors.RequestError).
- When the database cannot be reached just now, the answer is 503 with `Retry-After`
  and one error, `extensions.code` SERVICE_UNAVAILABLE, without `data`: nothing of the
  operation can be trusted to have happened but what its idempotency key replays.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from config import Settings
from schema import http_cache, ide, text
from services.core import persisted_queries
from services.core.clock import now
from services.core.errors import RequestError, RuleError
from services.core.messages import language_from_header, message_for

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

ContextFactory = Callable[[Request, Response], Awaitable[Any]]

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
# Apollo's code for a document that parsed and validated but names no operation to run.
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
UNAVAILABLE_MESSAGE = "The service is briefly unavailable: retry in a few seconds."
# A restart or a failover of PostgreSQL takes seconds; clients come back after this many.
UNAVAILABLE_RETRY_SECONDS = 5


class RequestProblem(Exception):
    """The HTTP request is not a well-formed GraphQL-over-HTTP request; with `status`
    None it is, but a variable's value is refused (400 or 200 by media type, as variables
    that do not coerce)."""

    def __init__(
        self, message: str, status: int | None = 400, code: str = "BAD_REQUEST", **headers: str
    ):
        super().__init__(message)
        self.message, self.status, self.code, self.headers = message, status, code, headers


# The HTTP status of each refusal of a request as a whole.
REFUSAL_STATUS = {
    RequestError.QUERY_TOO_LARGE: 413,
    RequestError.JSON_TOO_DEEP: 400,
    RequestError.TOO_MANY_PERSISTED_QUERIES: 429,
}


def registration_key(context: Any) -> str:
    """Whose budget a new persisted query counts on: the client's address (an IPv6
    client by its /64)."""
    return context.client.limit_key


def check_document_size(query: str | None, limit: int) -> None:
    """Comments and whitespace are no tokens, so only the length bounds what a document
    costs to keep (parser and validation caches, persisted queries)."""
    if query is not None and (len(query) > limit or len(query.encode("utf-8")) > limit):
        raise RuleError(RequestError.QUERY_TOO_LARGE, limit=limit)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether JSON nests more than `limit` arrays and objects (the value itself is 1)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _json(raw: str | bytes, max_depth: int, problem: str) -> Any:
    """JSON text as Python; nesting too deep for the decoder's recursion is JSON_TOO_DEEP,
    not a RecursionError (a 500)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise RuleError(RequestError.JSON_TOO_DEEP, limit=max_depth) from None
    except (ValueError, UnicodeDecodeError):
        raise RequestProblem(problem) from None


def _check_depth(params: Params, max_depth: int) -> Params:
    for value in (params.variables, params.extensions):
        if value is not None and _deeper_than(value, max_depth):
            raise RuleError(RequestError.JSON_TOO_DEEP, limit=max_depth)
    return params


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


def _params_from(data: Any, max_depth: int) -> Params:
    if isinstance(data, list):
        raise RequestProblem("Batched requests are not supported: send one operation per request")
    if not isinstance(data, dict):
        raise RequestProblem("The request body must be a JSON object")
    params = Params(
        query=_field(data, "query", str, "a string"),
        variables=_field(data, "variables", dict, "an object"),
        operation_name=_field(data, "operationName", str, "a string"),
        extensions=_field(data, "extensions", dict, "an object"),
    )
    _check_depth(params, max_depth)
    if text.has_unstorable_text(params.variables):
        raise RequestProblem(text.MESSAGE, None, code=text.CODE)
    return params


def _json_parameter(request: Request, name: str, max_depth: int) -> Any:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    return _json(raw, max_depth, f"`{name}` must be URL-encoded JSON")


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


async def read_params(request: Request, settings: Settings) -> Params:
    depth = settings.max_json_depth
    if request.method == "GET":
        params = Params(
            query=request.query_params.get("query") or None,
            variables=_check_object(_json_parameter(request, "variables", depth), "variables"),
            operation_name=request.query_params.get("operationName") or None,
            extensions=_check_object(_json_parameter(request, "extensions", depth), "extensions"),
        )
        return _check_depth(params, depth)
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
    body = await _read_body(request, settings.max_request_bytes)
    if not body:
        raise RequestProblem("The request has no body")
    data = _json(body, depth, "The request body is not valid JSON")
    return _params_from(data, depth)


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

    def _refuse(self, media: str, refusal: RuleError, request: Request) -> Response:
        """A request refused as a whole by a typed RequestError, in the client's language."""
        language = language_from_header(request.headers.get("accept-language"))
        body = _error_body(message_for(refusal, language), refusal.code)
        headers = {}
        if refusal.retry_after is not None:
            wait = max(math.ceil((refusal.retry_after - now()) / dt.timedelta(seconds=1)), 1)
            body["errors"][0]["extensions"]["retryAfter"] = wait
            headers["Retry-After"] = str(wait)
        return self._answer(media, body, REFUSAL_STATUS[refusal.code], **headers)

    def _unauthenticated(self, media: str, dead: GraphQLError, sub: Response) -> Response:
        """A dead token is refused, not taken for no token, so an app's re-login fires:
        401 for the spec's media type (200 for legacy JSON clients), the cookie deleted."""
        status = 401 if media == GRAPHQL_RESPONSE else 200
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else {}
        return self._answer(media, {"errors": [dead.formatted]}, status, sub, **headers)

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
        sub = Response()
        try:
            params = await read_params(request, self.settings)
            check_document_size(params.query, self.settings.max_query_bytes)
            context = await self.context(request, sub)
            if dead := await context.dead_session():
                return self._unauthenticated(media, dead, sub)
            query, new_hash = await persisted_queries.resolve(
                params.query, params.extensions, registration_key(context)
            )
            check_document_size(query, self.settings.max_query_bytes)  # stored before the limit
        except RuleError as refusal:
            return self._refuse(media, refusal, request)
        except RequestProblem as problem:
            status = problem.status or request_error_status
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
                400,
            )

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
        except CannotGetOperationTypeError as error:
            message = (
                f'Unknown operation named "{error.operation_name}".'
                if error.operation_name
                else "Must provide operation name if query contains multiple operations."
            )
            return self._answer(
                media, _error_body(message, OPERATION_RESOLUTION_FAILURE), request_error_status
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
    """Every error carries a code. Those raised before execution without one get theirs
    from their class: a GraphQLSyntaxError did not parse, anything else failed a
    validation rule (variables that do not coerce carry BAD_USER_INPUT already:
    schema/execution.py)."""
    formatted = error.formatted
    extensions = formatted.get("extensions") or {}
    if "code" not in extensions and not error.path:
        formatted["extensions"] = {**extensions, "code": _request_error_code(error)}
    return formatted


# graphql-core raises its token limit (schema/limits.py's DocumentLimits) as a plain syntax
# error: only its words tell it apart from a typo.
_TOO_MANY_TOKENS = "Syntax Error: Document contains more than"


def _request_error_code(error: GraphQLError) -> str:
    if isinstance(error, GraphQLSyntaxError):
        return "QUERY_TOO_LARGE" if error.message.startswith(_TOO_MANY_TOKENS) else PARSE_FAILED
    return "GRAPHQL_VALIDATION_FAILED"
