"""Each custom scalar has one format, named by `@specifiedBy` and its description, and every
field of that scalar answers in it (docs/api.md#scalars): checked through real HTTP on the
values the server produces, and on the input it refuses."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from models.auth import Session
from services.core.clock import clock
from services.core.timeutil import format_moment, parse_moment
from tests.support import Api, codes

pytestmark = pytest.mark.usefixtures("demo_data")

MSK = ZoneInfo("Europe/Moscow")
FORMATS = {
    "DateTime": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z",
    "Date": r"\d{4}-\d{2}-\d{2}",
    "Decimal": r"-?\d+(\.\d+)?",
    "Money": r"-?\d+\.\d{2}",
    "Period": r"\d{4}-\d{2}",
}
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}

SCALARS = """{ __schema { types { name kind description specifiedByURL } } }"""

VALUES = """
query Values {
  rateLimit { resetAt }
  me {
    sessions { createdAt lastUsedAt expiresAt }
    accounts {
      balance balanceOn
      meters { installedOn nextVerificationOn }
      payments(first: 20) { nodes { amount paidAt } }
      receipts(first: 3) { nodes { period issuedOn dueOn charged lines { previous current consumption } } }
      consumption(months: 12) { month kwh kwhYearAgo amount }
    }
  }
}"""


def leaves(value, path=()):
    """(field name, value) of every leaf of an answer."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, path)
    elif value is not None:
        yield path[-1], value


async def test_every_custom_scalar_names_its_specification(api: Api) -> None:
    types = (await api.data(SCALARS))["__schema"]["types"]
    custom = {t["name"]: t for t in types if t["kind"] == "SCALAR" and t["name"] not in BUILT_IN}
    assert set(custom) == set(FORMATS), "a new scalar needs its format here and in docs/api.md"
    for name, kind in custom.items():
        assert kind["specifiedByURL"], name
        assert kind["specifiedByURL"].startswith("https://"), name
        assert "isoformat" not in kind["description"], name  # Strawberry's own, says nothing


async def test_every_value_is_in_its_scalar_s_format(api: Api) -> None:
    user = await api.signed_up()
    data = await user.data(VALUES)
    fields = {
        "DateTime": {"resetAt", "createdAt", "lastUsedAt", "expiresAt", "paidAt"},
        "Date": {"balanceOn", "installedOn", "nextVerificationOn", "issuedOn", "dueOn"},
        "Decimal": {"previous", "current", "consumption", "kwh", "kwhYearAgo"},
        "Money": {"balance", "amount", "charged"},
        "Period": {"period", "month"},
    }
    seen = set()
    for name, value in leaves(data):
        [scalar] = [s for s, names in fields.items() if name in names]
        assert isinstance(value, str), (name, value)
        assert re.fullmatch(FORMATS[scalar], value), (name, value)
        seen.add(name)
    assert seen == set().union(*fields.values())  # the demo data has each of them


async def test_a_moment_is_utc_to_the_second_whatever_the_clock_holds(api: Api) -> None:
    """The clock, and so the database, keep microseconds and may be in any zone; the API
    writes one shape: UTC, "Z", whole seconds (truncated, never rounded up)."""
    clock.freeze(dt.datetime(2026, 12, 6, 18, 57, 39, 987654, tzinfo=MSK))
    user = await api.signed_up()
    [session] = (await user.data("{ me { sessions { createdAt lastUsedAt } } }"))["me"]["sessions"]
    stored = await Session.get()
    assert stored.created_at.microsecond == 987654
    assert session["createdAt"] == "2026-12-06T15:57:39Z"
    assert session["lastUsedAt"] == format_moment(stored.last_used_at)
    assert dt.datetime.fromisoformat(session["lastUsedAt"]) == stored.last_used_at.replace(
        microsecond=0
    )


async def test_a_retry_time_is_utc_to_the_second(api: Api) -> None:
    clock.freeze(dt.datetime(2026, 12, 6, 18, 57, 39, 500000, tzinfo=MSK))
    await api.signed_up()
    for _ in range(6):
        await api.login("ivanova@mail.ru", "wrong-password")
    blocked = await api.login("ivanova@mail.ru")
    assert codes(blocked) == ["TOO_MANY_ATTEMPTS"]
    retry = blocked["userErrors"][0]["retryAfter"]
    assert re.fullmatch(FORMATS["DateTime"], retry), retry
    assert dt.datetime.fromisoformat(retry) - clock.now() <= dt.timedelta(seconds=30)


READINGS_FROM = """
query($from: Date!) { me { accounts { readings(from: $from, first: 1) { totalCount } } } }"""


@pytest.mark.parametrize(
    "value",
    [
        "20261206",  # ISO 8601 basic form
        "2026-W49-7",  # ISO 8601 week date
        "2026-12-06T00:00:00Z",  # a moment is not a date
        " 2026-12-06",
        "2026-02-30",
        "06.12.2026",
    ],
)
async def test_a_date_is_only_yyyy_mm_dd(api: Api, value: str) -> None:
    user = await api.signed_up()
    body = await user(READINGS_FROM, {"from": value})
    assert body.get("data") is None and body["errors"], body


async def test_a_date_in_its_format_is_taken(api: Api) -> None:
    user = await api.signed_up()
    data = await user.data(READINGS_FROM, {"from": "2026-12-06"})
    assert data["me"]["accounts"][0]["readings"]["totalCount"] >= 0


async def test_a_date_literal_in_another_form_is_refused(api: Api) -> None:
    user = await api.signed_up()
    body = await user('{ me { accounts { readings(from: "20261206") { totalCount } } } }')
    assert body.get("data") is None and body["errors"], body


# No field takes a DateTime as input yet; its parser is the scalar's, checked directly.
@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-12-06T15:57:39Z", dt.datetime(2026, 12, 6, 15, 57, 39, tzinfo=dt.UTC)),
        ("2026-12-06T18:57:39+03:00", dt.datetime(2026, 12, 6, 15, 57, 39, tzinfo=dt.UTC)),
        ("2026-12-06T15:57:39.999999Z", dt.datetime(2026, 12, 6, 15, 57, 39, tzinfo=dt.UTC)),
    ],
)
def test_a_moment_with_an_offset_is_read(text: str, moment: dt.datetime) -> None:
    assert parse_moment(text) == moment


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-06T15:57:39",  # no offset: which 15:57?
        "2026-12-06 15:57:39Z",
        "2026-12-06T15:57Z",
        "2026-12-06T15:57:39+0300",
        "2026-12-06",
        "2026-12-06T25:00:00Z",
        "20261206T155739Z",
    ],
)
def test_a_moment_in_another_form_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"RFC 3339|valid"):
        parse_moment(text)
