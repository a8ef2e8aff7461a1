"""Risk exposure per zone: how exposed each shop zone was, and how well it was filmed.

For one period and one zone: the risk the shop declared for it; the hold-ups, duress,
alarms and technical faults recorded there (``hub.coverage.signals``); how long it was
covered (at least one camera filming it online and recording), how long not (each gap
with its causes: hub down, camera offline, not recording, no camera films it), and how
long the log holds nothing for (``not recorded``: before the log began, after the hub
was last known alive); and, for each high-stock period that fell in the period, the
same coverage figures over the part of it inside the period.

Pure: it takes the zone's segments (``hub.coverage.segments``), its signals and the
high-stock windows, and reads nothing. Figures are whole microseconds; a percentage is
of the time the log holds (covered + gap), rounded **down** to 0.01 %, so 100 % means
no gap at all, and a zone the log holds nothing for has no percentage rather than 0 %.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from hub.config.model import Zone
from hub.coverage.highstock import HighStockWindow
from hub.coverage.segments import NOT_RECORDED, Segment, from_us, to_us
from hub.coverage.signals import CATEGORIES, Category, ZoneSignal

__all__ = [
    "CoverageFigures",
    "FaultGroup",
    "Gap",
    "HighStockCoverage",
    "ZoneExposure",
    "cause_kinds",
    "coverage_figures",
    "percent_down",
    "zone_exposure",
]

_CAMERA_IDS = re.compile(r"\s*\([^)]*\)")


def percent_down(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, rounded down to 0.01; None when ``whole`` is 0."""
    if whole <= 0:
        return None
    return (part * 10_000 // whole) / 100


def cause_kinds(cause: str) -> str:
    """A gap's causes without the camera ids (``camera offline (cam-1); not recording
    (cam-2)`` gives ``camera offline; not recording``), to add gaps up by cause."""
    parts: list[str] = []
    for part in cause.split("; "):
        bare = _CAMERA_IDS.sub("", part).strip()
        if bare and bare not in parts:
            parts.append(bare)
    return "; ".join(parts) or "unknown"


@dataclass(frozen=True, slots=True)
class CoverageFigures:
    """How a stretch of time splits, in microseconds: covered, gap, not recorded."""

    covered_us: int = 0
    gap_us: int = 0
    not_recorded_us: int = 0

    @property
    def recorded_us(self) -> int:
        """The time the log holds: covered and gaps."""
        return self.covered_us + self.gap_us

    @property
    def percent(self) -> float | None:
        """Covered, in percent of the time the log holds (rounded down); None when it
        holds nothing of the stretch."""
        return percent_down(self.covered_us, self.recorded_us)


def coverage_figures(segments: Iterable[Segment], start: int, end: int) -> CoverageFigures:
    """The figures of a zone's segments over ``[start, end)`` (microseconds)."""
    covered = gap = missing = 0
    for seg in segments:
        left, right = max(seg.start, start), min(seg.end, end)
        if right <= left:
            continue
        if seg.state == "covered":
            covered += right - left
        elif seg.state == NOT_RECORDED:
            missing += right - left
        else:  # a gap, or a state no reader should give: never counted as covered
            gap += right - left
    return CoverageFigures(covered, gap, missing)


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of the period when the zone was not covered (clipped to the period)."""

    start: datetime
    end: datetime
    cause: str

    @property
    def seconds(self) -> float:
        """Its length in seconds."""
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class HighStockCoverage:
    """A zone's coverage during the part of a high-stock period inside the report's."""

    window: HighStockWindow
    start: datetime
    end: datetime
    figures: CoverageFigures


@dataclass(frozen=True, slots=True)
class FaultGroup:
    """The technical faults of one kind from one device in a zone, told once.

    A camera that drops off every minute is thousands of faults in a month: the report
    lists each hold-up, duress and alarm, and the faults by kind and device, with how
    many there were and when the first and the last happened.
    """

    kind: str
    device: str
    count: int
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class ZoneExposure:
    """One zone's risk exposure over the report's period.

    Attributes:
        zone: the zone as configured (its id, name and declared risk).
        cameras: the ids of the cameras that film it.
        segments: its coverage over the period, tiling it (covered, gap, not recorded).
        figures: the sums of ``segments``.
        gaps: every gap, in time order.
        gap_by_cause: the gaps' length (microseconds) by their causes
            (``cause_kinds``), largest first; they add up to ``figures.gap_us``.
        signals: what happened there, in time order.
        counts: the signals by category (every category present, 0 or more).
        high_stock: its coverage during each high-stock period of the report.
        overlaps: intervals of its log that overlapped an earlier one (a clock that
            jumped backwards): resolved as the worse state.
    """

    zone: Zone
    cameras: tuple[str, ...]
    segments: tuple[Segment, ...]
    figures: CoverageFigures
    gaps: tuple[Gap, ...]
    gap_by_cause: tuple[tuple[str, int], ...]
    signals: tuple[ZoneSignal, ...]
    counts: Mapping[Category, int] = field(default_factory=dict)
    high_stock: tuple[HighStockCoverage, ...] = ()
    overlaps: int = 0

    @property
    def alarms(self) -> tuple[ZoneSignal, ...]:
        """The hold-ups, duress and alarms, each one, in time order."""
        return tuple(s for s in self.signals if s.category != "technical_fault")

    @property
    def faults(self) -> tuple[FaultGroup, ...]:
        """The technical faults by kind and device, in order of their first."""
        groups: dict[tuple[str, str], list[ZoneSignal]] = {}
        for signal in self.signals:
            if signal.category == "technical_fault":
                groups.setdefault((signal.kind, signal.device), []).append(signal)
        return tuple(
            sorted(
                (
                    FaultGroup(kind, device, len(found), found[0].time, found[-1].time)
                    for (kind, device), found in groups.items()
                ),
                key=lambda g: (g.first, g.kind, g.device),
            )
        )


def zone_exposure(
    zone: Zone,
    cameras: Sequence[str],
    segments: Sequence[Segment],
    signals: Iterable[ZoneSignal],
    windows: Iterable[HighStockWindow],
    *,
    overlaps: int = 0,
) -> ZoneExposure:
    """The exposure of ``zone`` from its segments (which tile the report's period).

    Args:
        zone: the zone.
        cameras: the cameras filming it.
        segments: its coverage segments over the period, in order, tiling it.
        signals: the period's signals; those of other zones are left out.
        windows: the high-stock periods overlapping the report's period.
        overlaps: how many of its intervals overlapped (from ``flatten``).
    """
    start, end = (segments[0].start, segments[-1].end) if segments else (0, 0)
    figures = coverage_figures(segments, start, end)
    gaps = tuple(
        Gap(from_us(s.start), from_us(s.end), s.cause)
        for s in segments
        if s.state not in ("covered", NOT_RECORDED)
    )
    by_cause: dict[str, int] = {}
    for s in segments:
        if s.state not in ("covered", NOT_RECORDED):
            key = cause_kinds(s.cause)
            by_cause[key] = by_cause.get(key, 0) + s.length
    mine = tuple(sorted((s for s in signals if s.zone == zone.id), key=lambda s: s.time))
    counts: dict[Category, int] = dict.fromkeys(CATEGORIES, 0)
    for signal in mine:
        counts[signal.category] += 1
    during: list[HighStockCoverage] = []
    for window in windows:
        left, right = max(to_us(window.start), start), min(to_us(window.end), end)
        if right > left:
            during.append(
                HighStockCoverage(
                    window, from_us(left), from_us(right), coverage_figures(segments, left, right)
                )
            )
    return ZoneExposure(
        zone=zone,
        cameras=tuple(cameras),
        segments=tuple(segments),
        figures=figures,
        gaps=gaps,
        gap_by_cause=tuple(sorted(by_cause.items(), key=lambda kv: (-kv[1], kv[0]))),
        signals=mine,
        counts=counts,
        high_stock=tuple(during),
        overlaps=overlaps,
    )
