"""The period a report covers, read from what a person types.

A shop asks for "the coverage from the 1st to the 31st of March": whole days, in the
shop's own time zone, the last day included. So a bare date (``2024-03-31``) is a day
of the site's calendar: ``--from`` is its first moment (midnight, site time) and
``--to`` the end of it (midnight after it, site time). A date and time
(``2024-03-31T18:30``, with an offset or without one, then read in the site's zone) is
that instant, and the period ends just before ``--to``. Every instant is kept in UTC;
the report shows them in the site's zone.

A period must end after it starts, and last at most ``MAX_DAYS`` (a report per year
for a five-year authorisation): anything else is a ``PeriodError`` naming what was
typed, never a report over a period the person did not mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final

__all__ = ["MAX_DAYS", "PeriodError", "ReportPeriod", "parse_period"]

#: The longest period a report covers, in days.
MAX_DAYS: Final = 366

#: A time of day, after a ``T`` or a space: what tells a date and time from a date.
_TIME_OF_DAY: Final = re.compile(r"[Tt ]\d")


def _is_date(value: str) -> bool:
    """A day alone (``2024-03-31``, ``20240331``), without a time of day."""
    return _TIME_OF_DAY.search(value) is None


class PeriodError(ValueError):
    """A period that cannot be reported on; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """The instants ``[start, end)`` a report covers (aware, UTC)."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        """Its length in seconds."""
        return (self.end - self.start).total_seconds()


def _bound(text: str, name: str, tz: tzinfo, *, is_end: bool) -> datetime:
    value = text.strip()
    if not value:
        raise PeriodError(f"{name}: empty; give a date (2024-03-31) or a date and time")
    try:
        if _is_date(value):
            day = date.fromisoformat(value)
            if is_end:
                day += timedelta(days=1)
            moment = datetime.combine(day, time(0), tz)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise PeriodError(
            f"{name}: {value[:40]!r} is not a date (2024-03-31) or a date and time"
            f" (2024-03-31T18:30, 2024-03-31T18:30+02:00): {exc}"
        ) from None


def parse_period(
    start: str, end: str, tz: tzinfo, *, names: tuple[str, str] = ("--from", "--to")
) -> ReportPeriod:
    """The period from ``start`` to ``end`` as typed.

    Args:
        start: a date (its midnight, site time) or a date and time.
        end: a date (the end of that day, site time: the day is included) or a date
            and time (excluded).
        tz: the site's time zone, for dates and for times given without an offset.
        names: how the two are called in messages (``--from``, or ``from`` for the
            API's query parameters).

    Raises:
        PeriodError: either is not a date or a time, the period is empty or reversed,
            or it is longer than ``MAX_DAYS``.
    """
    first = _bound(start, names[0], tz, is_end=False)
    last = _bound(end, names[1], tz, is_end=True)
    if last <= first:
        raise PeriodError(
            f"{names[0]} {start.strip()} is not before {names[1]} {end.strip()}:"
            " the period is empty"
        )
    if last - first > timedelta(days=MAX_DAYS):
        raise PeriodError(
            f"{names[0]} {start.strip()} to {names[1]} {end.strip()} is longer than"
            f" {MAX_DAYS} days: make one report per year"
        )
    return ReportPeriod(first, last)
