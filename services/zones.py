"""Tariff zones of a meter and their names, as bills print them."""

from __future__ import annotations

ZONE_NAMES: dict[int, dict[str, tuple[str, ...]]] = {
    1: {"ru": ("Круглосуточно",), "en": ("Round the clock",)},
    2: {"ru": ("День", "Ночь"), "en": ("Day", "Night")},
    3: {"ru": ("Пик", "Ночь", "Полупик"), "en": ("Peak", "Night", "Half-peak")},
}


def zone_name(zones: int, zone: int, language: str = "ru") -> str:
    names = ZONE_NAMES.get(zones, ZONE_NAMES[3])
    labels = names.get(language, names["ru"])
    return labels[zone - 1] if 1 <= zone <= len(labels) else f"T{zone}"
