"""GraphQL subscriptions over WebSocket at /graphql, with the graphql-transport-ws
protocol (enisdenjo/graphql-ws, PROTOCOL.md); docs/api.md#subscriptions for clients.

- The handshake must offer the subprotocol `graphql-transport-ws` (else it is refused).
- `connection_init` within SOCKET_INIT_SECONDS (else 4408) authenticates the socket:
  `payload.authorization = "Bearer <token>"` (apps), or the session cookie (the web
  client) when the handshake's Origin is PUBLIC_WEB_URL's or one of CORS_ORIGINS' - a
  page of another site cannot ride on the browser's cookie (cross-site WebSocket
  hijacking): 4403. No live session is 4401; one socket more than SOCKETS_PER_SESSION
  for a session is 4429. Then `connection_ack`.
- `subscribe` runs a subscription operation (queries and mutations go over HTTP, where
  the rate limit, idempotency keys and caching are); `next` carries each result,
  `complete` its end either way; a refused operation is one `error` message (a
  validation failure, FORBIDDEN for another cabinet's object, TOO_MANY_SUBSCRIPTIONS past
  SUBSCRIPTIONS_PER_CONNECTION).
- `ping` is answered with `pong`; the server's own keep-alive is the WebSocket ping
  frame uvicorn sends (a peer that stops answering is dropped).
- The socket ends with its session: at once when a session of its cabinet is ended
  anywhere (logout, "end sessions", a password change: services.security.sessions
  publishes it), and by a check every SOCKET_SESSION_CHECK_SECONDS (expiry): 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from typing import Any

from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketState
from strawberry.types.execution import PreExecutionError

from config import Settings
from models import db
from resolvers.context import Context, SocketRefusal, session_ended, socket_session
from schema.http import _format
from services.core import live

log = logging.getLogger("kabinet")

PROTOCOL = "graphql-transport-ws"
# The protocol's close codes.
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
INIT_TIMEOUT = 4408
SUBSCRIBER_EXISTS = 4409
TOO_MANY_INIT = 4429  # also: too many sockets for this session (the same code, "too many")
MAX_ID = 100
TRY_AGAIN_LATER = 1013  # RFC 6455's "Try Again Later"


class _Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def _error(message: str, code: str) -> list[dict[str, Any]]:
    return [{"message": message, "extensions": {"code": code}}]


class SubscriptionServer:
    """The WebSocket endpoint of /graphql (a Starlette WebSocketRoute)."""

    def __init__(self, schema: Any, settings: Settings) -> None:
        self.schema = schema
        self.settings = settings
        self.open_by_session: Counter[int] = Counter()  # this process's sockets

    async def handle(self, websocket: WebSocket) -> None:
        if PROTOCOL not in websocket.scope.get("subprotocols", ()):
            await websocket.close(code=BAD_REQUEST)  # before accept: the handshake is refused
            return
        await websocket.accept(subprotocol=PROTOCOL)
        await _Socket(self, websocket).run()


class _Socket:
    def __init__(self, server: SubscriptionServer, websocket: WebSocket) -> None:
        self.server = server
        self.settings = server.settings
        self.websocket = websocket
        self.operations: dict[str, asyncio.Task] = {}
        self.sending = asyncio.Lock()
        self.context: Context | None = None
        self.session_id: int | None = None

    async def send(self, message: dict[str, Any]) -> None:
        async with self.sending:
            if self.websocket.application_state == WebSocketState.CONNECTED:
                text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
                await self.websocket.send_text(text)

    async def close(self, code: int, reason: str) -> None:
        async with self.sending:
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await self.websocket.close(code=code, reason=reason)

    async def receive(self) -> dict[str, Any] | None:
        """The next message; None when the client went away."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        if text is None or len(text) > self.settings.max_request_bytes:
            raise _Refused(BAD_REQUEST, "Invalid message")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise _Refused(BAD_REQUEST, "Invalid message") from None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise _Refused(BAD_REQUEST, "Invalid message")
        return data

    async def run(self) -> None:
        watcher_task: asyncio.Task | None = None
        try:
            try:
                first = await asyncio.wait_for(self.receive(), self.settings.socket_init_seconds)
            except TimeoutError:
                raise _Refused(INIT_TIMEOUT, "Connection initialisation timeout") from None
            if first is None:
                return
            if first["type"] != "connection_init":
                raise _Refused(UNAUTHORIZED, "Unauthorized")
            await self.initialise(first.get("payload"))
            watcher_task = asyncio.create_task(self.watch_session(), name="socket-session")
            await self.send({"type": "connection_ack"})
            while (message := await self.receive()) is not None:
                await self.handle(message)
        except _Refused as refused:
            await self.close(refused.code, refused.reason)
        except (RuntimeError, OSError):  # the peer is gone mid-send
            pass
        except Exception as exc:
            if (cause := db.outage_cause(exc)) is None:
                raise
            # The database is away (the session cannot be checked): come back later.
            log.warning("socket: database unavailable: %s", db.describe_outage(cause))
            await self.close(TRY_AGAIN_LATER, "Service unavailable: reconnect in a few seconds")
        finally:
            for task in [*self.operations.values(), *([watcher_task] if watcher_task else [])]:
                task.cancel()
            if self.session_id is not None:
                self.server.open_by_session[self.session_id] -= 1
                if self.server.open_by_session[self.session_id] <= 0:
                    del self.server.open_by_session[self.session_id]

    async def initialise(self, payload: Any) -> None:
        if payload is not None and not isinstance(payload, dict):
            raise _Refused(BAD_REQUEST, "Invalid connection_init payload")
        try:
            found = await socket_session(self.websocket, self.settings, payload or {})
        except SocketRefusal as refusal:
            if refusal.reason == "origin":
                raise _Refused(FORBIDDEN, "Forbidden: this origin may not use the cookie") from None
            raise _Refused(UNAUTHORIZED, "Unauthorized: log in first") from None
        counts = self.server.open_by_session
        if counts[found.id] >= self.settings.sockets_per_session:
            raise _Refused(TOO_MANY_INIT, "Too many connections for this session")
        counts[found.id] += 1
        self.session_id = found.id
        self.context = Context.for_request(self.websocket, Response(), self.settings)  # type: ignore[arg-type]
        self.context._session, self.context._resolved = found, True

    async def watch_session(self) -> None:
        """Close the socket when its session ends: re-checked at once whenever a session
        of the cabinet ends anywhere, and every SOCKET_SESSION_CHECK_SECONDS."""
        assert self.context is not None and self.context._session is not None
        session = self.context._session
        cabinet_id = session.cabinet_id  # type: ignore[attr-defined]
        with live.broker.watch([("cabinet", cabinet_id)]) as watcher:
            while True:
                await watcher.changed(self.settings.socket_session_check_seconds)
                try:
                    dead = await session_ended(session.id)
                except Exception as exc:  # the database is away: try again at the next tick
                    log.warning("socket: cannot check session %s: %s", session.id, exc)
                    continue
                if dead is not None:
                    await self.close(UNAUTHORIZED, f"Unauthorized: session {dead.value.lower()}")
                    return

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "connection_init":
            raise _Refused(TOO_MANY_INIT, "Too many initialisation requests")
        elif kind == "subscribe":
            await self.subscribe(message)
        elif kind == "complete":
            task = self.operations.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        else:
            raise _Refused(BAD_REQUEST, f"Invalid message type {kind[:40]!r}")

    async def subscribe(self, message: dict[str, Any]) -> None:
        op_id, payload = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not op_id or len(op_id) > MAX_ID:
            raise _Refused(BAD_REQUEST, "Invalid subscribe message")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise _Refused(BAD_REQUEST, "Invalid subscribe message")
        if op_id in self.operations:
            raise _Refused(SUBSCRIBER_EXISTS, f"Subscriber for {op_id} already exists")
        if len(self.operations) >= self.settings.subscriptions_per_connection:
            await self.send(
                {
                    "type": "error",
                    "id": op_id,
                    "payload": _error(
                        f"At most {self.settings.subscriptions_per_connection} subscriptions "
                        "per connection: complete one first.",
                        "TOO_MANY_SUBSCRIPTIONS",
                    ),
                }
            )
            return
        self.operations[op_id] = asyncio.create_task(self.operate(op_id, payload))

    async def operate(self, op_id: str, payload: dict[str, Any]) -> None:
        query = payload["query"]
        variables = payload.get("variables")
        name = payload.get("operationName")
        try:
            if len(query.encode("utf-8")) > self.settings.max_query_bytes:
                await self._refuse(op_id, _error("The query is too large.", "QUERY_TOO_LARGE"))
                return
            if variables is not None and not isinstance(variables, dict):
                await self._refuse(op_id, _error("`variables` must be an object", "BAD_REQUEST"))
                return
            # A fresh context per operation: each has its own DataLoaders.
            assert self.context is not None
            context = Context.for_request(self.websocket, Response(), self.settings)  # type: ignore[arg-type]
            context._session, context._resolved = self.context._session, True
            results = await self.server.schema.subscribe(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=name if isinstance(name, str) else None,
            )
            first = True
            async for result in results:
                if isinstance(result, PreExecutionError) or (
                    first and result.data is None and result.errors
                ):
                    await self._refuse(op_id, [_format(e) for e in result.errors or ()])
                    return
                first = False
                body: dict[str, Any] = {"data": result.data}
                if result.errors:
                    body["errors"] = [_format(e) for e in result.errors]
                await self.send({"type": "next", "id": op_id, "payload": body})
            await self.send({"type": "complete", "id": op_id})
        except asyncio.CancelledError:
            raise
        except (RuntimeError, OSError):
            pass  # the socket is gone
        except Exception:
            log.exception("subscription %s failed", op_id)
            await self._refuse(op_id, _error("Internal server error", "INTERNAL_SERVER_ERROR"))
        finally:
            if self.operations.get(op_id) is asyncio.current_task():
                del self.operations[op_id]

    async def _refuse(self, op_id: str, errors: list[dict[str, Any]]) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            await self.send({"type": "error", "id": op_id, "payload": errors})
