"""`POST /payments/webhook/{provider}`: where acquirers tell us what became of a payment.

The acquirer's module verifies the request (a missing or wrong signature: 401, nothing
changes) and reads it into a `Notification`; `services.payments.rules.apply_notification`
records it. Answers: 200 when recorded or already known (the same event twice changes
nothing), 404 for a payment we never created, 409 when the amount is not the
payment's, 503 when no acquirer is configured. Acquirers retry what is not a 2xx.
With PAYMENT_PROVIDER=none nothing here is mounted: no acquirer may notify us.

An acquirer that signs nothing (YooKassa, `VerifyingProvider`) checks the client address
(the one the trusted-proxy rule gives: ClientAddress has set `scope["client"]`) and asks
its own API what became of the payment: 403 for an address outside its list, 400 for a
body naming no payment it knows, 503 when its API cannot be reached (it notifies again),
200 "unchanged" for a payment the API says is still pending. `refund.succeeded` fetches the
refund (`GET /refunds/{id}`) and records what the API says of a refund of ours left pending
(`services.payments.refunds`); a refund not made here is logged and answered "ignored".
What its API said will not change on a retry, so a payment not ours or another amount is
logged and answered 200 ("ignored", "refused"), as YooKassa expects of every notification
it sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from config import Settings, online_payments
from payments.providers import (
    BadNotification,
    Notification,
    ProviderError,
    ProviderUnavailable,
    RefundNotification,
    UntrustedSender,
    provider_for,
)
from payments.providers.sandbox import SandboxProvider
from routes import sandbox
from services.payments import refunds
from services.payments import rules as payments

log = logging.getLogger("kabinet.payments")
MAX_BODY = 64 * 1024


def payment_routes(settings: Settings) -> list[Route]:
    """The acquirers' webhook, and the sandbox acquirer's pages when it is the one configured;
    nothing when online payments are off."""
    if not online_payments(settings):
        log.info("payments: PAYMENT_PROVIDER=none, online payments are off")
        return []
    routes = [Route("/payments/webhook/{provider}", webhook_endpoint(settings), methods=["POST"])]
    try:
        provider = provider_for(settings)
    except ProviderError as exc:  # settings built by hand; load_settings refuses this
        log.warning("payments are off: %s", exc)
        return routes
    if isinstance(provider, SandboxProvider):
        routes += sandbox.routes(provider)
    return routes


def webhook_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def webhook(request: Request) -> Response:
        try:
            provider = provider_for(settings)
        except ProviderError:
            return JSONResponse({"error": "no payment provider configured"}, 503)
        if request.path_params["provider"] != provider.name:
            return JSONResponse({"error": "unknown provider"}, 404)
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "too large"}, 413)
        verify = getattr(provider, "verify_notification", None)
        event: Notification | RefundNotification | None
        try:
            if verify is not None:
                event = await verify(body, request.headers, _peer(request))
            else:
                event = provider.read_notification(body, request.headers)
        except UntrustedSender as exc:
            log.warning("payment webhook refused: %s", exc)
            return JSONResponse({"error": "forbidden"}, 403)
        except BadNotification as exc:
            log.warning("payment webhook refused from %s: %s", _peer(request), exc)
            if verify is not None:
                return JSONResponse({"error": "bad notification"}, 400)
            return JSONResponse({"error": "bad signature"}, 401)
        except ProviderUnavailable as exc:
            log.warning("payment webhook: cannot check with %s: %s", provider.name, exc)
            return JSONResponse({"error": "try again"}, 503)
        if event is None:
            return JSONResponse({"status": "unchanged"})
        if isinstance(event, RefundNotification):
            refund = await refunds.apply_refund_notification(provider.name, event)
            if refund is None:
                log.warning(
                    "payment webhook: refund %s of payment %s is not one of ours",
                    event.refund.external_id,
                    event.payment_external_id,
                )
                return JSONResponse({"status": "ignored"})
            return JSONResponse({"status": "recorded", "refund": refund.status.value})
        try:
            applied = await payments.apply_notification(provider.name, event)
        except payments.UnknownPayment:
            log.warning("payment webhook: no payment %s", event.external_id)
            if verify is not None:  # what its API said will not change: no retries
                return JSONResponse({"status": "ignored"})
            return JSONResponse({"error": "unknown payment"}, 404)
        except payments.AmountMismatch as exc:
            log.error("payment webhook: payment %s: %s", event.external_id, exc)
            if verify is not None:
                return JSONResponse({"status": "refused"})
            return JSONResponse({"error": "amount mismatch"}, 409)
        status = "recorded" if applied.changed else "unchanged"
        return JSONResponse({"status": status, "payment": applied.payment.status.value})

    return webhook


def _peer(request: Request) -> str:
    return request.client.host if request.client else "?"
