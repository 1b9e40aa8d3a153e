"""The ГОСТ Р 56042-2014 payload of a payment QR code, and the QR code itself."""

from __future__ import annotations

import dataclasses
import io

import pytest
import zxingcpp
from PIL import Image

from config import ROOT
from services.receipts.payment_qr import PaymentOrder, gost_payload, payment_qr

ORDER = PaymentOrder(
    name="АО «Энергосбыт Приволжья»",
    personal_acc="40702810042000012345",
    bank_name="ПАО «Приволжский расчётный банк»",
    bic="042202777",
    corresp_acc="30101810700000000777",
    payee_inn="5260123451",
    kpp="526001001",
    purpose="Оплата электроэнергии за октябрь 2026, лицевой счёт 001234567890",
    pers_acc="001234567890",
    sum_kopecks=173510,
    paym_period="102026",
)


def fields(payload: str) -> dict[str, str]:
    header, *pairs = payload.split("|")
    assert header == "ST00012"
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_payload_in_the_order_of_the_standard() -> None:
    assert gost_payload(ORDER) == (
        "ST00012|Name=АО «Энергосбыт Приволжья»|PersonalAcc=40702810042000012345"
        "|BankName=ПАО «Приволжский расчётный банк»|BIC=042202777"
        "|CorrespAcc=30101810700000000777|PayeeINN=5260123451|KPP=526001001|Sum=173510"
        "|Purpose=Оплата электроэнергии за октябрь 2026, лицевой счёт 001234567890"
        "|PersAcc=001234567890|PaymPeriod=102026|TechCode=02"
    )


def test_the_docs_show_a_payload_this_code_makes() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    (example,) = [line for line in page.splitlines() if line.startswith("ST00012|")]
    assert example == gost_payload(ORDER)


@pytest.mark.parametrize("amount", [None, 0, -1500])
def test_no_sum_when_nothing_is_due(amount: int | None) -> None:
    payload = gost_payload(dataclasses.replace(ORDER, sum_kopecks=amount))
    assert "Sum" not in fields(payload)
    assert fields(payload)["PersAcc"] == "001234567890"


def test_separators_and_line_breaks_never_reach_a_value() -> None:
    order = dataclasses.replace(
        ORDER, purpose="Оплата | за октябрь\r\n2026||л/с\t001234567890", pers_acc="|0012|"
    )
    payload = gost_payload(order)
    values = fields(payload)
    assert values["Purpose"] == "Оплата за октябрь 2026 л/с 001234567890"
    assert values["PersAcc"] == "0012"
    assert "\n" not in payload and "\r" not in payload
    assert payload.count("|") == len(values)


def test_values_are_cut_to_the_limits_of_the_standard() -> None:
    order = dataclasses.replace(ORDER, purpose="П" * 300, bank_name="Б" * 60)
    values = fields(gost_payload(order))
    assert values["Purpose"] == "П" * 210
    assert values["BankName"] == "Б" * 45


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("personal_acc", "4070281004200001234"),
        ("bic", "04220277X"),
        ("corresp_acc", "3010181070000000077７"),
        ("name", " | "),
    ],
)
def test_a_payment_no_bank_would_accept_is_refused(field: str, value: str) -> None:
    with pytest.raises(ValueError):
        gost_payload(dataclasses.replace(ORDER, **{field: value}))


def test_the_qr_code_reads_back_as_the_payload_in_utf8() -> None:
    payload = gost_payload(ORDER)
    png = io.BytesIO()
    payment_qr(payload).save(png, kind="png", scale=4, border=4)
    (result,) = zxingcpp.read_barcodes(Image.open(png))
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    assert result.bytes.decode("utf-8") == payload
