"""Exporting a cabinet's data (requestDataExport): the ZIP holds exactly the cabinet's data
and no one else's (opened with zipfile, the bills parsed as PDFs), one export a day, the
link's 48 hours and what voids it. Real HTTP, real SMTP, both databases."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pypdf
import pytest

from models.accounts import Account
from models.auth import SecurityEvent, Session
from models.billing import Payment, Receipt
from models.cabinets import Cabinet
from models.metering import Meter, MeterReading
from models.privacy_requests import DataExport, DataExportContent, ExportState
from services.core.clock import clock as rules_clock
from services.privacy import jobs
from tests.privacy.support import EXPORT, mail_to, token_of
from tests.questions.support import answer, asked, photo, specialist, uploaded
from tests.support import (
    ACCOUNT_1,
    ACCOUNT_2,
    ACCOUNT_3,
    AMOUNT_1,
    AMOUNT_2,
    AMOUNT_3,
    PASSWORD,
    Api,
)

pytestmark = pytest.mark.usefixtures("demo_data")

IVANOVA, PETROV = "ivanova@mail.ru", "petrov@mail.ru"
CHANGE_PASSWORD = """mutation($c: String!, $n: String!) { changePassword(input:
  {currentPassword: $c, newPassword: $n}) { userErrors { code } } }"""
JSON_FILES = {
    "cabinet.json",
    "accounts.json",
    "readings.json",
    "payments.json",
    "receipts.json",
    "questions.json",
    "sessions.json",
    "security_events.json",
    "mail.json",
    "autopay.json",
    "notifications.json",
}


@pytest.fixture(autouse=True)
def frozen() -> None:
    rules_clock.freeze(dt.datetime.now(dt.UTC))


async def request_export(user: Api) -> dict:
    return (await user.data(EXPORT))["requestDataExport"]


async def exported(api: Api, user: Api, smtp, settings) -> str:
    """Ask for an export, let the job build it; the token of the mailed link."""
    assert (await request_export(user))["userErrors"] == []
    assert await jobs.run_once() == 1
    [mail] = [m for m in await mail_to(smtp, settings, IVANOVA) if "Выгрузка" in m["Subject"]]
    return token_of(mail, "/data-export")


async def download(api: Api, token: str):
    return await api.http.get("/data-export", params={"token": token})


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


async def test_the_zip_holds_exactly_the_cabinets_data(api: Api, smtp, smtp_settings) -> None:
    # Given a customer with two accounts and a question with a photo, answered ...
    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, IVANOVA)
    assert (await user.link(ACCOUNT_2, AMOUNT_2))["userErrors"] == []
    own_photo = photo()
    question = await asked(
        user, subject="Счётчик сломался", attachmentIds=[await uploaded(user, own_photo)]
    )
    staff = await specialist(api)
    assert (await answer(staff, question["id"], "Мастер придёт в среду."))["userErrors"] == []
    # ... and another customer with a question and a photo of his own.
    other = await api.signed_up(ACCOUNT_3, AMOUNT_3, PETROV)
    other_photo = photo("PNG", (50, 50))
    await asked(
        other,
        subject="Переплата за октябрь",
        body="Верните деньги",
        attachmentIds=[await uploaded(other, other_photo)],
    )

    token = await exported(api, user, smtp, smtp_settings)
    response = await download(api, token)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-disposition"].startswith("attachment; filename=")

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    data = {name[:-5]: json.loads(archive.read(name)) for name in JSON_FILES}
    cabinet = await Cabinet.get(email=IVANOVA)
    mine = await Account.filter(number__in=[ACCOUNT_1, ACCOUNT_2]).order_by("number")
    meters = await Meter.filter(account_id__in=[a.id for a in mine]).values_list("id", flat=True)
    receipts = await Receipt.filter(account_id__in=[a.id for a in mine]).count()

    # Exactly these files: the JSON of each kind, the photo, one PDF per bill.
    pdfs = sorted(n for n in names if n.startswith("receipts/"))
    assert names == JSON_FILES | {"README.txt", *pdfs, *[n for n in names if "photos/" in n]}
    assert len(pdfs) == receipts > 0
    [photo_name] = [n for n in names if n.startswith("photos/")]
    assert archive.read(photo_name) == own_photo
    assert other_photo not in [archive.read(n) for n in names]

    assert data["cabinet"]["email"] == IVANOVA
    assert [(a["number"], a["holder_name"], a["address"]) for a in data["accounts"]] == [
        (a.number, a.holder_name, a.address) for a in mine
    ]
    assert (
        len(data["readings"]["readings"])
        == await MeterReading.filter(meter_id__in=list(meters)).count()
    )
    assert (
        len(data["payments"]["received"])
        == await Payment.filter(account_id__in=[a.id for a in mine]).count()
    )
    assert {r["account"] for r in data["receipts"]} == {ACCOUNT_1, ACCOUNT_2}
    assert sorted(r["file"] for r in data["receipts"]) == pdfs
    for entry in data["receipts"]:
        text = pdf_text(archive.read(entry["file"]))
        assert entry["account"] in text
        assert ACCOUNT_3 not in text
    [q] = data["questions"]
    assert q["subject"] == "Счётчик сломался"
    assert [(m["from"], m["body"]) for m in q["messages"]] == [
        ("customer", "Передала показания 20-го, в кабинете их нет."),
        ("specialist", "Мастер придёт в среду."),
    ]
    assert q["messages"][0]["photos"] == [photo_name]
    assert len(data["sessions"]) == await Session.filter(cabinet_id=cabinet.id).count()
    assert len(data["security_events"]) == await SecurityEvent.filter(cabinet_id=cabinet.id).count()
    assert {m["to"] for m in data["mail"]} == {IVANOVA}
    assert "verify_email" in [m["kind"] for m in data["mail"]]

    # No one else's data anywhere in the JSON.
    petrov_account = await Account.get(number=ACCOUNT_3)
    strangers = [PETROV, ACCOUNT_3, "Переплата", "Верните деньги", petrov_account.address]
    strangers += [a.number for a in await Account.exclude(number__in=[ACCOUNT_1, ACCOUNT_2]).all()]
    if petrov_account.holder_name not in {a.holder_name for a in mine}:
        strangers.append(petrov_account.holder_name)
    for name in (*JSON_FILES, "README.txt"):
        text = archive.read(name).decode()
        assert not [s for s in strangers if s in text], name


async def test_one_export_a_day(api: Api) -> None:
    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, IVANOVA)
    first = await request_export(user)
    assert first["userErrors"] == []
    asked_at = dt.datetime.fromisoformat(first["export"]["requestedAt"])

    rules_clock.advance(dt.timedelta(hours=23, minutes=59))
    again = await request_export(user)
    [error] = again["userErrors"]
    assert error["code"] == "TOO_MANY_EXPORTS" and again["export"] is None
    assert dt.datetime.fromisoformat(error["retryAfter"]) == asked_at + dt.timedelta(days=1)
    assert "раз в сутки" in error["message"]

    rules_clock.advance(dt.timedelta(minutes=1))
    assert (await request_export(user))["userErrors"] == []
    assert await DataExport.filter(state=ExportState.PENDING).count() == 2


async def test_the_link_works_48_hours_then_the_file_goes(api: Api, smtp, smtp_settings) -> None:
    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, IVANOVA)
    token = await exported(api, user, smtp, smtp_settings)
    rules_clock.advance(dt.timedelta(hours=48) - dt.timedelta(seconds=1))
    assert (await download(api, token)).status_code == 200
    rules_clock.advance(dt.timedelta(seconds=1))
    assert (await download(api, token)).status_code == 404
    assert await jobs.run_once() == 0
    assert await DataExportContent.all().count() == 0  # the ZIP is deleted
    assert await DataExport.all().count() == 1  # the request stays: one a day


async def test_a_password_change_voids_the_link(api: Api, smtp, smtp_settings) -> None:
    user = await api.signed_up(ACCOUNT_1, AMOUNT_1, IVANOVA)
    token = await exported(api, user, smtp, smtp_settings)
    assert (await download(api, token + "x")).status_code == 404
    changed = await user.data(CHANGE_PASSWORD, {"c": PASSWORD, "n": "another-Brass-57-kettle"})
    assert changed["changePassword"]["userErrors"] == []
    response = await download(api, token)
    assert response.status_code == 404
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_specialists_have_no_export(api: Api) -> None:
    staff = await specialist(api)
    body = await staff(EXPORT)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
