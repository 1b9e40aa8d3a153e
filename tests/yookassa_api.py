"""A YooKassa API v3 of the tests' own: a real HTTP server on 127.0.0.1, in a thread.

Written from YooKassa's public API reference (yookassa.ru/developers/api): Basic auth with
the shop id and secret key; `POST /payments` requires an `Idempotence-Key` and answers the
same payment for the same key (a different body with the same key is a 400); the body's
shape is validated as the reference describes it; `GET /payments/{id}`; `GET /me`, the
information about the shop (`shop`, which a test may change); `POST /refunds` (Idempotence-Key required and honoured, a succeeded
payment of this shop, no more than is left of it) and `GET /refunds/{id}`; errors as
`{"type": "error", "code": ..., "description": ...}`. The test moves a payment on
(`succeed`, `cancel`) and queues faults for the next requests (`fail_next`).

Autopayments (yookassa.ru/developers/payment-acceptance/scenario-extensions/
recurring-payments): a payment created with `save_payment_method: true` that succeeds
carries `payment_method` with `saved: true`, its `id`, a `title` and the card's masked
details (`card.first6`, `card.last4`); a payment created with `payment_method_id` needs
no confirmation, and the id must name a method saved in this shop (else a 400 on
`payment_method_id`). Such a payment is answered final at once: succeeded, or canceled
with the reason the test queues (`charge_outcomes`, e.g. "insufficient_funds",
"permission_revoked"); "pending" leaves it for the test to move on.

The payer's side is here too, for browser tests: a payment's `confirmation_url` is a page
of this server (`/checkout/...`, no Basic auth: the payer's browser opens it) as YooKassa's
own would be - the amount, the shop's description, and for the method chosen (or a choice
of card, SBP and SberPay when the shop sent none) the buttons the payer presses: "Оплатить"
for a card, "Банк подтвердил оплату" for SBP and SberPay (the test plays the bank's app),
and "Отменить". A button moves the payment (succeeded, or canceled with
`cancellation_details`), sends the shop's HTTP notification to `notification_url` from
127.0.0.1 as YooKassa documents it (`{"type": "notification", "event": "payment.succeeded",
"object": <the payment>}`; each answer's status is kept in `notified`) and redirects the
browser to the payment's `return_url`. `decline_reason` makes the next payment the bank
declines (canceled with that reason, as YooKassa reports a refused card).
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SHOP_ID = "506751"
SECRET_KEY = "test_secret-key-of-the-tests"
AMOUNT = re.compile(r"^\d+\.\d{2}$")


@dataclass
class YooKassaApi:
    url: str = ""
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # "timeout", "429", "500", "400"
    lock: threading.Lock = field(default_factory=threading.Lock)
    stall_seconds: float = 1.0
    refund_status: str = "succeeded"  # what a new refund is: "pending" until succeed_refund
    saved_methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    charge_outcomes: list[str] = field(default_factory=list)  # next charges: a reason, "pending"
    checkout_url: str = ""  # this server's root: where the payer's pages are
    notification_url: str = ""  # the shop's "HTTP notifications" URL; empty: none are sent
    notified: list[tuple[str, int]] = field(default_factory=list)  # (event, the shop's status)
    decline_reason: str = ""  # set: the bank declines the next "pay", canceled with this reason
    chosen: dict[str, str] = field(default_factory=dict)  # method chosen on the page, by payment
    shop: dict[str, Any] = field(
        default_factory=lambda: {  # GET /me: a test shop with receipts through an online till
            "account_id": SHOP_ID,
            "test": True,
            "fiscalization_enabled": True,
            "fiscalization": {"enabled": True, "provider": "atol"},
            "payment_methods": ["bank_card", "sbp", "sberbank", "yoo_money"],
            "status": "enabled",
        }
    )

    def charges(self) -> list[dict[str, Any]]:
        """The bodies of the POST /payments requests that charged a saved method."""
        return [p["request"] for p in self.payments.values() if "payment_method_id" in p["request"]]

    def succeed_refund(self, refund_id: str) -> None:
        self.refunds[refund_id]["status"] = "succeeded"

    def fail_next(self, *faults: str) -> None:
        self.faults.extend(faults)

    def created(self) -> list[dict[str, Any]]:
        """The bodies of the POST /payments requests that made a payment."""
        return [p["request"] for p in self.payments.values()]

    def succeed(self, payment_id: str, last4: str = "4444") -> None:
        """Paid on YooKassa's page (by a card ending in `last4`); saved when asked to."""
        payment = self.payments[payment_id]
        payment.update(status="succeeded", paid=True, captured_at=_now())
        if "payment_method" not in payment:
            saved = payment["request"].get("save_payment_method") is True
            method = {
                "type": "bank_card",
                "id": str(uuid.uuid4()),
                "saved": saved,
                "title": f"Bank card *{last4}",
                "card": {
                    "first6": "555555",
                    "last4": last4,
                    "expiry_month": "12",
                    "expiry_year": "2030",
                    "card_type": "MasterCard",
                    "issuer_country": "RU",
                },
            }
            payment["payment_method"] = method
            if saved:
                self.saved_methods[method["id"]] = method

    def cancel(
        self, payment_id: str, reason: str = "insufficient_funds", party: str = "payment_network"
    ) -> None:
        payment = self.payments[payment_id]
        payment.update(status="canceled", cancellation_details={"party": party, "reason": reason})

    def notify(self, event: str, payment_id: str) -> None:
        """The shop's HTTP notification, as YooKassa sends it (from 127.0.0.1 here)."""
        if not self.notification_url:
            return
        body = {
            "type": "notification",
            "event": event,
            "object": self.public(self.payments[payment_id]),
        }
        request = urllib.request.Request(
            self.notification_url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:  # the shop cannot be reached: YooKassa would try again later
            status = 0
        self.notified.append((event, status))

    def public(self, payment: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in payment.items() if k != "request"}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _error(code: str, description: str, parameter: str = "") -> dict[str, Any]:
    error = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}
    if parameter:
        error["parameter"] = parameter
    return error


