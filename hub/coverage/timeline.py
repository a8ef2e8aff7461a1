"""The timeline picture: one lane per camera and per zone over the period, as inline SVG.

A month of a camera that changes every minute is tens of thousands of segments, more
than a page can draw or a prefecture's printer can print. The picture has a fixed
width in columns, and each column of a lane takes the **worst** state met in it: a gap
of one second still marks its column, so shrinking the picture never hides a gap. The
figures are in the tables; the picture shows where the gaps and the signals fall.

No script, no external reference, no font fetched: it draws the same in a browser, in
WeasyPrint and offline.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Final

from hub.coverage.report import FILMING, NOT_FILMING, CoverageReport
from hub.coverage.segments import NOT_RECORDED, Segment, to_us
from hub.coverage.signals import Category, ZoneSignal

__all__ = ["COLUMNS", "LANE_COLOURS", "MARK_COLOURS", "lane_columns", "timeline_svg"]

#: Columns of a lane (the picture's resolution across the period).
COLUMNS: Final = 800
_LABEL: Final = 150
_LANE: Final = 14
_GAP: Final = 10
_TOP: Final = 22

#: Each lane state's colour, and its rank: a column shows its worst state.
LANE_COLOURS: Final[Mapping[str, tuple[int, str]]] = {
    "covered": (0, "#2e7d32"),
    FILMING: (0, "#2e7d32"),
    NOT_RECORDED: (1, "#d0d0d0"),
    NOT_FILMING: (2, "#f9a825"),
    "disabled": (3, "#795548"),
    "gap": (4, "#c62828"),
    "offline": (4, "#c62828"),
    "unknown": (5, "#6a1b9a"),
}
_OTHER: Final = (6, "#000000")
#: The marks of signals on a zone's lane.
MARK_COLOURS: Final[Mapping[Category, str]] = {
    "holdup": "#b71c1c",
    "duress": "#b71c1c",
    "alarm": "#ef6c00",
    "technical_fault": "#37474f",
}


def lane_columns(segments: Iterable[Segment], start: int, end: int, columns: int) -> list[str]:
    """The state each column shows: the worst of the segments it meets."""
    span = end - start
    shown: list[str | None] = [None] * columns
    for seg in segments:
        first = max(0, (seg.start - start) * columns // span)
        last = min(columns, -((start - seg.end) * columns // span))  # ceiling
        rank = LANE_COLOURS.get(seg.state, _OTHER)[0]
        for col in range(first, last):
            here = shown[col]
            if here is None or LANE_COLOURS.get(here, _OTHER)[0] < rank:
                shown[col] = seg.state
    return [s if s is not None else NOT_RECORDED for s in shown]


def _lane(y: int, label: str, states: Sequence[str]) -> list[str]:
    out = [
        f'<text x="{_LABEL - 6}" y="{y + _LANE - 3}" text-anchor="end">{html.escape(label)}</text>'
    ]
    run_start = 0
    for col in range(1, len(states) + 1):
        if col == len(states) or states[col] != states[run_start]:
            colour = LANE_COLOURS.get(states[run_start], _OTHER)[1]
            out.append(
                f'<rect x="{_LABEL + run_start}" y="{y}" width="{col - run_start}"'
                f' height="{_LANE}" fill="{colour}"/>'
            )
            run_start = col
    return out


def _marks(y: int, signals: Sequence[ZoneSignal], start: int, end: int) -> list[str]:
    """One mark per category and column: a camera that drops off every minute is one
    fault mark per column, not thousands drawn over each other."""
    out: list[str] = []
    drawn: set[tuple[str, int]] = set()
    for signal in signals:
        x = _LABEL + (to_us(signal.time) - start) * COLUMNS // (end - start)
        if (signal.category, x) in drawn:
            continue
        drawn.add((signal.category, x))
        colour = MARK_COLOURS[signal.category]
        title = f"<title>{html.escape(signal.kind)} ({html.escape(signal.device)})</title>"
        if signal.category in ("holdup", "duress"):
            points = f"{x},{y - 1} {x - 5},{y - 9} {x + 5},{y - 9}"
            out.append(f'<polygon points="{points}" fill="{colour}">{title}</polygon>')
        elif signal.category == "alarm":
            out.append(f'<circle cx="{x}" cy="{y - 5}" r="3.5" fill="{colour}">{title}</circle>')
        else:
            out.append(
                f'<rect x="{x - 1}" y="{y - 9}" width="2" height="8" fill="{colour}">{title}</rect>'
            )
    return out


def _ticks(report: CoverageReport, start: int, end: int, height: int) -> list[str]:
    """Day lines (every day, or every week for a long period), labelled in site time."""
    tz = report.site.tzinfo
    first = report.period.start.astimezone(tz).date()
    last = report.period.end.astimezone(tz).date()
    days = (last - first).days + 1
    step = 1 if days <= 16 else 7 if days <= 120 else 30
    out: list[str] = []
    day = first
    while day <= last:
        moment = datetime.combine(day, time(0), tz)
        at = to_us(moment)
        if start <= at <= end:
            x = _LABEL + (at - start) * COLUMNS // (end - start)
            out.append(
                f'<line x1="{x}" y1="{_TOP - 4}" x2="{x}" y2="{height}" stroke="#9e9e9e"'
                ' stroke-width="0.5"/>'
            )
            out.append(f'<text x="{x + 2}" y="{_TOP - 8}">{day.strftime("%d/%m")}</text>')
        day += timedelta(days=step)
    return out


def timeline_svg(report: CoverageReport) -> str:
    """The picture, as an ``<svg>`` element to put inline in the HTML."""
    start, end = to_us(report.period.start), to_us(report.period.end)
    lanes = len(report.cameras) + len(report.zones)
    height = _TOP + lanes * (_LANE + _GAP) + 8
    width = _LABEL + COLUMNS + 10
    body: list[str] = []
    y = _TOP
    for camera in report.cameras:
        body += _lane(
            y, f"camera {camera.camera.id}", lane_columns(camera.lane, start, end, COLUMNS)
        )
        y += _LANE + _GAP
    for zone in report.zones:
        body += _lane(y, f"zone {zone.zone.name}", lane_columns(zone.segments, start, end, COLUMNS))
        body += _marks(y, zone.signals, start, end)
        y += _LANE + _GAP
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' width="100%" role="img" font-family="sans-serif" font-size="10"'
        ' aria-label="Timeline of each camera and zone over the period">'
        + "".join(_ticks(report, start, end, height - 8))
        + "".join(body)
        + "</svg>"
    )
