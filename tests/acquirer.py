"""An acquirer module of the tests' own (PAYMENT_PROVIDER=tests.acquirer): one that is down.

It stands for a real acquirer where the tests need one - production settings, and an
acquirer that cannot be reached - without any network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from config import Settings
from payments.providers import BadNotification, Checkout, Notification, Order, ProviderUnavailable


class DownAcquirer:
    name = "tests.acquirer"

    def __init__(self) -> None:
        self.asked: list[Order] = []

    async def create_payment(self, order: Order) -> Checkout:
        self.asked.append(order)
        raise ProviderUnavailable("connection refused")

    def read_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        raise BadNotification("this acquirer never notifies")

    def routes(self) -> Sequence[Any]:
        return []


def provider(settings: Settings) -> DownAcquirer:
    return DownAcquirer()
