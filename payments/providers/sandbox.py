"""The sandbox acquirer: a payment page on our own server, for development and tests.

It behaves as a real acquirer does, minus the money. `create_payment` answers with a
confirmation URL (`/payments/sandbox/<order>`, the order signed so the sandbox needs no
storage of its own, the way an acquirer's page needs none of ours). The page itself is
HTTP and lives in `routes.sandbox`: pressing Pay or Cancel there sends the notification a
real acquirer would send, `notification()` below, as a JSON webhook POST to
`/payments/webhook/sandbox`, signed with HMAC-SHA256 (`payments.signing`).

Autopay works here too, for `make run`: an order that saves its method says so on the
page, and its success notification carries a simulated saved card ("Bank card *4444",
an id derived from the order); `charge_saved` succeeds at once, as a card with money does.

Never in production: the configuration refuses it there.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from config import Settings
from models.payments import PaymentStatus, RefundStatus
from payments.providers import (
    BadNotification,
    Charged,
    Checkout,
    Notification,
    Order,
    ProviderRefused,
    RefundOrder,
    RefundResult,
    SavedMethod,
)
from payments.signing import SignatureError, verify, webhook_secret
from services.core.clock import now

PAGE_PATH = "/payments/sandbox"
SAVED_TITLE = "Bank card *4444"  # the sandbox's simulated card
WEBHOOK_PATH = "/payments/webhook/sandbox"


def provider(settings: Settings) -> SandboxProvider:
    return SandboxProvider(settings)


class SandboxProvider:
    name = "sandbox"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.orders = URLSafeSerializer(settings.secret_key, salt="payments.sandbox.order")
        self.secret = webhook_secret(settings)

    def external_id(self, order_id: int) -> str:
        """The same order always gets the same id: creating it again finds it again."""
        mac = hmac.new(self.settings.secret_key.encode(), b"sandbox:%d" % order_id, "sha256")
        return "sbx_" + mac.hexdigest()[:24]

    async def create_payment(self, order: Order) -> Checkout:
        external_id = self.external_id(order.id)
        token = self.orders.dumps(
            {
                "id": external_id,
                "order": order.id,
                "amount": str(order.amount),
                "account": order.account_number,
                "description": order.description,
                "return": order.return_url,
                "expires": int(order.expires_at.timestamp()),
                "save": order.save_method,
            }
        )
        url = f"{self.settings.public_web_url}{PAGE_PATH}/{token}"
        return Checkout(external_id=external_id, confirmation_url=url)

    def saved_method(self, order_id: int) -> SavedMethod:
        mac = hmac.new(self.settings.secret_key.encode(), b"sandbox-method:%d" % order_id, "sha256")
        return SavedMethod(id="sbx_pm_" + mac.hexdigest()[:24], title=SAVED_TITLE)

    async def charge_saved(self, order: Order, method_id: str) -> Charged:
        """A simulated autopayment: taken at once (the same order, the same payment)."""
        if not method_id.startswith("sbx_pm_"):
            raise ProviderRefused(f"not a sandbox method: {method_id!r}", "invalid_request")
        external_id = self.external_id(order.id)
        outcome = Notification(
            event_id=f"charge:{external_id}",
            external_id=external_id,
            status=PaymentStatus.SUCCEEDED,
            amount=order.amount,
            paid_at=now(),
            order_id=order.id,
        )
        return Charged(external_id=external_id, outcome=outcome)

    async def refund(self, order: RefundOrder) -> RefundResult:
        """A local refund: no money moved, so it succeeds at once (the same refund, the
        same id)."""
        mac = hmac.new(self.settings.secret_key.encode(), b"sandbox-refund:%d" % order.id, "sha256")
        return RefundResult(
            external_id="sbx_rf_" + mac.hexdigest()[:24], status=RefundStatus.SUCCEEDED
        )

    def read_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        try:
            verify(self.secret, body, headers)
        except SignatureError as exc:
            raise BadNotification(str(exc)) from None
        try:
            event = json.loads(body)
            payment = event["payment"]
            status = PaymentStatus(payment["status"])
            if status == PaymentStatus.PENDING or payment.get("currency") != "RUB":
                raise ValueError(status)
            paid_at = payment.get("paid_at")
            method = payment.get("payment_method")
            saved = SavedMethod(str(method["id"]), str(method["title"])[:64]) if method else None
            return Notification(
                event_id=str(event["id"]),
                external_id=str(payment["id"]),
                status=status,
                amount=Decimal(payment["amount"]),
                paid_at=dt.datetime.fromisoformat(paid_at) if paid_at else None,
                saved_method=saved if status == PaymentStatus.SUCCEEDED else None,
            )
        except (ValueError, KeyError, TypeError, InvalidOperation):
            raise BadNotification("not a payment notification") from None

    def notification(self, order: dict[str, Any], status: PaymentStatus) -> bytes:
        """The JSON body of the webhook for `order` reaching `status`."""
        moment = now()
        event_mac = hmac.new(self.secret, f"{order['id']}:{status.value}".encode(), "sha256")
        event = {
            "id": "evt_" + event_mac.hexdigest()[:24],
            "type": f"payment.{status.value}",
            "created_at": moment.isoformat(),
            "payment": {
                "id": order["id"],
                "order_id": str(order["order"]),
                "amount": order["amount"],
                "currency": "RUB",
                "status": status.value,
                "paid_at": moment.isoformat() if status == PaymentStatus.SUCCEEDED else None,
            },
        }
        if order.get("save") and status == PaymentStatus.SUCCEEDED:
            method = self.saved_method(int(order["order"]))
            event["payment"]["payment_method"] = {"id": method.id, "title": method.title}
        return json.dumps(event, ensure_ascii=False).encode()

    def order(self, token: str) -> dict[str, Any] | None:
        """The order a confirmation URL's token signs; None when forged or damaged."""
        try:
            order = self.orders.loads(token)
        except BadSignature:
            return None
        return order if isinstance(order, dict) else None
