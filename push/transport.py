"""Where the worker hands pushes over: FCM HTTP v1 (Android and web), APNs over HTTP/2
with token auth (iOS), or `VAR_DIR/push/` as JSON files when neither is configured
(development), as mail goes to `VAR_DIR/mail/`.

`Senders.send()` returns normally when the service accepted the push, else raises one of:
- `Retry`: the service is away, throttles (429, with its Retry-After) or failed (5xx);
  nothing is known about the push, which is tried again later;
- `DeadToken`: the service says the token no longer reaches an app (FCM UNREGISTERED or
  404, APNs 410 Unregistered or 400 BadDeviceToken): the device is dropped;
- `Refused`: the service refused this push for good for another reason.

FCM's access token comes from the service account's JSON key through google-auth (its
`token_uri`, so a local token endpoint serves the tests); APNs' provider token is an
ES256 JWT signed with the `.p8` key (PyJWT), renewed every 40 minutes (Apple accepts one
for an hour and refuses a new one more often than every 20 minutes).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import service_account

from config import Settings
from models.push import PushPlatform

log = logging.getLogger("kabinet.push")

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
APNS_TOKEN_SECONDS = 40 * 60
_ID_NAMESPACE = uuid.UUID("6f1c2f0e-8a4e-4d53-9d55-3b0c1f7f2a10")


class Retry(Exception):
    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after  # seconds the service asked us to wait, if it said


class DeadToken(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Push:
    """A claimed push with its device."""

    id: int
    device_id: int
    platform: PushPlatform
    token: str
    event: str
    title: str
    body: str
    node_id: str
    attempts: int  # this attempt included

    def data(self) -> dict[str, str]:
        """What the app reads besides the text: FCM wants string values only."""
        return {"event": self.event, "nodeId": self.node_id, "pushId": str(self.id)}

    def apns_id(self) -> str:
        """Stable per push, so a retry is recognisable (APNs' `apns-id`)."""
        return str(uuid.uuid5(_ID_NAMESPACE, str(self.id)))


def fcm_message(push: Push) -> dict[str, Any]:
    message: dict[str, Any] = {
        "token": push.token,
        "notification": {"title": push.title, "body": push.body},
        "data": push.data(),
    }
    if push.platform == PushPlatform.ANDROID:
        message["android"] = {"priority": "high"}
    return {"message": message}


def apns_payload(push: Push) -> dict[str, Any]:
    return {
        "aps": {"alert": {"title": push.title, "body": push.body}, "sound": "default"},
        **push.data(),
    }


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class FcmSender:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.credentials = service_account.Credentials.from_service_account_file(
            settings.fcm_credentials_file, scopes=[FCM_SCOPE]
        )
        self.url = (
            f"{settings.fcm_api_url.rstrip('/')}/v1/projects/"
            f"{self.credentials.project_id}/messages:send"
        )

    async def _access_token(self) -> str:
        if not self.credentials.valid:
            try:
                await asyncio.to_thread(self.credentials.refresh, GoogleRequest())
            except Exception as exc:  # google.auth.exceptions.* and the transport's errors
                raise Retry(f"FCM access token: {exc}") from None
        return self.credentials.token

    async def send(self, push: Push) -> None:
        token = await self._access_token()
        try:
            response = await self.http.post(
                self.url, json=fcm_message(push), headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise Retry(f"FCM: {exc or type(exc).__name__}") from None
        if response.status_code == 200:
            return
        error = _json(response).get("error") or {}
        codes = {
            d.get("errorCode")
            for d in error.get("details") or []
            if isinstance(d, dict) and d.get("errorCode")
        }
        reason = f"FCM {response.status_code} {error.get('status', '')} {sorted(codes)}".strip()
        if (
            response.status_code == 404
            or "UNREGISTERED" in codes
            or ("SENDER_ID_MISMATCH" in codes)
        ):
            raise DeadToken(reason)
        if response.status_code == 401:  # our access token: take a new one next time
            self.credentials.token = None
            raise Retry(reason)
        if response.status_code == 429 or response.status_code >= 500:
            raise Retry(reason, _retry_after(response))
        raise Refused(reason)


class ApnsSender:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.key = Path(settings.apns_key_file).read_text()
        self._token: tuple[float, str] | None = None

    def provider_token(self) -> str:
        moment = time.time()
        if self._token is None or moment - self._token[0] >= APNS_TOKEN_SECONDS:
            s = self.settings
            signed = jwt.encode(
                {"iss": s.apns_team_id, "iat": int(moment)},
                self.key,
                algorithm="ES256",
                headers={"kid": s.apns_key_id},
            )
            self._token = (moment, signed)
        return self._token[1]

    def _authorization(self) -> str:
        try:
            return f"bearer {self.provider_token()}"
        except (ValueError, TypeError, jwt.PyJWTError) as exc:  # not an EC P-256 key
            raise Retry(f"APNs: APNS_KEY_FILE cannot sign: {exc}") from None

    async def send(self, push: Push) -> None:
        s = self.settings
        headers = {
            "authorization": self._authorization(),
            "apns-topic": s.apns_topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
            "apns-id": push.apns_id(),
        }
        url = f"{s.apns_api_url.rstrip('/')}/3/device/{push.token}"
        try:
            response = await self.http.post(url, json=apns_payload(push), headers=headers)
        except httpx.HTTPError as exc:
            raise Retry(f"APNs: {exc or type(exc).__name__}") from None
        if response.status_code == 200:
            return
        why = str(_json(response).get("reason", ""))
        reason = f"APNs {response.status_code} {why}".strip()
        if response.status_code == 410 or why in {"BadDeviceToken", "DeviceTokenNotForTopic"}:
            raise DeadToken(reason)
        if why in {"ExpiredProviderToken", "InvalidProviderToken"}:
            self._token = None
            raise Retry(reason)
        if response.status_code == 429 or response.status_code >= 500:
            raise Retry(reason, _retry_after(response))
        raise Refused(reason)


class FileSender:
    """Development: each push becomes `VAR_DIR/push/<time>-<id>.json`, holding what would
    go on the wire to FCM or APNs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, push: Push) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        path = self.directory / f"{stamp}-{push.id}.json"
        wire = (
            {"apns": apns_payload(push)}
            if push.platform == PushPlatform.IOS
            else {"fcm": fcm_message(push)}
        )
        document = {"platform": push.platform.name, **wire}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        except OSError as exc:
            raise Retry(f"{path}: {exc.strerror or exc}") from None
        log.info("push #%d (%s) written to %s", push.id, push.event, path)


class Unusable:
    """A service whose key file cannot be used: its pushes wait (and say why in
    `push_outbox.last_error`) until an operator fixes the file and restarts."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        log.error("push: %s: those pushes wait until it is fixed", reason)

    async def send(self, push: Push) -> None:
        raise Retry(self.reason)


Sender = FcmSender | ApnsSender | FileSender | Unusable


class Senders:
    """One sender per platform, each over one client for the worker's lifetime: APNs
    speaks HTTP/2 only (`http1=False`: prior knowledge on a plain URL, ALPN on https),
    FCM whichever the server offers."""

    def __init__(self, settings: Settings) -> None:
        timeout = settings.push_timeout
        self.http = httpx.AsyncClient(http2=True, timeout=timeout)
        self.http2 = httpx.AsyncClient(http1=False, http2=True, timeout=timeout)
        files = FileSender(settings.var_path / "push")
        self.fcm: Sender = files
        self.apns: Sender = files
        if settings.fcm_credentials_file:
            try:
                self.fcm = FcmSender(settings, self.http)
            except (OSError, ValueError, KeyError) as exc:  # unreadable, not a service account
                self.fcm = Unusable(f"FCM_CREDENTIALS_FILE: {exc}")
        if settings.apns_key_file:
            try:
                self.apns = ApnsSender(settings, self.http2)
            except (OSError, ValueError) as exc:
                self.apns = Unusable(f"APNS_KEY_FILE: {exc}")

    def describe(self) -> str:
        def name(sender: object) -> str:
            if isinstance(sender, Unusable):
                return f"nowhere ({sender.reason})"
            return "the development folder" if isinstance(sender, FileSender) else "the service"

        return f"FCM: {name(self.fcm)}, APNs: {name(self.apns)}"

    async def send(self, push: Push) -> None:
        sender = self.apns if push.platform == PushPlatform.IOS else self.fcm
        await sender.send(push)

    async def close(self) -> None:
        await self.http.aclose()
        await self.http2.aclose()
