"""Payment QR codes in the format of ГОСТ Р 56042-2014, the one Russian banking apps scan.

The payload is text: the header `ST00012` (format ST, version 0001, encoding 2 = UTF-8),
then `Key=value` pairs, each introduced by the separator `|`. The standard has no escape
for the separator, so a value never contains it: `|`, line breaks and other control
characters in a value become one space. Values longer than the standard allows are cut
to its limits.

`Sum` is in kopecks. It is left out when nothing is due: a banking app then asks the payer
for the amount, which suits an advance payment, while `Sum=0` is refused by some apps and
shown as a payment of nothing by others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import segno

HEADER = "ST00012"
SEPARATOR = "|"

# Limits of the standard, in characters, for the fields this module writes.
LIMITS = {
    "Name": 160,
    "BankName": 45,
    "PayeeINN": 12,
    "KPP": 9,
    "Purpose": 210,
}
_DIGITS = {"PersonalAcc": 20, "BIC": 9, "CorrespAcc": 20}
_UNSAFE = re.compile(r"[|\x00-\x1f\x7f\u2028\u2029]+")
_SPACES = re.compile(r"\s{2,}")
TECH_CODE_UTILITIES = "02"  # ЖКХ и коммунальные услуги, the standard's list of technical codes


@dataclass(frozen=True)
class PaymentOrder:
    """What a payer's bank needs to pay one bill."""

    name: str  # the payee
    personal_acc: str  # the payee's settlement account, 20 digits
    bank_name: str
    bic: str
    corresp_acc: str
    payee_inn: str
    kpp: str
    purpose: str
    pers_acc: str  # the payer's account number with the payee (лицевой счёт)
    sum_kopecks: int | None = None  # None or <= 0: the payer types the amount
    paym_period: str = ""  # the billed month, MMYYYY
    tech_code: str = TECH_CODE_UTILITIES


def _clean(value: str) -> str:
    return _SPACES.sub(" ", _UNSAFE.sub(" ", value)).strip()


def gost_payload(order: PaymentOrder) -> str:
    """The ГОСТ Р 56042-2014 text of a payment order (UTF-8, separator `|`)."""
    fields = [
        ("Name", order.name),
        ("PersonalAcc", order.personal_acc),
        ("BankName", order.bank_name),
        ("BIC", order.bic),
        ("CorrespAcc", order.corresp_acc),
        ("PayeeINN", order.payee_inn),
        ("KPP", order.kpp),
        ("Sum", str(order.sum_kopecks) if order.sum_kopecks and order.sum_kopecks > 0 else ""),
        ("Purpose", order.purpose),
        ("PersAcc", order.pers_acc),
        ("PaymPeriod", order.paym_period),
        ("TechCode", order.tech_code),
    ]
    parts = [HEADER]
    for key, raw in fields:
        value = _clean(raw)[: LIMITS.get(key)]
        if key in _DIGITS and not (
            len(value) == _DIGITS[key] and value.isascii() and value.isdigit()
        ):
            raise ValueError(f"{key} must be {_DIGITS[key]} digits, got {raw!r}")
        if key == "Name" and not value:
            raise ValueError("Name (the payee) is required")
        if value:
            parts.append(f"{key}={value}")
    return SEPARATOR.join(parts)


def payment_qr(payload: str) -> segno.QRCode:
    """The QR code of a payload: error correction M (or better when it costs no size),
    byte mode in UTF-8, never a Micro QR, which banking apps do not read."""
    return segno.make(payload, error="m", encoding="utf-8", micro=False)
