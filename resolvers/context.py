"""The per-request context: who asks (session from cookie or bearer), in which language,
from which client, with the request's DataLoaders; and the authentication guard."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from graphql import GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from config import Settings
from models.auth import Session
from models.cabinets import Cabinet, Role
from resolvers.dataloaders import Loaders
from services.core.messages import language_from_header
from services.core.throttle import client_key
from services.security import sessions
from services.security.devices import (
    DEVICE_COOKIE_DAYS,
    Device,
    device_cookie,
    read_device_cookie,
)
from services.security.sessions import Client

SESSION_COOKIE = "kabinet_session"
DEVICE_COOKIE = "kabinet_device"


class NotAuthenticated(GraphQLError):
    def __init__(self) -> None:
        super().__init__("Log in first.", extensions={"code": "UNAUTHENTICATED"})


class DeadSession(GraphQLError):
    """A token was presented but is no live session: the client must log in again (a
    request without any token is anonymous instead)."""

    MESSAGES: ClassVar[dict[sessions.Dead, str]] = {
        sessions.Dead.EXPIRED: "The session has expired: log in again.",
        sessions.Dead.REVOKED: "The session has ended: log in again.",
        sessions.Dead.INVALID: "The session token is not valid: log in again.",
    }

    def __init__(self, reason: sessions.Dead) -> None:
        super().__init__(
            self.MESSAGES[reason], extensions={"code": "UNAUTHENTICATED", "reason": str(reason)}
        )


class Forbidden(GraphQLError):
    def __init__(self) -> None:
        super().__init__("Not allowed.", extensions={"code": "FORBIDDEN"})


class BadInput(GraphQLError):
    """A query argument out of range (mutations report input problems as userErrors)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT"})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _presented_token(request: Request, settings: Settings) -> tuple[str | None, bool]:
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and _cookie_request_is_same_site(request, settings):
        return cookie, True
    return None, False


def _cookie_request_is_same_site(request: HTTPConnection, settings: Settings) -> bool:
    """Cookies ride along with any request the browser makes; a cross-site page
    must not act with them (CSRF). Browsers send Origin on POST: it must be ours."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-site request (apps, curl, same-origin GET)
    allowed = {_origin(settings.public_web_url)}
    allowed.update(_origin(o) for o in settings.cors_origins.split(",") if o.strip())
    return origin.lower() in allowed


async def request_session(request: Request, settings: Settings) -> tuple[Session | None, bool]:
    """The live session a request presents (bearer token, else the session cookie of a
    same-site request), and whether it came as the cookie. GraphQL and the other HTTP
    routes (the receipt PDF) authenticate through this one function."""
    token, from_cookie = _presented_token(request, settings)
    session = await sessions.authenticate(token) if token else None
    return session, from_cookie and session is not None


class SocketRefusal(Exception):
    """Why a WebSocket's connection_init is refused: `origin` (a cookie from a page of
    another site), or no live session."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def socket_session(
    connection: HTTPConnection, settings: Settings, init_payload: dict[str, Any]
) -> Session:
    """The live session a WebSocket presents in its connection_init: the payload's
    `authorization: "Bearer <token>"` (apps), else the session cookie of the handshake -
    only when its Origin is ours, as browsers send any site's WebSocket handshake with
    the cookie (cross-site WebSocket hijacking). Raises SocketRefusal."""
    authorization = init_payload.get("authorization")
    if isinstance(authorization, str) and authorization.strip():
        scheme, _, value = authorization.strip().partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else ""
    else:
        token = connection.cookies.get(SESSION_COOKIE) or ""
        if token and not _cookie_request_is_same_site(connection, settings):
            raise SocketRefusal("origin")
    found = await sessions.check(token) if token else None
    if not isinstance(found, Session):
        raise SocketRefusal(str(found) if found is not None else "anonymous")
    return found


async def session_ended(session_id: int) -> sessions.Dead | None:
    """Why the session of an open WebSocket has ended since (None while it lives)."""
    return await sessions.still_live(session_id)


