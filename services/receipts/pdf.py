"""The printable bill of a receipt: an A4 PDF made with fpdf2, PT Sans and a ГОСТ payment QR.

Rendering is a pure function of a `ReceiptDocument`: the same document gives the same
bytes (the creation date is the issue date, nothing random goes in), so a bill can be
cached, attached to an e-mail or compared in a test.

Layout, top to bottom, as Russian electricity bills are laid out: the company's
requisites beside the account number; the title with the billed month; the payer; the
meter readings, consumption, rates and charges per tariff zone; the settlement of the
period beside the payments received in it; and, below a cut line, the payment slip with
the QR code a banking app scans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from pathlib import Path

import fontpkg
from fpdf import FPDF, FontFace
from fpdf.table import Table

from services.core.money import format_rub, kopecks
from services.core.timeutil import format_date_ru, format_month_ru
from services.receipts.document import ReceiptDocument, ZoneCharge
from services.receipts.payment_qr import PaymentOrder, gost_payload, payment_qr

FONT = "PTSans"
FONT_FAMILY = "PT Sans"  # from the PyPI package fontpkg-pt-sans, covers Cyrillic
PAGE_W = 210.0
PAGE_H = 297.0
MARGIN = 12.0
WIDTH = PAGE_W - 2 * MARGIN
SLIP_H = 78.0
QR_SIDE = 42.0

INK = (33, 37, 41)
MUTED = (96, 105, 115)
ACCENT = (0, 84, 140)
TINT = (229, 239, 247)
RULE = (190, 198, 206)

LABEL = FontFace(size_pt=8, color=MUTED)
HEADING = FontFace(emphasis="BOLD", size_pt=8, color=ACCENT, fill_color=TINT)
BOLD = FontFace(emphasis="BOLD")
TOTAL = FontFace(emphasis="BOLD", size_pt=11, fill_color=TINT)


@cache
def font_files() -> tuple[Path, Path]:
    """Regular and bold PT Sans, from the installed font package."""
    return fontpkg.path(FONT_FAMILY, weight=400), fontpkg.path(FONT_FAMILY, weight=700)


def payment_order(doc: ReceiptDocument) -> PaymentOrder:
    """The payment the bill's QR code asks for: the amount due, to the company, for the
    account; no amount when nothing is due, so the payer can still pay in advance."""
    company = doc.company
    month = format_month_ru(doc.period)
    return PaymentOrder(
        name=company.name,
        personal_acc=company.settlement_account,
        bank_name=company.bank_name,
        bic=company.bic,
        corresp_acc=company.correspondent_account,
        payee_inn=company.inn,
        kpp=company.kpp,
        sum_kopecks=kopecks(doc.to_pay) or None,
        purpose=f"Оплата электроэнергии за {month}, лицевой счёт {doc.account_number}",
        pers_acc=doc.account_number,
        paym_period=f"{doc.period.month:02d}{doc.period.year:04d}",
    )


def render_receipt_pdf(doc: ReceiptDocument) -> bytes:
    """The bill as PDF bytes, identical for identical documents."""
    pdf = _new_pdf(doc)
    pdf.add_page()
    _header(pdf, doc)
    _title(pdf, doc)
    _payer(pdf, doc)
    _readings(pdf, doc)
    _settlement(pdf, doc)
    _slip(pdf, doc)
    return bytes(pdf.output())


# ---------------------------------------------------------------- formatting


def _kwh(value: Decimal | None) -> str:
    """A register value or consumption: digit groups, a decimal comma, no trailing zeros."""
    if value is None:
        return "—"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return text.replace(",", "\u00a0").replace(".", ",")


def _rub(value: Decimal | None) -> str:
    return "—" if value is None else format_rub(value)


def _meter_line(doc: ReceiptDocument) -> str:
    parts = []
    for meter in doc.meters:
        text = f"№ {meter.serial}"
        if meter.model:
            text += f", {meter.model}"
        if meter.next_verification_on:
            text += f", поверка до {format_date_ru(meter.next_verification_on)}"
        parts.append(text)
    return "; ".join(parts) or "—"


# ---------------------------------------------------------------- the page


def _new_pdf(doc: ReceiptDocument) -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    regular, bold = font_files()
    pdf.add_font(FONT, "", regular)
    pdf.add_font(FONT, "B", bold)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.set_creation_date(dt.datetime.combine(doc.issued_on, dt.time(), dt.UTC))
    month = format_month_ru(doc.period)
    pdf.set_title(f"Счёт-квитанция за {month}, лицевой счёт {doc.account_number}")
    pdf.set_author(doc.company.name)
    pdf.set_subject("Счёт-квитанция за электроэнергию")
    pdf.set_creator("kabinet")
    pdf.set_lang("ru")
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    return pdf


def _write(
    pdf: FPDF,
    text: str,
    *,
    size: float,
    w: float = 0,
    bold: bool = False,
    color: tuple[int, int, int] = INK,
    h: float | None = None,
    draw: bool = True,
) -> float:
    """A paragraph at the cursor that wraps within `w` (0: up to the right margin); the
    cursor ends below it, at the same x. Returns its height; with `draw=False` it only
    measures, and the cursor stays."""
    pdf.set_font(FONT, "B" if bold else "", size)
    line_h = h or size * 0.45
    if not draw:
        return pdf.multi_cell(w, line_h, text, dry_run=True, output="HEIGHT")
    top = pdf.get_y()
    pdf.set_text_color(*color)
    pdf.multi_cell(w, line_h, text, new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_text_color(*INK)
    return pdf.get_y() - top


def _header(pdf: FPDF, doc: ReceiptDocument) -> None:
    company = doc.company
    pdf.set_fill_color(*ACCENT)
    pdf.rect(MARGIN, MARGIN, WIDTH, 1.6, style="F")
    top = MARGIN + 4
    box_w = 56.0
    text_w = WIDTH - box_w - 6
    pdf.set_xy(MARGIN, top)
    _write(pdf, company.name, size=12, w=text_w, bold=True, color=ACCENT, h=5.6)
    pdf.ln(0.8)
    for line in (
        f"ИНН {company.inn}   КПП {company.kpp}",
        company.address,
        f"Телефон {company.phone}   ·   {company.site}",
        f"Р/с {company.settlement_account} в {company.bank_name}",
        f"БИК {company.bic}   К/с {company.correspondent_account}",
    ):
        _write(pdf, line, size=8, w=text_w, color=MUTED, h=3.8)
    left_bottom = pdf.get_y()

    x = MARGIN + WIDTH - box_w
    pdf.set_fill_color(*TINT)
    pdf.rect(x, top, box_w, 30, style="F")
    pdf.set_xy(x + 4, top + 3.5)
    _write(pdf, "ЛИЦЕВОЙ СЧЁТ", size=7.5, w=box_w - 8, color=MUTED, h=3.5)
    _write(pdf, doc.account_number, size=16, w=box_w - 8, bold=True, h=8)
    pdf.set_xy(x + 4, pdf.get_y() + 2)
    _write(pdf, "РАСЧЁТНЫЙ ПЕРИОД", size=7.5, w=box_w - 8, color=MUTED, h=3.5)
    _write(pdf, format_month_ru(doc.period), size=12, w=box_w - 8, bold=True, h=6)
    pdf.set_xy(MARGIN, max(left_bottom, top + 30) + 5)


def _title(pdf: FPDF, doc: ReceiptDocument) -> None:
    _write(
        pdf,
        f"Счёт-квитанция за электроэнергию за {format_month_ru(doc.period)} г.",
        size=15,
        bold=True,
        h=7,
    )
    _write(
        pdf,
        f"Выставлена {format_date_ru(doc.issued_on)}   ·   "
        f"оплатить до {format_date_ru(doc.due_on)}",
        size=9,
        color=MUTED,
        h=5,
    )
    pdf.ln(3)


@contextmanager
def _table(
    pdf: FPDF,
    col_widths: tuple[float, ...],
    *,
    size: float,
    width: float = WIDTH,
    text_align: str | tuple[str, ...] = "LEFT",
    headings: bool = False,
    align: str = "L",
) -> Iterator[Table]:
    """A table in the bill's style: thin rules between rows, tinted headings."""
    pdf.set_font(FONT, "", size)
    pdf.set_fill_color(255, 255, 255)  # the table takes the current fill as its cells'
    with pdf.table(
        col_widths=col_widths,
        width=width,
        align=align,
        borders_layout="HORIZONTAL_LINES",
        first_row_as_headings=headings,
        headings_style=HEADING,
        line_height=4.4,
        padding=(1.1, 1.5),
        text_align=text_align,
        v_align="TOP",
    ) as table:
        yield table


