"""Helpers of the personal-data tests: the mutations, mail on the rules' clock."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from services.core.clock import clock as rules_clock
from tests.mail_fixtures import deliver_all, links_in

DELETE = """mutation($p: String!) { deleteCabinet(input: {password: $p}) {
  deletion { requestedAt erasesAt } userErrors { field message code retryAfter } } }"""
CANCEL = "mutation { cancelCabinetDeletion { canceled userErrors { code message } } }"
ME_DELETION = "{ me { email deletion { requestedAt erasesAt } } }"
EXPORT = """mutation { requestDataExport { export { requestedAt }
  userErrors { code message retryAfter } } }"""


async def mail_to(smtp, settings, address: str) -> list:
    """Every message the address got so far, after delivering what is due on the rules'
    clock (tests move it days ahead)."""

    def later() -> dt.datetime:  # the outbox dates mail by the wall clock
        return max(rules_clock.now(), dt.datetime.now(dt.UTC)) + dt.timedelta(seconds=1)

    await deliver_all(settings, clock=later)
    return [m for m in smtp.messages if address in m["To"]]


def token_of(message, path: str) -> str:
    [url] = [u for u in links_in(message) if urlsplit(u).path == path]
    assert url.startswith("https://lk.example.ru/")
    return parse_qs(urlsplit(url).query)["token"][0]
