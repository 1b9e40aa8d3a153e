"""The printable bill: a real PDF, read back as a customer's software would read it.

Text comes out with pypdf, the page is rasterised with pypdfium2 and its QR code is
read with zxing-cpp, as a banking app's camera would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pypdfium2
import pytest
import zxingcpp

from services.core.money import format_rub, kopecks
from services.ops import demo
from services.receipts.document import ReceiptDocument, load_receipt_document
from services.receipts.payment_qr import gost_payload
from services.receipts.pdf import MARGIN, payment_order, render_receipt_pdf
from tests.billing.test_import import load_all, run
from tests.receipts.test_receipt_document import latest_receipt_id

MSK = ZoneInfo("Europe/Moscow")
TODAY = dt.date(2026, 11, 25)
MM = 72 / 25.4  # PDF points per millimetre


async def bill_of(number: str) -> ReceiptDocument:
    doc = await load_receipt_document(await latest_receipt_id(number))
    assert doc is not None
    return doc


def text_of(pdf: bytes) -> str:
    """The text of every page, whitespace (no-break spaces too) folded to single spaces."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def printed(amount) -> str:
    return format_rub(amount).replace("\u00a0", " ")


def qr_codes(pdf: bytes) -> list[str]:
    """The QR codes on the pages, decoded from a 200 dpi rendering, as UTF-8 text."""
    found = []
    document = pypdfium2.PdfDocument(pdf)
    try:
        for page in document:
            image = page.render(scale=200 / 72).to_pil()
            for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
                found.append(result.bytes.decode("utf-8"))
    finally:
        document.close()
    return found


def char_boxes(page: pypdfium2.PdfPage) -> list[tuple[float, float, float, float]]:
    """(left, bottom, right, top) in points of every printed character of a page."""
    textpage = page.get_textpage()
    boxes = [textpage.get_charbox(i) for i in range(textpage.count_chars())]
    return [box for box in boxes if box[2] > box[0] and box[3] > box[1]]  # spaces have none


def overprinted(pdf: bytes) -> list[tuple[int, float, float]]:
    """Characters printed over others: (page, x, y) of each pair whose ink boxes share
    more than a third of the smaller box. Neighbours in a word touch, never cover."""
    found = []
    document = pypdfium2.PdfDocument(pdf)
    try:
        for number, page in enumerate(document, start=1):
            boxes = sorted(char_boxes(page))
            for i, (left, bottom, right, top) in enumerate(boxes):
                for left2, bottom2, right2, top2 in boxes[i + 1 :]:
                    if left2 >= right:
                        break
                    w = min(right, right2) - left2
                    h = min(top, top2) - max(bottom, bottom2)
                    smaller = min(
                        (right - left) * (top - bottom), (right2 - left2) * (top2 - bottom2)
                    )
                    if w > 0 and h > 0 and w * h > smaller / 3:
                        found.append((number, round(left), round(bottom)))
    finally:
        document.close()
    return found


def gost_fields(payload: str) -> dict[str, str]:
    header, *pairs = payload.split("|")
    assert header == "ST00012"
    return dict(pair.split("=", 1) for pair in pairs)


async def test_a_demo_bill_reads_back_with_everything_a_customer_checks(db, settings) -> None:
    await demo.seed(TODAY, MSK)
    doc = await bill_of("001234567890")

    pdf = render_receipt_pdf(doc)

    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "001234567890" in text
    assert "Иванова Мария Петровна" in text
    assert "603005, г. Нижний Новгород, ул. Рождественская, д. 12, кв. 34" in text
    assert "Счёт-квитанция за электроэнергию за октябрь 2026" in text
    assert f"Итого к оплате, руб. {printed(doc.amount_due)}" in text
    assert f"Сумма к оплате: {printed(doc.amount_due)} ₽" in text
    assert "Оплатить до 10.11.2026" in text
    assert f"Задолженность на 01.10.2026 {printed(doc.opening_balance)}" in text
    assert f"Начислено за октябрь 2026 {printed(doc.charged)}" in text
    assert f"Оплачено за период {printed(doc.paid)}" in text
    assert "08.10.2026 1 500,00 Сбербанк Онлайн" in text
    assert "№ 36218457, Меркурий 200.02" in text
    for requisite in (
        settings.company_name,
        settings.company_inn,
        settings.company_kpp,
        settings.company_address,
        settings.company_phone,
        settings.company_site,
        settings.company_bic,
        settings.company_correspondent_account,
        settings.company_settlement_account,
    ):
        assert requisite in text
    for zone in doc.zones:
        assert printed(zone.amount) in text
        assert printed(zone.rate) in text

    metadata = pypdf.PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert "001234567890" in (metadata.title or "")
    assert metadata.creation_date.date() == doc.issued_on


