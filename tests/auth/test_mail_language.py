"""setMailLanguage: the cabinet's mail language (that letters then come in it:
tests/web/test_web_settings.py)."""

from __future__ import annotations

import pytest

from models.cabinets import Cabinet
from tests.support import Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

SET = """mutation($l: String!) { setMailLanguage(input: {language: $l}) {
  user { language } userErrors { field code message } } }"""


async def test_the_mail_language_is_chosen(api: Api) -> None:
    customer = await api.signed_up()
    assert (await Cabinet.get(email="ivanova@mail.ru")).language == "ru"
    done = (await customer.data(SET, {"l": "EN"}))["setMailLanguage"]
    assert done == {"user": {"language": "en"}, "userErrors": []}
    assert (await Cabinet.get(email="ivanova@mail.ru")).language == "en"
    refused = (await customer.data(SET, {"l": "de"}, **{"Accept-Language": "en"}))[
        "setMailLanguage"
    ]
    assert codes(refused) == ["UNSUPPORTED_LANGUAGE"]
    assert refused["userErrors"][0]["field"] == ["language"]
    assert refused["userErrors"][0]["message"] == "Letters come in Russian (ru) or English (en)."
    assert (await Cabinet.get(email="ivanova@mail.ru")).language == "en"
    # Nobody logged in: UNAUTHENTICATED
    api.http.cookies.clear()
    body = await api.as_user(None)(SET, {"l": "ru"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
