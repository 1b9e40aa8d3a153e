"""The YooKassa acquirer (PAYMENT_PROVIDER=yookassa): its API v3 over plain httpx.

Why httpx and not the official `yookassa` SDK: the SDK is synchronous (requests), so each
call would block the event loop or need a thread of its own, and it hides the HTTP status
and the Idempotence-Key we must control to retry safely. httpx is async, already pinned
(the tests used it), and the API is a handful of documented JSON calls.

- Create: `POST /payments` with Basic auth (YOOKASSA_SHOP_ID : YOOKASSA_SECRET_KEY) and an
  `Idempotence-Key` derived from our payment's id, so asking again - a retried payBill, a
  retry after a timeout whose answer was lost - finds the payment YooKassa made the first
  time instead of making a second one. A timeout, a 429 or a 5xx is retried with the same
  key (YOOKASSA_ATTEMPTS, pauses doubling from YOOKASSA_RETRY_BASE_SECONDS), then
  ProviderUnavailable; a 4xx is ProviderRefused with YooKassa's error code.
- Notifications: YooKassa signs nothing, so the body is only a hint. A notification is
  accepted only from YOOKASSA_NOTIFICATION_IPS, and then the payment is fetched with
  `GET /payments/{id}`: what the API says is applied, never what the body says.
- The sweeper asks `GET /payments/{id}` about payments left pending (`payment_status`).
- `kabinet check --live` asks `GET /me` whether the shop is the one configured, enabled,
  live and has receipts (`shop_info`).
- Refunds (`kabinet payments refund`): `POST /refunds` with an Idempotence-Key derived from
  our refund's id, so a retried command finds the refund made the first time; with
  receipts on, the refund's receipt (54-FZ) goes with it.
- Autopay: the first payment asks `save_payment_method: true`; once it succeeds the API's
  payment carries `payment_method` with `saved: true`, its `id` and a `title` ("Bank card
  *4444"), which is all we keep. A charge (`charge_saved`) is `POST /payments` with that
  `payment_method_id`, no confirmation, `capture: true`, the same receipt and an
  Idempotence-Key from our payment's id; YooKassa answers it succeeded or canceled at once
  or later (then the notification and the sweeper tell, as for any payment).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import ipaddress
import json
import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from config import Settings, yookassa_networks
from models.payments import PaymentStatus, RefundStatus
from payments.providers import (
    BadNotification,
    Charged,
    Checkout,
    Notification,
    Order,
    ProviderRefused,
    ProviderUnavailable,
    RefundNotification,
    RefundOrder,
    RefundResult,
    SavedMethod,
    UntrustedSender,
)

log = logging.getLogger("kabinet.payments")

WEBHOOK_PATH = "/payments/webhook/yookassa"
EVENTS = ("payment.succeeded", "payment.canceled", "refund.succeeded")
METHODS = {"CARD": "bank_card", "SBP": "sbp", "SBERPAY": "sberbank"}
RETRIED_STATUSES = {429, 500, 502, 503, 504}
REFUND_STATUSES = {
    "pending": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "canceled": RefundStatus.CANCELED,
}
STATUSES = {"succeeded": PaymentStatus.SUCCEEDED, "canceled": PaymentStatus.CANCELED}


def provider(settings: Settings) -> YooKassaProvider:
    return YooKassaProvider(settings)


def money(amount: Decimal) -> dict[str, str]:
    return {"value": f"{amount:.2f}", "currency": "RUB"}


class YooKassaProvider:
    name = "yookassa"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = settings.yookassa_api_url.rstrip("/")
        self.auth = httpx.BasicAuth(settings.yookassa_shop_id, settings.yookassa_secret_key)
        self.networks = yookassa_networks(settings)

    # ------------------------------------------------------------ creating a payment

    def idempotence_key(self, order_id: int) -> str:
        """The same order always sends the same key; another deployment (another
        SECRET_KEY) sharing the shop never collides with ours."""
        mac = hmac.new(self.settings.secret_key.encode(), b"yookassa:%d" % order_id, "sha256")
        return f"kabinet-{order_id}-{mac.hexdigest()[:24]}"

    def receipt(self, description: str, amount: Decimal, email: str) -> dict[str, Any]:
        """The 54-FZ receipt: the cabinet's address, one item for the whole amount."""
        receipt: dict[str, Any] = {
            "customer": {"email": email},
            "items": [
                {
                    "description": description[:128],
                    "quantity": "1.00",
                    "amount": money(amount),
                    "vat_code": self.settings.yookassa_vat_code,
                    "payment_subject": "service",
                    "payment_mode": "full_payment",
                }
            ],
        }
        if self.settings.yookassa_tax_system_code:
            receipt["tax_system_code"] = self.settings.yookassa_tax_system_code
        return receipt

    def payment_body(self, order: Order) -> dict[str, Any]:
        body: dict[str, Any] = {
            "amount": money(order.amount),
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": order.return_url},
            "description": order.description[:128],
            "metadata": {"payment_id": str(order.id), "account_number": order.account_number},
        }
        if order.method in METHODS:
            body["payment_method_data"] = {"type": METHODS[order.method]}
        if order.save_method:
            body["save_payment_method"] = True
        if self.settings.yookassa_receipts:
            body["receipt"] = self.receipt(order.description, order.amount, order.email)
        return body

    def charge_body(self, order: Order, method_id: str) -> dict[str, Any]:
        """An autopayment: the saved method, no confirmation (the customer is not there)."""
        body: dict[str, Any] = {
            "amount": money(order.amount),
            "capture": True,
            "payment_method_id": method_id,
            "description": order.description[:128],
            "metadata": {"payment_id": str(order.id), "account_number": order.account_number},
        }
        if self.settings.yookassa_receipts:
            body["receipt"] = self.receipt(order.description, order.amount, order.email)
        return body

    async def charge_saved(self, order: Order, method_id: str) -> Charged:
        answer = await self._request(
            "POST",
            "/payments",
            json=self.charge_body(order, method_id),
            key=self.idempotence_key(order.id),
            what=f"autopayment {order.id}",
        )
        if not answer.get("id"):
            raise ProviderUnavailable("YooKassa's answer has no payment id")
        try:
            outcome = self.notification_of(answer, event_id=f"api:{answer['id']}")
        except BadNotification as exc:
            raise ProviderUnavailable(f"YooKassa's answer is not a payment: {exc}") from None
        return Charged(external_id=str(answer["id"]), outcome=outcome)

    async def create_payment(self, order: Order) -> Checkout:
        answer = await self._request(
            "POST",
            "/payments",
            json=self.payment_body(order),
            key=self.idempotence_key(order.id),
            what=f"payment {order.id}",
        )
        try:
            url = answer["confirmation"]["confirmation_url"]
            external_id = str(answer["id"])
        except (KeyError, TypeError):
            raise ProviderUnavailable("YooKassa's answer has no confirmation_url") from None
        return Checkout(external_id=external_id, confirmation_url=url)

    # ------------------------------------------------------------ refunds

    def refund_key(self, refund_id: int) -> str:
        mac = hmac.new(
            self.settings.secret_key.encode(), b"yookassa-refund:%d" % refund_id, "sha256"
        )
        return f"kabinet-rf-{refund_id}-{mac.hexdigest()[:24]}"

    def refund_body(self, order: RefundOrder) -> dict[str, Any]:
        body: dict[str, Any] = {
            "payment_id": order.payment_external_id,
            "amount": money(order.amount),
        }
        if self.settings.yookassa_receipts:
            body["receipt"] = self.receipt(order.description, order.amount, order.email)
        return body

    async def refund(self, order: RefundOrder) -> RefundResult:
        answer = await self._request(
            "POST",
            "/refunds",
            json=self.refund_body(order),
            key=self.refund_key(order.id),
            what=f"refund {order.id}",
        )
        return _refund_result(answer)

    async def refund_status(self, external_id: str) -> RefundNotification:
        """What the API says of a refund now (the notification's word is only a hint)."""
        try:
            answer = await self._request(
                "GET", f"/refunds/{_path_id(external_id)}", what=f"refund {external_id}"
            )
        except ProviderRefused as exc:
            raise BadNotification(f"YooKassa knows no refund {external_id!r}: {exc}") from None
        try:
            amount = answer["amount"]
            if amount["currency"] != "RUB":
                raise BadNotification(f"currency {amount['currency']!r}")
            return RefundNotification(
                payment_external_id=str(answer["payment_id"]),
                refund=_refund_result(answer),
                amount=Decimal(amount["value"]),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation, ProviderUnavailable):
            raise BadNotification("not a YooKassa refund") from None

    async def _request(
        self, method: str, path: str, *, what: str, json: Any = None, key: str = ""
    ) -> dict[str, Any]:
        """One API call, retried on a timeout, 429 or 5xx (with the same key)."""
        headers = {"Idempotence-Key": key} if key else {}
        timeout = self.settings.yookassa_timeout_seconds
        attempts = self.settings.yookassa_attempts
        problem = ""
        async with httpx.AsyncClient(auth=self.auth, timeout=timeout) as http:
            for attempt in range(attempts):
                if attempt:
                    await asyncio.sleep(
                        self.settings.yookassa_retry_base_seconds * 2 ** (attempt - 1)
                    )
                try:
                    response = await http.request(
                        method, self.base_url + path, json=json, headers=headers
                    )
                except httpx.TimeoutException:
                    problem = "timed out"
                    continue
                except httpx.TransportError as exc:
                    problem = f"unreachable: {exc.__class__.__name__}"
                    continue
                if response.status_code in RETRIED_STATUSES:
                    problem = f"HTTP {response.status_code}"
                    continue
                answer = _json(response)
                if response.status_code >= 400:
                    code = str(answer.get("code", "")) if answer else ""
                    log.error(
                        "yookassa: %s: %s %s refused: HTTP %s, code %r: %s",
                        what,
                        method,
                        path,
                        response.status_code,
                        code,
                        (answer or {}).get("description", ""),
                    )
                    raise ProviderRefused(f"HTTP {response.status_code} {code}", code)
                if answer is None:
                    problem = "not JSON"
                    continue
                return answer
        log.warning(
            "yookassa: %s: %s %s failed %d times: %s", what, method, path, attempts, problem
        )
        raise ProviderUnavailable(problem)

    # ------------------------------------------------------------ the shop itself

    async def shop_info(self) -> dict[str, Any]:
        """`GET /me`, YooKassa's information about the shop: `account_id`, `status`
        (enabled/disabled), `test`, `fiscalization.enabled`, `payment_methods`
        (`kabinet check --live`). Raises ProviderUnavailable, or ProviderRefused (401 for
        a wrong shop id or secret key)."""
        return await self._request("GET", "/me", what="the shop's settings")

    # ------------------------------------------------------------ what became of it

    async def payment_status(self, external_id: str) -> Notification | None:
        """What the API says of the payment now; None while it is not final."""
        try:
            payment = await self._request(
                "GET", f"/payments/{_path_id(external_id)}", what=f"payment {external_id}"
            )
        except ProviderRefused as exc:
            raise BadNotification(f"YooKassa knows no payment {external_id!r}: {exc}") from None
        return self.notification_of(payment, event_id=f"api:{external_id}")

    def notification_of(self, payment: Mapping[str, Any], event_id: str) -> Notification | None:
        status = STATUSES.get(payment.get("status", ""))
        if status is None:
            return None  # pending or waiting_for_capture: nothing to record yet
        try:
            amount = payment["amount"]
            if amount["currency"] != "RUB":
                raise BadNotification(f"currency {amount['currency']!r}")
            metadata = payment.get("metadata") or {}
            order_id = int(metadata["payment_id"]) if "payment_id" in metadata else None
            captured = payment.get("captured_at")
            reason = (payment.get("cancellation_details") or {}).get("reason", "")
            saved = _saved_method(payment.get("payment_method"))
            return Notification(
                event_id=event_id,
                external_id=str(payment["id"]),
                status=status,
                amount=Decimal(amount["value"]),
                paid_at=_datetime(captured) if captured else None,
                order_id=order_id,
                reason=str(reason)[:64],
                saved_method=saved if status == PaymentStatus.SUCCEEDED else None,
            )
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise BadNotification("not a YooKassa payment") from None

    def trusts(self, client_host: str) -> bool:
        try:
            address = ipaddress.ip_address(client_host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def verify_notification(
        self, body: bytes, headers: Mapping[str, str], client_host: str
    ) -> Notification | RefundNotification | None:
        if not self.trusts(client_host):
            raise UntrustedSender(f"{client_host} is not in YOOKASSA_NOTIFICATION_IPS")
        try:
            event = json.loads(body)
            kind = event["event"]
            object_id = str(event["object"]["id"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BadNotification("not a YooKassa notification") from None
        if event.get("type") != "notification" or kind not in EVENTS:
            raise BadNotification(f"not an event we take: {kind!r}")
        if kind == "refund.succeeded":
            # A refund `kabinet payments refund` left pending: what the API says of it.
            return await self.refund_status(object_id)
        return await self.payment_status(object_id)


def _saved_method(method: Any) -> SavedMethod | None:
    """The method YooKassa saved, with a title safe to show: its own `title` ("Bank card
    *4444"), else the card's last four digits; nothing else of the card is kept."""
    if not isinstance(method, dict) or method.get("saved") is not True or not method.get("id"):
        return None
    title = str(method.get("title") or "")
    card = method.get("card") if isinstance(method.get("card"), dict) else {}
    if not title and card.get("last4"):
        title = f"Bank card *{str(card['last4'])[-4:]}"
    return SavedMethod(id=str(method["id"])[:64], title=(title or str(method.get("type", "")))[:64])


def _refund_result(answer: Mapping[str, Any]) -> RefundResult:
    status = REFUND_STATUSES.get(str(answer.get("status", "")))
    if status is None or not answer.get("id"):
        raise ProviderUnavailable("YooKassa's answer is not a refund")
    return RefundResult(external_id=str(answer["id"]), status=status)


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _path_id(external_id: str) -> str:
    if not external_id or not all(c.isalnum() or c in "-_" for c in external_id):
        raise BadNotification(f"not a payment id: {external_id!r}")
    return external_id


def _datetime(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
