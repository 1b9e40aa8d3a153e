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


class ZoneLabel:
    """A zone named in an error message, in the language the message is written in."""

    __slots__ = ("zone", "zones")

    def __init__(self, zones: int, zone: int) -> None:
        self.zones, self.zone = zones, zone

    def localized(self, language: str) -> str:
        return zone_name(self.zones, self.zone, language)

    def __repr__(self) -> str:
        return f"ZoneLabel({self.zones}, {self.zone})"
