"""How the renderers write times, durations and percentages, one way for all of them."""

from __future__ import annotations

from datetime import datetime, tzinfo

__all__ = ["duration_text", "local_iso", "local_text", "percent_text", "seconds"]


def seconds(us: int) -> float:
    """Microseconds as seconds (exact for any period a report covers)."""
    return us / 1_000_000


def local_iso(value: datetime, tz: tzinfo) -> str:
    """ISO 8601 in the site's zone, with its offset: unambiguous, and readable there."""
    return value.astimezone(tz).isoformat()


def local_text(value: datetime, tz: tzinfo) -> str:
    """``2024-03-12 14:05:00`` in the site's zone, for a person."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def duration_text(us: int) -> str:
    """``26 h 05 min 30 s`` (seconds left out when zero; below a second rounds down)."""
    total = us // 1_000_000
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours} h {minutes:02d} min"
    return f"{text} {secs:02d} s" if secs else text


def percent_text(value: float | None) -> str:
    """``99.50 %``, or ``no data`` when the log holds nothing of the stretch."""
    return "no data" if value is None else f"{value:.2f} %"
