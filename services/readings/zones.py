"""Tariff zones of a meter and their names: one table for the API, the bills and the charts."""

from __future__ import annotations

import functools
from collections.abc import Iterable

ZONE_NAMES: dict[int, dict[str, tuple[str, ...]]] = {
    1: {"ru": ("Круглосуточно",), "en": ("Round the clock",)},
    2: {"ru": ("День", "Ночь"), "en": ("Day", "Night")},
    3: {"ru": ("Пик", "Ночь", "Полупик"), "en": ("Peak", "Night", "Half-peak")},
}


def zone_count(zones: Iterable[int]) -> int:
    """How many zones the tariff has, from the zones a bill or reading lists: the highest
    one (a bill may leave out a zone it charged nothing for; the others keep their names)."""
    return max(zones, default=1)


def zone_name(zones: int, zone: int, language: str = "ru") -> str:
    """The name of register `zone` of a `zones`-zone tariff, as bills print it."""
    names = ZONE_NAMES.get(zones, ZONE_NAMES[3])
    labels = names.get(language, names["ru"])
    return labels[zone - 1] if 1 <= zone <= len(labels) else f"T{zone}"


@functools.lru_cache(maxsize=64)
def zone_names(zones: int, language: str = "ru") -> tuple[str, ...]:
    """`zone_name` of registers 1 to `zones` (at least 3) of a `zones`-zone tariff, worked
    out once (every reading and meter of a page names its zones)."""
    return tuple(zone_name(zones, zone, language) for zone in range(1, max(zones, 3) + 1))


class ZoneLabel:
    """A zone named in an error message, in the language the message is written in."""

    __slots__ = ("zone", "zones")

    def __init__(self, zones: int, zone: int) -> None:
        self.zones, self.zone = zones, zone

    def localized(self, language: str) -> str:
        return zone_name(self.zones, self.zone, language)

    def __repr__(self) -> str:
        return f"ZoneLabel({self.zones}, {self.zone})"