async def test_the_qr_code_on_the_page_pays_the_amount_due_to_the_account(db, settings) -> None:
    await demo.seed(TODAY, MSK)
    doc = await bill_of("001234567891")

    (payload,) = qr_codes(render_receipt_pdf(doc))

    assert payload == gost_payload(payment_order(doc))
    fields = gost_fields(payload)
    assert fields["Sum"] == str(kopecks(doc.amount_due)) == "337074"
    assert fields["PersAcc"] == "001234567891"
    assert fields["Name"] == settings.company_name
    assert fields["PersonalAcc"] == settings.company_settlement_account
    assert fields["BankName"] == settings.company_bank_name
    assert fields["BIC"] == settings.company_bic
    assert fields["CorrespAcc"] == settings.company_correspondent_account
    assert fields["PayeeINN"] == settings.company_inn
    assert fields["KPP"] == settings.company_kpp
    assert fields["PaymPeriod"] == "102026"
    assert "октябрь 2026" in fields["Purpose"] and "001234567891" in fields["Purpose"]


async def test_the_same_bill_gives_the_same_bytes(db, settings) -> None:
    await demo.seed(TODAY, MSK)
    first = render_receipt_pdf(await bill_of("001234567890"))
    again = render_receipt_pdf(await bill_of("001234567890"))
    assert first == again
    other = render_receipt_pdf(await bill_of("001234567895"))
    assert other != first


@pytest.mark.parametrize(
    ("number", "present", "absent"),
    [
        ("001234567892", ["Круглосуточно"], ["День", "Ночь", "Пик", "(Т1)"]),
        ("001234567890", ["День (Т1)", "Ночь (Т2)"], ["Круглосуточно", "Пик", "Полупик"]),
        ("001234567891", ["Пик (Т1)", "Ночь (Т2)", "Полупик (Т3)"], ["Круглосуточно", "День"]),
    ],
)
async def test_each_tariff_prints_its_zones(
    db, settings, number: str, present: list[str], absent: list[str]
) -> None:
    await demo.seed(TODAY, MSK)
    doc = await bill_of(number)
    pdf = render_receipt_pdf(doc)
    text = text_of(pdf)
    for name in present:
        assert name in text
    for name in absent:
        assert name not in text
    for zone in doc.zones:
        assert printed(zone.amount) in text
    assert overprinted(pdf) == []


async def test_a_bill_in_credit_asks_for_nothing_and_its_qr_code_has_no_sum(
    db, settings, tmp_path: Path
) -> None:
    await load_all(tmp_path)  # 0012345 ends October 549.60 in credit
    doc = await bill_of("0012345")
    assert doc.amount_due < 0

    pdf = render_receipt_pdf(doc)

    text = text_of(pdf)
    assert "Итого к оплате, руб. 0,00" in text
    assert "Переплата на 01.11.2026 549,60" in text
    assert "Оплата не требуется: переплата 549,60 ₽" in text
    assert "Сумма к оплате" not in text
    (payload,) = qr_codes(pdf)
    fields = gost_fields(payload)
    assert "Sum" not in fields
    assert fields["PersAcc"] == "0012345"


async def test_a_bill_without_payments_says_so(db, settings) -> None:
    await demo.seed(TODAY, MSK)
    doc = await bill_of("001234567893")  # stopped paying in 2025
    assert doc.payments == ()
    assert "Платежей не поступало" in text_of(render_receipt_pdf(doc))


LONG_NAME = "Константинопольская-Старорусская Александра-Виктория Константиновна-Бестужева"
LONG_ADDRESS = (
    "603000, Нижегородская обл., городской округ город Нижний Новгород, "
    "г. Нижний Новгород, Нижегородский р-н, ул. Большая Покровская, д. 120, корп. 3, "
    "стр. 2, подъезд 4, этаж 11, кв. 1017, комната 2 (вход со двора, домофон 1017К)"
)


async def test_long_names_and_addresses_wrap_inside_the_page(db, settings, tmp_path: Path) -> None:
    await load_all(tmp_path)
    await run(
        tmp_path,
        "accounts",
        f"number;holder_name;address\n0012345;{LONG_NAME};{LONG_ADDRESS}\n",
        name="long.csv",
    )
    doc = await bill_of("0012345")

    pdf = render_receipt_pdf(doc)

    text = text_of(pdf)
    assert LONG_NAME in text
    assert LONG_ADDRESS in text
    document = pypdfium2.PdfDocument(pdf)
    try:
        for page in document:
            width, height = page.get_size()
            boxes = char_boxes(page)
            assert boxes
            inside = MARGIN * MM - 1
            for left, bottom, right, top in boxes:
                assert left >= inside and right <= width - inside
                assert bottom >= inside and top <= height - inside
    finally:
        document.close()
    assert overprinted(pdf) == []
    assert qr_codes(pdf)  # the slip still carries a readable QR code


async def test_rendering_is_pure(db, settings) -> None:
    await demo.seed(TODAY, MSK)
    doc = await bill_of("001234567894")
    renamed = dataclasses.replace(doc, holder_name="Волкова Елена Николаевна (по доверенности)")
    assert "(по доверенности)" in text_of(render_receipt_pdf(renamed))
    assert "(по доверенности)" not in text_of(render_receipt_pdf(doc))
