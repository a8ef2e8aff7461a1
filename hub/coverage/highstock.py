"""The high-stock periods a report's period overlaps, from the shop's own calendar.

The escalation feature owns the calendar (``hub.escalation.calendar``) and the shop's
choice of it (``escalation.high_stock``): the report reads the same one, so that the
weeks it shows as high-stock are the weeks the hub raised its posture. A shop whose
file has no ``escalation:`` section gets the shipped calendar, as the escalation
engine's defaults would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from hub.config import Config
from hub.escalation.calendar import HighStockCalendar
from hub.escalation.config import DEFAULT_CALENDAR, escalation_of, read_calendar

__all__ = ["HighStockWindow", "high_stock_windows"]


@dataclass(frozen=True, slots=True)
class HighStockWindow:
    """One high-stock period, whole (its days, and the instants they span).

    Attributes:
        name: the period's name (``Noël``).
        first_day: its first day, site time.
        last_day: its last day (included), site time.
        start: midnight at the start of the first day (aware).
        end: midnight at the end of the last day (aware).
    """

    name: str
    first_day: date
    last_day: date
    start: datetime
    end: datetime


def _calendar(config: Config) -> HighStockCalendar:
    tz = config.site.tzinfo
    settings = escalation_of(config)
    if settings is not None:
        return settings.high_stock.calendar(tz)
    rules, _issues = read_calendar(DEFAULT_CALENDAR, str(DEFAULT_CALENDAR))
    return HighStockCalendar(rules, (), tz)


def high_stock_windows(config: Config, start: datetime, end: datetime) -> list[HighStockWindow]:
    """The shop's high-stock periods in force at some point of ``[start, end)``."""
    calendar = _calendar(config)
    tz = calendar.tz
    return [
        HighStockWindow(p.name, p.start, p.end, p.starts_at(tz), p.ends_at(tz))
        for p in calendar.overlapping(start, end)
    ]
