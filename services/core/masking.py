"""What a stranger may see of an account's holder and address: enough to recognise the
payee, not enough to learn who lives where."""

from __future__ import annotations

import re

# The parts of an address from the house on: "д. 12", "дом 5", "кв. 34", "корп. 2", "стр. 1".
_HOUSE = re.compile(r"^(д|дом|кв|корп|к|стр|строение|офис|оф|комн|литера|лит)\b\.?", re.I)
_POSTCODE = re.compile(r"^\d{6}$")


def mask_holder(name: str) -> str:
    """The surname's first and last letters, the initials of the rest: "Иванова Мария
    Петровна" becomes "И*****а М. П."."""
    words = name.split()
    if not words:
        return ""
    surname, rest = words[0], words[1:]
    if len(surname) <= 2:
        masked = surname[0] + "*" * (len(surname) - 1)
    else:
        masked = surname[0] + "*" * (len(surname) - 2) + surname[-1]
    return " ".join([masked, *(f"{word[0]}." for word in rest)])


def street_of(address: str) -> str:
    """The address without the postcode and without anything from the house on."""
    parts = [part.strip() for part in address.split(",") if part.strip()]
    if parts and _POSTCODE.match(parts[0]):
        parts = parts[1:]
    kept = []
    for part in parts:
        if _HOUSE.match(part) or part[0].isdigit():
            break
        kept.append(part)
    return ", ".join(kept)