def _amount_problem(amount: Any) -> str:
    if not isinstance(amount, dict) or set(amount) != {"value", "currency"}:
        return "amount"
    if not isinstance(amount["value"], str) or not AMOUNT.match(amount["value"]):
        return "amount.value"
    return "" if amount["currency"] == "RUB" else "amount.currency"


def receipt_problem(receipt: Any, amount: dict[str, Any]) -> str:
    if not isinstance(receipt, dict):
        return "receipt"
    if "@" not in str((receipt.get("customer") or {}).get("email", "")):
        return "receipt.customer.email"
    items = receipt.get("items")
    if not isinstance(items, list) or not items:
        return "receipt.items"
    for item in items:
        if _amount_problem(item.get("amount")) or not AMOUNT.match(str(item.get("quantity"))):
            return "receipt.items.amount"
        if not isinstance(item.get("vat_code"), int) or not 1 <= item["vat_code"] <= 12:
            return "receipt.items.vat_code"
        if not item.get("description") or not item.get("payment_subject"):
            return "receipt.items"
        if not item.get("payment_mode"):
            return "receipt.items.payment_mode"
    total = sum(Decimal(i["amount"]["value"]) for i in items)
    return "" if total == Decimal(amount["value"]) else "receipt.items"


def refund_problem(body: Any, payments: dict[str, dict[str, Any]]) -> str:
    """The first parameter of a POST /refunds not as the reference describes it."""
    if not isinstance(body, dict) or not isinstance(body.get("payment_id"), str):
        return "payment_id"
    if problem := _amount_problem(body.get("amount")):
        return problem
    payment = payments.get(body["payment_id"])
    if payment is None or payment["status"] != "succeeded":
        return "payment_id"
    left = Decimal(payment["amount"]["value"]) - Decimal(
        payment.get("refunded_amount", {}).get("value", "0")
    )
    if Decimal(body["amount"]["value"]) > left:
        return "amount.value"
    if "receipt" in body:
        return receipt_problem(body["receipt"], body["amount"])
    return ""