def _payer(pdf: FPDF, doc: ReceiptDocument) -> None:
    rows = (
        ("Плательщик", doc.holder_name),
        ("Адрес", doc.address),
        ("Тариф", doc.tariff or "—"),
        ("Прибор учёта", _meter_line(doc)),
    )
    with _table(pdf, (34, WIDTH - 34), size=9.5) as table:
        for label, value in rows:
            row = table.row()
            # padded so the smaller label sits on the value's baseline
            row.cell(label, style=LABEL, padding=(0.9, 1.5, 1.3, 1.5))
            row.cell(value, style=BOLD if label == "Плательщик" else None)
    pdf.ln(4)


def _section(pdf: FPDF, text: str, w: float = 0) -> None:
    _write(pdf, text, size=10.5, w=w, bold=True, color=ACCENT, h=5.5)
    pdf.set_xy(pdf.get_x(), pdf.get_y() + 1)


def _zone_title(doc: ReceiptDocument, zone: ZoneCharge) -> str:
    name = zone.name
    return name if len(doc.zones) == 1 and zone.zone == 1 else f"{name} (Т{zone.zone})"


def _readings(pdf: FPDF, doc: ReceiptDocument) -> None:
    _section(pdf, "Показания прибора учёта и начисления")
    with _table(
        pdf,
        (36, 30, 30, 28, 30, 32),
        size=9.5,
        headings=True,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
    ) as table:
        table.row(
            (
                "Тарифная зона",
                "Показания\nпредыдущие",
                "Показания\nтекущие",
                "Расход,\nкВт·ч",
                "Тариф,\nруб./кВт·ч",
                "Начислено,\nруб.",
            )
        )
        for zone in doc.zones:
            table.row(
                (
                    _zone_title(doc, zone),
                    _kwh(zone.previous),
                    _kwh(zone.current),
                    _kwh(zone.consumption),
                    _rub(zone.rate),
                    _rub(zone.amount),
                )
            )
        table.row(
            ("Итого за период", "", "", _kwh(doc.total_consumption), "", format_rub(doc.charged)),
            style=BOLD,
        )
    pdf.ln(4)