@dataclass
class Context:
    request: Request
    response: Response
    settings: Settings
    client: Client
    language: str
    loaders: Loaders
    _session: Session | None = None
    _resolved: bool = False
    token_from_cookie: bool = False
    rate_limit: dict[str, Any] | None = None  # set by routes/rate_limit.py
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_request(cls, request: Request, response: Response, settings: Settings) -> Context:
        peer = request.client.host if request.client else ""
        return cls(
            request=request,
            response=response,
            settings=settings,
            client=Client(
                ip=peer,
                user_agent=request.headers.get("user-agent", "")[:300],
                limit_key=client_key(peer),
            ),
            language=language_from_header(request.headers.get("accept-language")),
            loaders=Loaders(settings),
            rate_limit=request.scope.get("state", {}).get("rate_limit"),
        )

    async def session(self) -> Session | None:
        if not self._resolved:
            self._session, self.token_from_cookie = await request_session(
                self.request, self.settings
            )
            self._resolved = True
        return self._session

    async def dead_session(self) -> DeadSession | None:
        """Whether the request presents a token (bearer, or the session cookie of a
        same-site request) that is no live session; its dead cookie is deleted in the
        response. Resolves the session of the request at once."""
        token, from_cookie = _presented_token(self.request, self.settings)
        found = await sessions.check(token) if token else None
        self._resolved = True
        if found is None or isinstance(found, Session):
            self._session, self.token_from_cookie = found, from_cookie and found is not None
            return None
        if from_cookie:
            self.end_session_cookie()
        return DeadSession(found)

    async def viewer(self) -> Cabinet | None:
        session = await self.session()
        return session.cabinet if session is not None else None

    async def require_session(self) -> Session:
        session = await self.session()
        if session is None:
            raise NotAuthenticated()
        return session

    async def require_viewer(self) -> Cabinet:
        return (await self.require_session()).cabinet

    async def may_see_account(self, account_pk: int) -> bool:
        """Whether what hangs off the account (its meters, their readings) may be shown:
        to a specialist, any customer's; to a customer, only while it is linked to their
        cabinet now. Fields that reach an object through another one ask this, so an id
        kept from earlier (an idempotent replay, a cached reading) leads nowhere once the
        account is gone. The viewer's accounts are loaded once per request."""
        viewer = await self.require_viewer()
        if viewer.role == Role.STAFF:
            return True
        return _holds(await self.loaders.accounts_of_cabinet.load(viewer.id), account_pk)

    def may_see_account_now(self, account_pk: int) -> bool | None:
        """`may_see_account` when it is known without waiting (the session resolved and
        the viewer's accounts loaded, as on the dashboard once `me.accounts` is), else
        None: then ask `may_see_account`."""
        session = self._session
        if not self._resolved or session is None:
            return None
        viewer = session.cabinet
        if viewer.role == Role.STAFF:
            return True
        rows = self.loaders.accounts_of_cabinet.load(viewer.id)
        if not isinstance(rows, asyncio.Future) or not rows.done() or rows.cancelled():
            return None
        if rows.exception() is not None:
            return None
        return _holds(rows.result(), account_pk)

    def adopt_session(self, session: Session, token: str) -> None:
        """A login in this request: answer the rest of it as that session, and hand the
        session to the web app as a cookie (mobile apps use the returned token)."""
        self._session, self._resolved, self.token_from_cookie = session, True, False
        max_age = int((session.expires_at - session.created_at).total_seconds())
        self.response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=max_age,
            path="/",
            secure=True,
            httponly=True,
            samesite="lax",
        )

    def device(self) -> Device | None:
        """The device the request's device cookie names, if the cookie is genuine."""
        return read_device_cookie(self.request.cookies.get(DEVICE_COOKIE))

    def remember_device(self, device: Device) -> None:
        """Hand the browser the cookie by which it is a known device at its next login."""
        self.response.set_cookie(
            DEVICE_COOKIE,
            device_cookie(device),
            max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
            path="/",
            secure=True,
            httponly=True,
            samesite="lax",
        )

    def no_referrer(self) -> None:
        """Responses to requests that carry a token must not leak it onward."""
        self.response.headers["Referrer-Policy"] = "no-referrer"

    def end_session_cookie(self) -> None:
        self.response.delete_cookie(
            SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax"
        )


def _holds(rows: list[dict[str, Any]], account_pk: int) -> bool:
    """Whether the cabinet's accounts (`accounts_of_cabinet`'s rows) include this one."""
    return any(row["id"] == account_pk for row in rows)
