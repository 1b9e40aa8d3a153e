"""Helpers for tests that talk GraphQL over HTTP and count SQL queries."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import httpx

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    user { email emailVerified }
    userErrors { field message code retryAfter }
  }
}"""

RESET = "mutation($e: String!) { requestPasswordReset(input: {email: $e}) { accepted userErrors { code } } }"
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    token expiresAt user { email emailVerified }
    userErrors { field message code retryAfter }
  }
}"""

LINK = """
mutation Link($input: LinkAccountInput!) {
  linkAccount(input: $input) {
    account { id number }
    userErrors { field message code retryAfter }
  }
}"""

PASSWORD = "synthetic-Lamp-42-river"
PRIVACY_NOTICE = "2026-12-01"  # PRIVACY_NOTICE_VERSION's default: what a client shows

# Demo accounts (services/ops/demo.py) and the amounts that prove them.
ACCOUNT_1, AMOUNT_1 = "001234567890", "1500.00"
ACCOUNT_2, AMOUNT_2 = "001234567891", "2750.00"
ACCOUNT_3, AMOUNT_3 = "001234567892", "640.50"
SILENT_ACCOUNT = "001234567893"  # no payment in the last year
ACCOUNT_5, AMOUNT_5 = "001234567894", "900.00"
ACCOUNT_6, AMOUNT_6 = "001234567895", "1200.00"


class Api:
    """POST GraphQL documents to the app; `as_user` sends a bearer token."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    def as_user(self, token: str | None) -> Api:
        return Api(self.http, token)

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.raw(query, variables, **headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, **headers: str):
        body = await self(query, variables, **headers)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def session_ended(self) -> str | None:
        """Why this client's token is no live session (UNAUTHENTICATED's `reason`: EXPIRED,
        REVOKED, INVALID), or None while it is one."""
        body = await self("{ me { id } }")
        if body.get("errors"):
            [error] = body["errors"]
            assert error["extensions"]["code"] == "UNAUTHENTICATED", body
            assert "data" not in body, body
            return error["extensions"]["reason"]
        assert body["data"]["me"] is not None, body
        return None

    async def register(
        self,
        account: str,
        amount: str,
        email: str,
        password: str = PASSWORD,
        privacy_notice: str | None = PRIVACY_NOTICE,
        **headers: str,
    ) -> dict[str, Any]:
        data = await self.data(
            REGISTER,
            {
                "input": {
                    "accountNumber": account,
                    "paymentAmount": amount,
                    "email": email,
                    "password": password,
                    "acceptPrivacyNotice": privacy_notice,
                }
            },
            **headers,
        )
        return data["register"]

    async def login(self, email: str, password: str = PASSWORD, **headers: str) -> dict[str, Any]:
        data = await self.data(LOGIN, {"input": {"email": email, "password": password}}, **headers)
        return data["login"]

    async def link(self, account: str, amount: str) -> dict[str, Any]:
        data = await self.data(LINK, {"input": {"accountNumber": account, "paymentAmount": amount}})
        return data["linkAccount"]

    async def signed_up(
        self, account: str = ACCOUNT_1, amount: str = AMOUNT_1, email: str = "ivanova@mail.ru"
    ) -> Api:
        """Register and log in; returns an Api acting as that cabinet."""
        registered = await self.register(account, amount, email)
        assert registered["userErrors"] == [], registered
        logged_in = await self.login(email)
        assert logged_in["userErrors"] == [], logged_in
        return self.as_user(logged_in["token"])


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


class QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.queries.append(message)


@contextlib.contextmanager
def count_queries() -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)