def body_problem(body: Any) -> str:
    """The first parameter that is not as the reference describes it; empty when all are."""
    if not isinstance(body, dict):
        return "body"
    if problem := _amount_problem(body.get("amount")):
        return problem
    if body.get("capture") is not True:
        return "capture"
    if "save_payment_method" in body and not isinstance(body["save_payment_method"], bool):
        return "save_payment_method"
    if "payment_method_id" in body:  # an autopayment: no confirmation, no method data
        if "confirmation" in body or "payment_method_data" in body:
            return "confirmation"
        if not isinstance(body.get("description"), str) or len(body["description"]) > 128:
            return "description"
        receipt = body.get("receipt")
        return receipt_problem(receipt, body["amount"]) if receipt is not None else ""
    confirmation = body.get("confirmation")
    if not isinstance(confirmation, dict) or confirmation.get("type") != "redirect":
        return "confirmation"
    if not str(confirmation.get("return_url", "")).startswith(("https://", "http://")):
        return "confirmation.return_url"
    if not isinstance(body.get("description"), str) or len(body["description"]) > 128:
        return "description"
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        return "metadata"
    method = body.get("payment_method_data")
    if method is not None and method.get("type") not in {"bank_card", "sbp", "sberbank"}:
        return "payment_method_data.type"
    receipt = body.get("receipt")
    if receipt is not None:
        return receipt_problem(receipt, body["amount"])
    return ""