def _settlement(pdf: FPDF, doc: ReceiptDocument) -> None:
    """The period's settlement on the left, the payments received on the right."""
    top = pdf.get_y()
    left_w, gap = 98.0, 8.0
    right_w = WIDTH - left_w - gap
    start, end = format_date_ru(doc.period), format_date_ru(doc.issued_on)
    opening = (
        (f"Задолженность на {start}", doc.opening_balance)
        if doc.opening_balance >= 0
        else (f"Переплата на {start}", -doc.opening_balance)
    )
    rows = [
        opening,
        (f"Начислено за {format_month_ru(doc.period)}", doc.charged),
        ("Оплачено за период", doc.paid),
    ]
    if doc.amount_due < 0:
        rows.append((f"Переплата на {end}", -doc.amount_due))

    _section(pdf, "Расчёт за период", w=left_w)
    with _table(pdf, (66, 32), size=9.5, width=left_w, text_align=("LEFT", "RIGHT")) as table:
        for label, amount in rows:
            table.row((label, format_rub(amount)))
        table.row(("Итого к оплате, руб.", format_rub(doc.to_pay)), style=TOTAL)
    pdf.ln(1.5)
    _write(pdf, f"Оплатить до {format_date_ru(doc.due_on)}", size=9.5, bold=True, h=5)
    if doc.amount_due <= 0:
        _write(pdf, "Оплата не требуется.", size=9, color=MUTED, h=4.5)
    left_bottom = pdf.get_y()

    pdf.set_xy(MARGIN + left_w + gap, top)
    _section(pdf, "Платежи за период", w=right_w)
    with _table(
        pdf,
        (20, 22, right_w - 42),
        size=9,
        width=right_w,
        align="R",
        headings=True,
        text_align=("LEFT", "RIGHT", "LEFT"),
    ) as table:
        table.row(("Дата", "Сумма, руб.", "Способ оплаты"))
        for payment in doc.payments:
            table.row(
                (format_date_ru(payment.paid_on), format_rub(payment.amount), payment.channel)
            )
        if not doc.payments:
            table.row().cell("Платежей не поступало", colspan=3, style=LABEL)
    pdf.set_xy(MARGIN, max(left_bottom, pdf.get_y()) + 4)


def _cut_line(pdf: FPDF, y: float) -> None:
    pdf.set_dash_pattern(dash=1.2, gap=1.2)
    pdf.line(MARGIN, y, MARGIN + WIDTH, y)
    pdf.set_dash_pattern()
    note = "линия отреза"
    pdf.set_font(FONT, "", 6.5)
    note_w = pdf.get_string_width(note) + 4
    pdf.set_fill_color(255, 255, 255)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(MARGIN + (WIDTH - note_w) / 2, y - 1.5)
    pdf.cell(note_w, 3, note, align="C", fill=True)
    pdf.set_text_color(*INK)


