"""The one source of "now" for business rules, so tests can move time instead of sleeping."""

from __future__ import annotations

import datetime as dt


class Clock:
    def __init__(self) -> None:
        self._offset = dt.timedelta(0)
        self._frozen: dt.datetime | None = None

    def now(self) -> dt.datetime:
        """The current moment in UTC (aware)."""
        if self._frozen is not None:
            return self._frozen
        return dt.datetime.now(dt.UTC) + self._offset

    def advance(self, delta: dt.timedelta) -> None:
        if self._frozen is not None:
            self._frozen += delta
        else:
            self._offset += delta

    def freeze(self, moment: dt.datetime) -> None:
        self._frozen = moment.astimezone(dt.UTC)

    def reset(self) -> None:
        self._offset = dt.timedelta(0)
        self._frozen = None


clock = Clock()


def now() -> dt.datetime:
    return clock.now()
