"""FCM and APNs of the tests' own: real HTTP servers on 127.0.0.1 (Hypercorn, in a thread
with its own event loop, so other processes can use them too).

Written from the services' public documentation:
- Google's OAuth 2.0 token endpoint for service accounts (developers.google.com/identity/
  protocols/oauth2/service-account): `POST token_uri` with `grant_type=urn:ietf:params:
  oauth:grant-type:jwt-bearer` and an RS256-signed `assertion` whose `iss` is the
  account's `client_email`, `aud` https://oauth2.googleapis.com/token, `scope` the scopes; answers
  `{"access_token", "expires_in", "token_type": "Bearer"}`. The signature is checked
  with the public half of the key the credentials file holds.
- FCM HTTP v1 (firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send and
  /docs/cloud-messaging/error-codes): `POST /v1/projects/{project}/messages:send` with
  `Authorization: Bearer <access token>`; the body `{"message": {"token", "notification":
  {"title", "body"}, "data": {string: string}}}`; 200 `{"name": "projects/p/messages/id"}`;
  errors `{"error": {"code", "message", "status", "details": [{"@type":
  "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode"}]}}`: 404 NOT_FOUND/
  UNREGISTERED for a dead token, 429 QUOTA_EXCEEDED (with Retry-After), 500 INTERNAL,
  401 UNAUTHENTICATED, 400 INVALID_ARGUMENT.
- APNs (developer.apple.com "Sending notification requests to APNs", "Establishing a
  token-based connection", "Handling notification responses from APNs"): HTTP/2 only;
  `POST /3/device/{hex token}` with `authorization: bearer <ES256 JWT>` (header `kid`,
  claims `iss` team id and `iat` within the hour), `apns-topic`, `apns-push-type`; body
  `{"aps": {"alert": {"title", "body"}}}`; 200 with `apns-id`; errors `{"reason"}`:
  400 BadDeviceToken / MissingTopic / BadPriority..., 403 InvalidProviderToken,
  410 Unregistered (with `timestamp`), 429 TooManyRequests, 500 InternalServerError.

The test plans answers per token (`plan(token, "unregistered", 500, 429, ...)`), then reads
what was delivered (`delivered`).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.mail_fixtures import free_port

PROJECT = "kabinet-test"
CLIENT_EMAIL = "push@kabinet-test.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"  # the assertion's `aud`, always
KEY_ID = "ABC123DEFG"
TEAM_ID = "DEF123GHIJ"
TOPIC = "ru.example.kabinet"
HEX = re.compile(r"^[0-9a-f]{64,}$")


@dataclass
class PushServices:
    url: str = ""
    rsa_key: Any = None
    ec_key: Any = None
    access_tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    plans: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    delivered: list[dict[str, Any]] = field(default_factory=list)  # accepted pushes
    answered: list[tuple[str, str, int]] = field(default_factory=list)  # (service, token, status)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, token: str, *answers: Any) -> None:
        """The next answers for pushes to `token`: "unregistered", "bad_token", or a status
        (429, 500...); after them, success."""
        with self.lock:
            self.plans[token].extend(answers)

    def _next(self, token: str) -> Any:
        with self.lock:
            queue = self.plans.get(token)
            return queue.pop(0) if queue else None

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        """The settings that point kabinet at these servers, with key files in tmp_path."""
        key_pem = self.rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        credentials = tmp_path / "fcm-service-account.json"
        credentials.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": PROJECT,
                    "private_key_id": "0123456789abcdef",
                    "private_key": key_pem,
                    "client_email": CLIENT_EMAIL,
                    "client_id": "1234567890",
                    "token_uri": f"{self.url}/token",
                }
            )
        )
        p8 = tmp_path / f"AuthKey_{KEY_ID}.p8"
        p8.write_bytes(
            self.ec_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return {
            "fcm_credentials_file": str(credentials),
            "fcm_api_url": self.url,
            "apns_key_file": str(p8),
            "apns_key_id": KEY_ID,
            "apns_team_id": TEAM_ID,
            "apns_topic": TOPIC,
            "apns_api_url": self.url,
        }

    # ------------------------------------------------------------ Google's token endpoint

    async def token(self, request: Request) -> Response:
        form = parse_qs((await request.body()).decode())
        if form.get("grant_type") != [GRANT] or len(form.get("assertion", [])) != 1:
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        try:
            claims = jwt.decode(
                form["assertion"][0],
                self.rsa_key.public_key(),
                algorithms=["RS256"],
                audience=GOOGLE_AUDIENCE,
                issuer=CLIENT_EMAIL,
                options={"require": ["iat", "exp", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as exc:
            return JSONResponse({"error": "invalid_grant", "error_description": str(exc)}, 400)
        if SCOPE not in str(claims.get("scope", "")).split():
            return JSONResponse({"error": "invalid_scope"}, 400)
        access = f"ya29.{secrets.token_urlsafe(24)}"
        with self.lock:
            self.access_tokens.add(access)
            self.token_requests += 1
        return JSONResponse({"access_token": access, "expires_in": 3599, "token_type": "Bearer"})

    # ------------------------------------------------------------ FCM HTTP v1

    async def fcm_send(self, request: Request) -> Response:
        def error(status: int, name: str, message: str, code: str | None = None) -> Response:
            details = [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
            ]
            body = {"code": status, "message": message, "status": name}
            if code:
                body["details"] = details
            return JSONResponse({"error": body}, status)

        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.access_tokens:
            return error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if request.path_params["project"] != PROJECT:
            return error(403, "PERMISSION_DENIED", "Permission denied on the project.")
        try:
            message = (await request.json())["message"]
            token = message["token"]
            note = message["notification"]
            assert isinstance(token, str) and token
            assert isinstance(note["title"], str) and isinstance(note["body"], str)
            data = message.get("data", {})
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in data.items())
        except (ValueError, KeyError, TypeError, AssertionError):
            return error(400, "INVALID_ARGUMENT", "Invalid JSON payload.", "INVALID_ARGUMENT")
        planned = self._next(token)
        status = 200
        if planned == "unregistered":
            status, answer = (
                404,
                error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"),
            )
        elif planned == 429:
            status, answer = (
                429,
                error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED"),
            )
            answer.headers["Retry-After"] = "30"
        elif isinstance(planned, int):
            status, answer = planned, error(planned, "INTERNAL", "Internal error.", "INTERNAL")
        else:
            with self.lock:
                self.delivered.append({"service": "fcm", "token": token, "message": message})
            answer = JSONResponse({"name": f"projects/{PROJECT}/messages/{uuid.uuid4().hex}"})
        with self.lock:
            self.answered.append(("fcm", token, status))
        return answer

    # ------------------------------------------------------------ APNs

    async def apns_send(self, request: Request) -> Response:
        def reason(status: int, why: str, **extra: Any) -> Response:
            return JSONResponse({"reason": why, **extra}, status)

        if request.scope.get("http_version") != "2":
            return reason(405, "MethodNotAllowed")  # APNs speaks HTTP/2 only
        auth = request.headers.get("authorization", "")
        try:
            token_jwt = auth.removeprefix("bearer ")
            header = jwt.get_unverified_header(token_jwt)
            claims = jwt.decode(
                token_jwt,
                self.ec_key.public_key(),
                algorithms=["ES256"],
                options={"require": ["iat", "iss"], "verify_aud": False},
            )
            assert auth.startswith("bearer ") and header.get("kid") == KEY_ID
            assert claims["iss"] == TEAM_ID and abs(time.time() - claims["iat"]) < 3600
        except (jwt.InvalidTokenError, AssertionError):
            return reason(403, "InvalidProviderToken")
        if not request.headers.get("apns-topic"):
            return reason(400, "MissingTopic")
        if request.headers["apns-topic"] != TOPIC:
            return reason(400, "TopicDisallowed")
        if request.headers.get("apns-push-type") not in ("alert", "background"):
            return reason(400, "InvalidPushType")
        apns_id = request.headers.get("apns-id", str(uuid.uuid4()))
        try:
            uuid.UUID(apns_id)
        except ValueError:
            return reason(400, "BadMessageId")
        device = request.path_params["token"]
        if not HEX.match(device):
            return reason(400, "BadDeviceToken")
        try:
            payload = await request.json()
            alert = payload["aps"]["alert"]
            assert isinstance(alert["title"], str) and isinstance(alert["body"], str)
        except (ValueError, KeyError, TypeError, AssertionError):
            return reason(400, "PayloadEmpty")
        planned = self._next(device)
        status = 200
        if planned == "unregistered":
            status, answer = 410, reason(410, "Unregistered", timestamp=int(time.time() * 1000))
        elif planned == "bad_token":
            status, answer = 400, reason(400, "BadDeviceToken")
        elif planned == 429:
            status, answer = 429, reason(429, "TooManyRequests")
        elif isinstance(planned, int):
            status, answer = planned, reason(planned, "InternalServerError")
        else:
            with self.lock:
                self.delivered.append(
                    {
                        "service": "apns",
                        "token": device,
                        "payload": payload,
                        "apns_id": apns_id,
                        "headers": dict(request.headers),
                    }
                )
            answer = Response(status_code=200, headers={"apns-id": apns_id})
        with self.lock:
            self.answered.append(("apns", device, status))
        return answer

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/token", self.token, methods=["POST"]),
                Route("/v1/projects/{project}/messages:send", self.fcm_send, methods=["POST"]),
                Route("/3/device/{token}", self.apns_send, methods=["POST"]),
            ]
        )


@contextmanager
def push_services() -> Iterator[PushServices]:
    """FCM, its token endpoint and APNs on one local port (h11 and h2c), for the block."""
    port = free_port()
    services = PushServices(
        url=f"http://127.0.0.1:{port}",
        rsa_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec_key=ec.generate_private_key(ec.SECP256R1()),
    )
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    async def main() -> None:
        started.set()
        await serve(services.app(), config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    started.wait(10)
    import socket

    for _ in range(200):  # until it listens
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.02)
    try:
        yield services
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