def _slip(pdf: FPDF, doc: ReceiptDocument) -> None:
    """The payment slip with the QR code, at the foot of the page (at the top of a new
    one if the bill above it ran long). It grows with long names and addresses."""
    qr_col = QR_SIDE + 10
    x, w = MARGIN + qr_col + 5, WIDTH - qr_col - 9
    slip_h = max(SLIP_H, 4 + _slip_details(pdf, doc, x, w, draw=False) + 12)
    top = PAGE_H - MARGIN - slip_h
    if pdf.get_y() > top - 6:
        pdf.add_page()
        top = MARGIN + 6
    _cut_line(pdf, top - 4)
    pdf.rect(MARGIN, top, WIDTH, slip_h)
    pdf.set_fill_color(*TINT)
    pdf.rect(MARGIN, top, qr_col, slip_h, style="F")

    pdf.set_xy(MARGIN + 5, top + 4)
    _write(pdf, "ИЗВЕЩЕНИЕ", size=10, w=qr_col - 8, bold=True, color=ACCENT, h=5)
    _write(pdf, "Оплата по QR-коду", size=7.5, w=qr_col - 8, color=MUTED, h=3.6)
    qr_top = top + 16
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(MARGIN + 3, qr_top - 2, QR_SIDE + 4, QR_SIDE + 4, style="F")
    _draw_qr(pdf, gost_payload(payment_order(doc)), MARGIN + 5, qr_top, QR_SIDE)
    pdf.set_xy(MARGIN + 5, qr_top + QR_SIDE + 4)
    _write(
        pdf,
        "Наведите камеру в приложении банка: реквизиты и сумма заполнятся сами.",
        size=7,
        w=qr_col - 8,
        color=MUTED,
        h=3.2,
    )

    pdf.set_xy(x, top + 4)
    _slip_details(pdf, doc, x, w)
    pdf.set_xy(x, top + slip_h - 8)
    _write(
        pdf,
        "Подпись плательщика ______________________      Дата ______________",
        size=8,
        w=w,
        color=MUTED,
        h=4,
    )


def _slip_details(pdf: FPDF, doc: ReceiptDocument, x: float, w: float, draw: bool = True) -> float:
    """Whom to pay, for what, and how much, from the cursor down; returns the height.
    With `draw=False` it only measures, so the slip can be sized before it is drawn."""
    company = doc.company
    rows = (
        ("Получатель", company.name),
        ("ИНН / КПП", f"{company.inn} / {company.kpp}"),
        ("Расчётный счёт", company.settlement_account),
        (
            "Банк получателя",
            f"{company.bank_name}, БИК {company.bic}, к/с {company.correspondent_account}",
        ),
        ("Лицевой счёт", doc.account_number),
        ("Плательщик", doc.holder_name),
        ("Адрес", doc.address),
        ("Назначение", f"Оплата электроэнергии за {format_month_ru(doc.period)}"),
    )
    label_w = 28.0
    height = 0.0
    for label, value in rows:
        top = pdf.get_y()
        if draw:
            pdf.set_x(x)
        label_h = _write(pdf, label, size=7.5, w=label_w, color=MUTED, h=3.8, draw=draw)
        if draw:
            pdf.set_xy(x + label_w, top)
        value_h = _write(
            pdf, value, size=8.5, w=w - label_w, bold=label == "Лицевой счёт", h=3.8, draw=draw
        )
        row_h = max(label_h, value_h) + 0.9
        height += row_h
        if draw:
            pdf.set_xy(x, top + row_h)
    height += 2.5
    if draw:
        pdf.set_xy(x, pdf.get_y() + 2.5)
    if doc.amount_due > 0:
        amount, size, line_h = f"Сумма к оплате: {format_rub(doc.to_pay)} ₽", 14, 7.0
    else:
        amount, size, line_h = (
            f"Оплата не требуется: переплата {format_rub(-doc.amount_due)} ₽",
            11,
            6.0,
        )
    height += _write(pdf, amount, size=size, w=w, bold=True, h=line_h, draw=draw)
    due = f"Оплатить до {format_date_ru(doc.due_on)}"
    height += _write(pdf, due, size=9, w=w, h=4.5, draw=draw)
    return height


def _draw_qr(pdf: FPDF, payload: str, x: float, y: float, side: float) -> None:
    """The QR code as filled vector rectangles, one per run of dark modules in a row:
    sharp at any zoom and on any printer, and no image to encode."""
    qr = payment_qr(payload)
    matrix = qr.matrix
    module = side / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c, n = 0, len(row)
        while c < n:
            if not row[c] & 1:
                c += 1
                continue
            start = c
            while c < n and row[c] & 1:
                c += 1
            pdf.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")
