"""Tracing as an operator sees it: a real server process exporting over OTLP/HTTP to a
collector written here from the OTLP specification (POST /v1/traces, a protobuf
ExportTraceServiceRequest, decoded with opentelemetry-proto), a client's traceparent
continued through the request, the GraphQL operation and its SQL, the trace id in the log
lines; and with no endpoint configured, nothing exported at all."""

from __future__ import annotations

import gzip
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from services.core import tracing
from tests.processes import free_port, start_kabinet, stop_kabinet, wait_until_ready

EMAIL = "tracing-probe@example.ru"
PASSWORD = "probe-password-8c1e"
LOGIN = "mutation ProbeLogin($input: LoginInput!) { login(input: $input) { userErrors { code } } }"


class Collector:
    """An OTLP/HTTP trace receiver: what arrives at POST /v1/traces, decoded."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces" or self.headers.get_content_type() != (
                    "application/x-protobuf"
                ):
                    self.send_error(404 if self.path != "/v1/traces" else 415)
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector.requests.append(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Collector:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def spans(self) -> list[tuple[dict[str, object], Span]]:
        """(resource attributes, span) of every span received so far."""
        found = []
        for request in list(self.requests):
            for resource_spans in request.resource_spans:
                resource = attributes_of(resource_spans.resource)
                for scope_spans in resource_spans.scope_spans:
                    found += [(resource, span) for span in scope_spans.spans]
        return found


def attributes_of(item) -> dict[str, object]:
    return {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in item.attributes}


@pytest.fixture
def collector() -> Iterator[Collector]:
    with Collector() as running:
        yield running


def log_lines(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


async def run_server(
    db, tmp_path: Path, requests: list[tuple[dict, dict[str, str]]], **env: str
) -> tuple[list[httpx.Response], str]:
    """A `kabinet serve` process with `env` answers `requests` (body, headers) at /graphql
    and stops; returns the responses and its stderr (JSON log lines)."""
    port = free_port()
    server = start_kabinet(
        "serve", "--port", str(port), url=db.url, tmp_path=tmp_path, LOG_FORMAT="json", **env
    )
    try:
        await wait_until_ready(port, server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            responses = [
                await http.post("/graphql", json=body, headers=headers)
                for body, headers in requests
            ]
    finally:
        _code, stderr = stop_kabinet(server)  # a tracing process flushes its spans here
    return responses, stderr


def login_probe() -> dict:
    return {"query": LOGIN, "variables": {"input": {"email": EMAIL, "password": PASSWORD}}}


async def test_a_request_is_traced_from_the_clients_traceparent_to_its_sql(
    db, tmp_path: Path, collector: Collector
) -> None:
    trace_id, parent_id = secrets.token_bytes(16), secrets.token_bytes(8)
    traced = {
        "traceparent": f"00-{trace_id.hex()}-{parent_id.hex()}-01",
        "tracestate": "acme=probe",
    }
    (response, _broken), stderr = await run_server(
        db,
        tmp_path,
        [(login_probe(), traced), ({"query": "query Broken { noSuchField }"}, {})],
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        # one batch, sent when the server stops: no span is lost on a restart
        OTEL_BSP_SCHEDULE_DELAY="600000",
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["login"]["userErrors"], response.text
    assert "traceparent" not in response.headers  # decided: see routes/tracing.py
    assert "Traceback" not in stderr and "Failed to detach context" not in stderr, stderr
    received = [span for _resource, span in collector.spans()]
    spans = [span for span in received if span.trace_id == trace_id]

    # the request's span continues the client's trace, under the client's span
    (request,) = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert request.parent_span_id == parent_id
    assert request.trace_state == "acme=probe"
    assert request.name == "POST /graphql"
    http_attributes = attributes_of(request)
    assert http_attributes["http.response.status_code"] == 200
    assert http_attributes["http.route"] == "/graphql"
    assert http_attributes["kabinet.request_id"] == response.headers["x-request-id"]

    # the operation's span is the request's child
    (operation,) = [s for s in spans if s.name == "mutation ProbeLogin"]
    assert operation.parent_span_id == request.span_id
    assert attributes_of(operation)["graphql.operation.type"] == "mutation"
    assert attributes_of(operation)["graphql.operation.name"] == "ProbeLogin"
    assert attributes_of(operation)["kabinet.graphql.root_fields"] == "login"
    assert operation.status.code != Status.STATUS_CODE_ERROR  # a user error is an answer

    # SQL statements: children of the operation (or of the request, for the session
    # lookup before it), with their text and without their values
    sql = [s for s in spans if s.kind == Span.SPAN_KIND_CLIENT]
    systems = {attributes_of(s)["db.system"] for s in sql}
    assert systems == ({"postgresql"} if db.backend == "postgres" else {"sqlite"})
    assert all(s.parent_span_id in {operation.span_id, request.span_id} for s in sql)
    under_operation = [s for s in sql if s.parent_span_id == operation.span_id]
    assert any("SELECT" in str(attributes_of(s)["db.statement"]) for s in under_operation)
    everything = str([attributes_of(s) for s in spans] + [s.events for s in spans])
    assert EMAIL not in everything and PASSWORD not in everything

    # an operation's errors are recorded on its span
    (broken_operation,) = [s for s in received if s.name == "query Broken"]
    assert broken_operation.status.code == Status.STATUS_CODE_ERROR
    (event,) = broken_operation.events
    assert event.name == "exception"
    assert "noSuchField" in str(attributes_of(event)["exception.message"])

    # the service is named, and the log lines of the request carry its trace
    resources = [r for r, s in collector.spans() if s.span_id == request.span_id]
    assert resources[0]["service.name"] == "kabinet"
    lines = [
        line
        for line in log_lines(stderr)
        if line.get("request_id") == response.headers["x-request-id"]
    ]
    assert any(line["logger"] == "kabinet.access" for line in lines), lines
    assert all(line["trace_id"] == trace_id.hex() for line in lines), lines
    assert {line["span_id"] for line in lines} <= {
        request.span_id.hex(),
        operation.span_id.hex(),
    }


async def test_every_sql_statement_of_a_query_has_its_span(
    db, settings, tmp_path: Path, collector: Collector
) -> None:
    """The dashboard's DataLoaders ask their queries together, which on SQLite otherwise
    go to the database in one trip (models/sql.py): traced, each still has a span; so has
    a statement run once per row of parameters (`sql.execute_many`: the login throttle's)."""
    from models.accounts import Account
    from models.cabinets import Cabinet, CabinetAccount
    from services.security import sessions

    cabinet = await Cabinet.create(email=EMAIL, password_hash="x")
    for number in ("700000000001", "700000000002"):
        account = await Account.create(number=number, holder_name="H", address="A")
        await CabinetAccount.create(cabinet=cabinet, account=account)
    token, _ = await sessions.create(cabinet, sessions.Client("127.0.0.1", "probe"))
    query = """query Lists { me { accounts { number meters { serial }
      payments(first: 2) { totalCount nodes { id } } receipts(first: 2) { nodes { id } } } } }"""
    login = f"""mutation Login {{ login(input: {{email: "{EMAIL}", password: "wrong"}}) {{
      userErrors {{ code }} }} }}"""
    (response, refused), _stderr = await run_server(
        db,
        tmp_path,
        [({"query": query}, {"Authorization": f"Bearer {token}"}), ({"query": login}, {})],
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        OTEL_BSP_SCHEDULE_DELAY="600000",
    )
    assert len(response.json()["data"]["me"]["accounts"]) == 2, response.text
    assert refused.json()["data"]["login"]["userErrors"], refused.text

    def statements(name: str) -> list[str]:
        (operation,) = [s for _r, s in collector.spans() if s.name == name]
        return [
            str(attributes_of(s)["db.statement"])
            for _r, s in collector.spans()
            if s.kind == Span.SPAN_KIND_CLIENT and s.parent_span_id == operation.span_id
        ]

    lists = statements("query Lists")
    for table in ("cabinet_account", "meter", "payment", "receipt"):
        assert any(f"FROM {table}" in text for text in lists), (table, lists)
    counted = statements("mutation Login")
    assert any(text.startswith("UPDATE rate_counter SET") for text in counted), counted


async def test_without_an_endpoint_nothing_is_exported(db, tmp_path: Path) -> None:
    """The exporter's default endpoint is localhost:4318: a collector listens there, and
    gets nothing, because without OTEL_EXPORTER_OTLP_ENDPOINT tracing is not installed."""
    try:
        default_port = Collector(port=4318)
    except OSError:
        pytest.skip("port 4318, OTLP/HTTP's default, is taken on this machine")
    with default_port as collector:
        traced = {"traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"}
        (response,), stderr = await run_server(
            db,
            tmp_path,
            [(login_probe(), traced)],
            OTEL_BSP_SCHEDULE_DELAY="50",
            OTEL_SERVICE_NAME="kabinet",
        )
        assert response.status_code == 200, response.text
        assert collector.requests == []
    lines = log_lines(stderr)
    assert any(line.get("request_id") == response.headers["x-request-id"] for line in lines)
    assert not any("trace_id" in line for line in lines), lines


def test_tracing_is_wanted_only_with_an_endpoint() -> None:
    assert not tracing.wanted({})
    assert not tracing.wanted({"OTEL_SERVICE_NAME": "kabinet", "OTEL_TRACES_SAMPLER": "always_on"})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})
    assert not tracing.wanted(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}
    )


async def test_a_browser_may_send_the_trace_context(client) -> None:
    preflight = await client.options(
        "/graphql",
        headers={
            "Origin": "https://lk.example.ru",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, traceparent, tracestate",
        },
    )
    assert preflight.status_code == 200, preflight.text
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "traceparent" in allowed and "tracestate" in allowed
