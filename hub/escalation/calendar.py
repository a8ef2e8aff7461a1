"""High-stock periods: the weeks when a jeweller holds the most stock.

Saint-Valentin, the Fête des mères and Christmas are when shops hold the most stock
and take the most cash, and when hold-ups cluster. During such a period the hub raises
its posture: acknowledgement deadlines are shortened and the referents are told when
the period starts and ends, so that patrols can be planned.

The shared periods move from year to year (the Fête des mères is the last Sunday of
May, or the first Sunday of June when that is Pentecost: loi n° 50-577 du 24 mai
1950), so they are written as *rules* evaluated for each year, not as dates. A shop
adds its own dated periods (a braderie, a sale) in its configuration.

Days are the site's days: a period runs from midnight at the start of its first day to
midnight at the end of its last day, in the site's time zone.
"""

from __future__ import annotations

import calendar as _calendar
import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Final

__all__ = [
    "WEEKDAYS",
    "DateRule",
    "HighStockCalendar",
    "HighStockPeriod",
    "PeriodRule",
    "easter_sunday",
]

#: Weekday names as the calendar file writes them, Monday first (``date.weekday()``).
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday of ``year``.

    The anonymous Gregorian algorithm (Meeus/Jones/Butcher); Pentecost Sunday is 49
    days later.
    """
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The ``nth`` given weekday of a month (1 first, -1 last); clamped to the month."""
    days = _calendar.monthrange(year, month)[1]
    if nth > 0:
        first = date(year, month, 1)
        day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
        while day.month != month:  # a fifth Monday that does not exist: the last one
            day -= timedelta(days=7)
        return day
    last = date(year, month, days)
    day = last - timedelta(days=(last.weekday() - weekday) % 7 + 7 * (-nth - 1))
    while day.month != month:
        day += timedelta(days=7)
    return day


@dataclass(frozen=True, slots=True)
class DateRule:
    """A day of the year, written so that it can be evaluated for any year.

    Exactly one base form is set:

    * ``month`` and ``day``: a fixed day (``{month: 2, day: 14}``);
    * ``month``, ``weekday`` and ``nth``: the nth weekday of a month, ``nth: -1`` for
      the last (``{month: 5, weekday: sunday, nth: -1}``);
    * ``easter``: days after Easter Sunday (``{easter: 49}`` is Pentecost).

    Attributes:
        offset: days added to the result (negative for before).
        unless, then: when the base day falls on ``unless``, ``then`` is used instead
            (the Fête des mères moves to June when it falls on Pentecost).
    """

    month: int | None = None
    day: int | None = None
    weekday: int | None = None
    nth: int | None = None
    easter: int | None = None
    offset: int = 0
    unless: DateRule | None = None
    then: DateRule | None = None

    def on(self, year: int) -> date:
        """The day this rule gives in ``year``."""
        if self.easter is not None:
            base = easter_sunday(year) + timedelta(days=self.easter)
        elif self.weekday is not None:
            base = _nth_weekday(year, self.month or 1, self.weekday, self.nth or 1)
        else:
            base = date(year, self.month or 1, self.day or 1)
        if self.unless is not None and self.then is not None and base == self.unless.on(year):
            base = self.then.on(year)
        return base + timedelta(days=self.offset)

    def shifted(self, days: int) -> DateRule:
        """The same rule, ``days`` later (earlier when negative)."""
        return dataclasses.replace(self, offset=self.offset + days)


@dataclass(frozen=True, slots=True, order=True)
class HighStockPeriod:
    """One period on the calendar, with its days (both inclusive).

    Attributes:
        start: the first day.
        end: the last day (the period ends at midnight after it).
        name: how the referents and the shop call it.
    """

    start: date
    end: date
    name: str

    def starts_at(self, tz: tzinfo) -> datetime:
        """Midnight at the start of the first day, in ``tz``."""
        return datetime.combine(self.start, time(0), tz)

    def ends_at(self, tz: tzinfo) -> datetime:
        """Midnight at the end of the last day, in ``tz``."""
        return datetime.combine(self.end + timedelta(days=1), time(0), tz)

    @property
    def key(self) -> str:
        """A stable identity (name and first day), used to tell each referent once."""
        return f"{self.name}@{self.start.isoformat()}"


@dataclass(frozen=True, slots=True)
class PeriodRule:
    """A period that comes back every year.

    Attributes:
        name: the period's name.
        start: its first day.
        end: its last day; when it falls before ``start`` in the same year, the period
            runs into the next year (``Dec 20`` to ``Jan 5``).
    """

    name: str
    start: DateRule
    end: DateRule

    def in_year(self, year: int) -> HighStockPeriod:
        """The period that starts in ``year``."""
        first = self.start.on(year)
        last = self.end.on(year)
        if last < first:
            last = self.end.on(year + 1)
        return HighStockPeriod(first, last, self.name)


class HighStockCalendar:
    """The shared rules and the shop's own periods, in the site's time zone.

    Args:
        rules: periods that come back every year.
        periods: the shop's own dated periods.
        tz: the site's time zone.
    """

    def __init__(
        self, rules: Sequence[PeriodRule], periods: Iterable[HighStockPeriod], tz: tzinfo
    ) -> None:
        self.rules = tuple(rules)
        self.periods = tuple(periods)
        self.tz = tz
        # The last ``active`` answer, with the instants between which it holds: the
        # engine asks on every escalation, and the answer changes only at a boundary.
        self._memo: tuple[datetime, datetime | None, tuple[HighStockPeriod, ...]] | None = None

    def in_year(self, year: int) -> list[HighStockPeriod]:
        """Every period that starts in ``year``, by start."""
        found = [rule.in_year(year) for rule in self.rules]
        found += [p for p in self.periods if p.start.year == year]
        return sorted(found)

    def overlapping(self, start: datetime, end: datetime) -> list[HighStockPeriod]:
        """Periods that are in force at some point in ``[start, end)``, by start."""
        found: list[HighStockPeriod] = []
        first = start.astimezone(self.tz).year - 1
        last = end.astimezone(self.tz).year
        for year in range(first, last + 1):
            for period in self.in_year(year):
                if period.starts_at(self.tz) < end and period.ends_at(self.tz) > start:
                    found.append(period)
        return sorted(set(found))

    def active(self, now: datetime) -> list[HighStockPeriod]:
        """The periods in force at ``now``, by start."""
        memo = self._memo
        if memo is not None:
            since, until, periods = memo
            if since <= now and (until is None or now < until):
                return list(periods)
        found = self.overlapping(now, now + timedelta(microseconds=1))
        self._memo = (now, self.next_boundary(now), tuple(found))
        return found

    def next_boundary(self, now: datetime) -> datetime | None:
        """The next instant after ``now`` when a period starts or ends."""
        horizon = now + timedelta(days=800)
        times = [
            t
            for period in self.overlapping(now, horizon)
            for t in (period.starts_at(self.tz), period.ends_at(self.tz))
            if t > now
        ]
        return min(times) if times else None