def _handler(api: YooKassaApi) -> type[BaseHTTPRequestHandler]:
    expected_auth = "Basic " + base64.b64encode(f"{SHOP_ID}:{SECRET_KEY}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _fault(self) -> str:
            with api.lock:
                return api.faults.pop(0) if api.faults else ""

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path.startswith(CHECKOUT):  # the payer's browser, not the shop
                return self._checkout(method, raw)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = "not json"
            api.requests.append((method, self.path, body))
            if self.headers.get("Authorization") != expected_auth:
                return self._send(401, _error("invalid_credentials", "Login or password is wrong"))
            fault = self._fault()
            if fault == "429":
                return self._send(429, _error("too_many_requests", "Wait and repeat"))
            if fault == "500":
                return self._send(500, _error("internal_server_error", "Try again later"))
            if fault == "400":
                return self._send(400, _error("invalid_request", "Shop is off", "shop"))
            answer = self._post(body) if method == "POST" else self._get()
            if fault == "timeout":  # the work is done, the answer comes too late
                time.sleep(api.stall_seconds)
            self._send(*answer)

        def _post(self, body: Any) -> tuple[int, dict[str, Any]]:
            if self.path not in ("/v3/payments", "/v3/refunds"):
                return 404, _error("not_found", "No such endpoint")
            key = self.headers.get("Idempotence-Key") or ""
            if not key or len(key) > 64:
                return 400, _error(
                    "invalid_request", "Idempotence-Key is required", "Idempotence-Key"
                )
            digest = json.dumps(body, sort_keys=True)
            with api.lock:
                if key in api.keys:
                    seen, payment = api.keys[key]
                    if seen != digest:
                        return 400, _error("invalid_request", "Idempotence key duplicated")
                    return 200, api.public(payment)
                if self.path == "/v3/refunds":
                    return self._refund(key, digest, body)
                if problem := body_problem(body):
                    return 400, _error("invalid_request", "Invalid parameter", problem)
                if "payment_method_id" in body:
                    return self._charge(key, digest, body)
                payment_id = str(uuid.uuid4())
                payment = {
                    "id": payment_id,
                    "status": "pending",
                    "paid": False,
                    "amount": body["amount"],
                    "confirmation": {
                        "type": "redirect",
                        "return_url": body["confirmation"]["return_url"],
                        "confirmation_url": f"{api.checkout_url}{CHECKOUT}?orderId={payment_id}",
                    },
                    "created_at": _now(),
                    "description": body["description"],
                    "metadata": body.get("metadata", {}),
                    "recipient": {"account_id": SHOP_ID, "gateway_id": "1"},
                    "refundable": False,
                    "test": True,
                    "request": body,
                }
                api.payments[payment_id] = payment
                api.keys[key] = (digest, payment)
                return 200, api.public(payment)

        def _charge(self, key: str, digest: str, body: Any) -> tuple[int, dict[str, Any]]:
            """A payment with a saved method: final at once, as the test arranged."""
            method = api.saved_methods.get(str(body["payment_method_id"]))
            if method is None or not method["saved"]:
                return 400, _error(
                    "invalid_request", "Payment method is not saved", "payment_method_id"
                )
            outcome = api.charge_outcomes.pop(0) if api.charge_outcomes else "succeeded"
            payment = {
                "id": str(uuid.uuid4()),
                "status": "pending",
                "paid": False,
                "amount": body["amount"],
                "created_at": _now(),
                "description": body["description"],
                "metadata": body.get("metadata", {}),
                "payment_method": dict(method),
                "recipient": {"account_id": SHOP_ID, "gateway_id": "1"},
                "refundable": False,
                "test": True,
                "request": body,
            }
            if outcome == "succeeded":
                payment.update(status="succeeded", paid=True, captured_at=_now())
            elif outcome != "pending":
                reason = {"party": "payment_network", "reason": outcome}
                payment.update(status="canceled", cancellation_details=reason)
            api.payments[payment["id"]] = payment
            api.keys[key] = (digest, payment)
            return 200, api.public(payment)

        def _refund(self, key: str, digest: str, body: Any) -> tuple[int, dict[str, Any]]:
            """A refund made at once (as YooKassa does for cards), or left pending."""
            if problem := refund_problem(body, api.payments):
                return 400, _error("invalid_request", "Invalid parameter", problem)
            payment = api.payments[body["payment_id"]]
            refunded = Decimal(payment.get("refunded_amount", {}).get("value", "0"))
            refunded += Decimal(body["amount"]["value"])
            payment["refunded_amount"] = {"value": f"{refunded:.2f}", "currency": "RUB"}
            refund = {
                "id": str(uuid.uuid4()),
                "payment_id": payment["id"],
                "status": api.refund_status,
                "created_at": _now(),
                "amount": body["amount"],
                "request": body,
            }
            api.refunds[refund["id"]] = refund
            api.keys[key] = (digest, refund)
            return 200, api.public(refund)

        def _get(self) -> tuple[int, dict[str, Any]]:
            if self.path == "/v3/me":
                return 200, api.shop
            match = re.fullmatch(r"/v3/refunds/([\w-]+)", self.path)
            if match:
                refund = api.refunds.get(match[1])
                if refund is None:
                    return 404, _error("not_found", "Refund not found")
                return 200, api.public(refund)
            match = re.fullmatch(r"/v3/payments/([\w-]+)", self.path)
            payment = api.payments.get(match[1]) if match else None
            if payment is None:
                return 404, _error("not_found", "Payment not found")
            return 200, api.public(payment)

        # ------------------------------------------------------------ the payer's pages

        def _html(self, status: int, text: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _checkout(self, method: str, raw: bytes) -> None:
            query = parse_qs(urlsplit(self.path).query)
            payment_id = (query.get("orderId") or [""])[0]
            payment = api.payments.get(payment_id)
            if payment is None:
                return self._html(404, page("Платёж не найден", "<p>Нет такого платежа.</p>"))
            if method == "GET":
                return self._html(200, checkout_page(api, payment))
            form = parse_qs(raw.decode())
            action = (form.get("action") or [""])[0]
            if payment["status"] != "pending":
                return self._html(200, checkout_page(api, payment))
            if action == "choose":
                api.chosen[payment_id] = (form.get("method") or [""])[0]
                return self._redirect(self.path)
            if action == "pay" and api.decline_reason:
                api.cancel(payment_id, api.decline_reason)
                api.decline_reason = ""
                event = "payment.canceled"
            elif action == "pay":
                kind = method_of(api, payment)
                api.succeed(payment_id)
                payment.update(
                    refundable=True,
                    payment_method={"type": kind, "id": str(uuid.uuid4()), "saved": False},
                )
                event = "payment.succeeded"
            elif action == "cancel":
                # The payer gave up. YooKassa cancels such a payment once its confirmation
                # expires (expired_on_confirmation); this page does it at once.
                api.cancel(payment_id, "expired_on_confirmation", party="yoo_money")
                event = "payment.canceled"
            else:
                return self._html(400, page("Ошибка", "<p>Неизвестное действие.</p>"))
            api.notify(event, payment_id)
            self._redirect(payment["confirmation"]["return_url"])

        def _redirect(self, location: str) -> None:
            self.send_response(303)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            self._handle("POST")

        def do_GET(self) -> None:
            self._handle("GET")

    return Handler


CHECKOUT = "/checkout/payments/v2/contract"
METHOD_NAMES = {"bank_card": "Банковская карта", "sbp": "СБП", "sberbank": "SberPay"}


def method_of(api: YooKassaApi, payment: dict[str, Any]) -> str:
    """The method the shop sent, or the one the payer chose on the page ("" for none yet)."""
    sent = (payment["request"].get("payment_method_data") or {}).get("type", "")
    return sent or api.chosen.get(payment["id"], "")


def rubles(value: str) -> str:
    """ "1234.50" as a Russian page prints it: 1 234,50 ₽."""
    return f"{Decimal(value):,.2f}".replace(",", " ").replace(".", ",") + " ₽"


def page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        f'<link rel="icon" href="data:,"><title>{html.escape(title)}</title></head>'
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


def _buttons(*buttons: tuple[str, str, str]) -> str:
    """One form per button: (action, a hidden method or "", the button's text)."""
    forms = []
    for action, method, text in buttons:
        chosen = f'<input type="hidden" name="method" value="{method}">' if method else ""
        forms.append(
            f'<form method="post"><input type="hidden" name="action" value="{action}">'
            f"{chosen}<button>{html.escape(text)}</button></form>"
        )
    return "".join(forms)


def checkout_page(api: YooKassaApi, payment: dict[str, Any]) -> str:
    """The payer's page of a payment, as YooKassa's confirmation_url shows it."""
    summary = (
        f"<p>{html.escape(payment['description'])}</p>"
        f'<p class="amount">К оплате: {rubles(payment["amount"]["value"])}</p>'
    )
    if payment["status"] != "pending":
        back = html.escape(payment["confirmation"]["return_url"])
        return page(
            "Платёж уже обработан", summary + f'<p><a href="{back}">Вернуться в магазин</a></p>'
        )
    kind = method_of(api, payment)
    if not kind:
        choice = _buttons(*(("choose", k, name) for k, name in METHOD_NAMES.items()))
        return page("Выберите способ оплаты", summary + choice)
    if kind == "bank_card":
        return page(
            "Оплата банковской картой",
            summary + _buttons(("pay", "", "Оплатить"), ("cancel", "", "Отменить")),
        )
    app = "СберБанк Онлайн" if kind == "sberbank" else "своего банка"
    return page(
        f"Оплата через {METHOD_NAMES[kind]}",
        summary
        + f"<p>Откройте приложение {app} и подтвердите платёж.</p>"
        + _buttons(("pay", "", "Банк подтвердил оплату"), ("cancel", "", "Отменить")),
    )


@contextmanager
def running_api() -> Iterator[YooKassaApi]:
    api = YooKassaApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    api.checkout_url = f"http://127.0.0.1:{server.server_address[1]}"
    api.url = f"{api.checkout_url}/v3"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
