"""The client address that limits and audits use: the socket peer, or the X-Forwarded-For a
*trusted* proxy sets (uvicorn's ProxyHeadersMiddleware with FORWARDED_ALLOW_IPS) - never one
a client picks itself.

When that address is plainly not the client's, every client shares one budget of the rate
limit, the login backoff and the proofs of ownership, and one attacker spends it for all
(issue 17, item 6). Two such setups show in the requests themselves, and each is said once
per process in the log: a request over a Unix socket whose peer is not trusted (uvicorn can
trust a Unix socket's peer only with FORWARDED_ALLOW_IPS=*), and a proxy header arriving
from a private or loopback peer that FORWARDED_ALLOW_IPS does not list - a reverse proxy
nobody told us about. What the settings alone show, `kabinet check` and the start-up log
say (services/ops/check.py, `client_address_warnings`)."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

log = logging.getLogger("kabinet")

PROXY_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})


def _private(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback


class ClientAddress:
    def __init__(self, app: Any, trusted_hosts: str) -> None:
        self.proxy_headers = ProxyHeadersMiddleware(app, trusted_hosts=trusted_hosts)
        self.trusted = self.proxy_headers.trusted_hosts
        self.unix_socket_said = False
        self.untrusted_proxy_said = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in {"http", "websocket"} and not (
            self.unix_socket_said and self.untrusted_proxy_said
        ):
            self._look_at(scope)
        await self.proxy_headers(scope, receive, send)

    def _look_at(self, scope: Any) -> None:
        peer = (scope.get("client") or ("", 0))[0]
        if peer in self.trusted:
            return
        server = scope.get("server")
        if not peer and server is not None and server[1] is None and not self.unix_socket_said:
            self.unix_socket_said = True
            log.warning(
                "a request came over the Unix socket %s and FORWARDED_ALLOW_IPS does not trust "
                "its peer: every client shares one budget of the rate limit, the login backoff "
                "and the proofs of ownership. Set FORWARDED_ALLOW_IPS=* (only processes of this "
                "machine reach a Unix socket) and have the proxy set X-Forwarded-For, or listen "
                "on TCP (docs/security.md).",
                server[0],
            )
        elif (
            peer
            and not self.untrusted_proxy_said
            and _private(peer)
            and any(name in PROXY_HEADERS for name, _ in scope["headers"])
        ):
            self.untrusted_proxy_said = True
            log.warning(
                "a request from %s carries a proxy header (X-Forwarded-For, Forwarded or "
                "X-Real-IP) but FORWARDED_ALLOW_IPS does not list %s: if a reverse proxy "
                "runs there, every client behind it shares one budget of the rate limit, "
                "the login backoff and the proofs of ownership. Add the proxy's address to "
                "FORWARDED_ALLOW_IPS (docs/security.md).",
                peer,
                peer,
            )
