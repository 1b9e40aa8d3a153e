"""The YooKassa shop of tests/payments/test_yookassa.py, for the other payment tests too."""

from tests.payments.test_yookassa import api_server, shop

__all__ = ["api_server", "shop"]
