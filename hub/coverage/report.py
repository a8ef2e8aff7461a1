"""The coverage report: what the video-surveillance authorisation file (Cerfa 13806)
asks of a shop, and the evidence of each zone's coverage and risk, as one value.

``build_report`` is pure: the configuration, a coverage reader, the period, the
signals and the high-stock windows in, a ``CoverageReport`` out; the renderers
(``hub.coverage.render_*``) only lay it out, so HTML, PDF, CSV and JSON give the same
figures. ``assemble_report`` reads the journal and the calendar for it.

What it holds, and what it leaves out: the site's own name, address and département
(the file's applicant is the shop), never a contact's name or number; no amount of
any loss; no image.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from hub.config import Config
from hub.config.model import CameraConfig, Site
from hub.coverage.exposure import ZoneExposure, percent_down, zone_exposure
from hub.coverage.formatting import local_text
from hub.coverage.highstock import HighStockWindow, high_stock_windows
from hub.coverage.model import AVAILABILITY, COVERAGE, RECORDING, CoverageReader, Interval
from hub.coverage.period import ReportPeriod
from hub.coverage.segments import (
    AVAILABILITY_RANK,
    COVERAGE_RANK,
    NOT_RECORDED,
    RECORDING_RANK,
    Segment,
    flatten,
    overlay,
    to_us,
)
from hub.coverage.signals import CATEGORIES, Category, ZoneSignal, read_zone_signals

__all__ = [
    "DETAILED_LIST_FROM",
    "FILMING",
    "NOT_FILMING",
    "CameraSummary",
    "CoverageReport",
    "Ignored",
    "assemble_report",
    "build_report",
]

#: From this many cameras, the authorisation file must hold the detailed list of them.
DETAILED_LIST_FROM: Final = 8
#: A camera's lane: online and recording (it films its zones), or online and not.
FILMING: Final = "filming"
NOT_FILMING: Final = "online, not recording"


@dataclass(frozen=True, slots=True)
class CameraSummary:
    """One camera, as the authorisation file lists it, and how it did in the period.

    Attributes:
        camera: the camera as configured (placement, public road, retention).
        zone_names: the names of the zones it films, in its configured order.
        availability: its availability over the period, tiling it.
        recording: its recording over the period, tiling it.
        lane: online and recording (``filming``), ``online, not recording``, or its
            availability state, or ``not recorded``: what the timeline draws.
        online_us: time online (microseconds).
        filming_us: time online and recording.
        not_recorded_us: time the log holds nothing of its availability for.
        overlaps: intervals that overlapped an earlier one (a clock jumped back).
    """

    camera: CameraConfig
    zone_names: tuple[str, ...]
    availability: tuple[Segment, ...]
    recording: tuple[Segment, ...]
    lane: tuple[Segment, ...]
    online_us: int
    filming_us: int
    not_recorded_us: int
    overlaps: int = 0

    @property
    def filming_percent(self) -> float | None:
        """Time filming, in percent of the time the log holds (rounded down)."""
        total = sum(s.length for s in self.availability)
        return percent_down(self.filming_us, total - self.not_recorded_us)


@dataclass(frozen=True, slots=True)
class Ignored:
    """What the report left out because the configuration does not know it.

    Attributes:
        intervals: intervals of the log whose camera or zone is not configured (a
            camera removed since, a zone renamed).
        subjects: their camera and zone ids.
        signals: signals naming a zone the configuration does not have.
        zones: those zone ids.
    """

    intervals: int = 0
    subjects: tuple[str, ...] = ()
    signals: int = 0
    zones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """Everything the report shows.

    Attributes:
        site: the shop (name, address, département, time zone).
        period: the instants covered.
        generated_at: when it was made (aware).
        log_span: when the coverage log began and when the hub was last known alive
            (None: the log holds nothing yet).
        cameras: every configured camera, in file order.
        zones: every configured zone's exposure, in file order.
        high_stock: the high-stock periods overlapping the period.
        outside_zones: signals that named no zone, by category.
        ignored: what the configuration does not know.
        overlaps: intervals that overlapped an earlier one of their subject.
    """

    site: Site
    period: ReportPeriod
    generated_at: datetime
    log_span: tuple[datetime, datetime] | None
    cameras: tuple[CameraSummary, ...]
    zones: tuple[ZoneExposure, ...]
    high_stock: tuple[HighStockWindow, ...]
    outside_zones: dict[Category, int]
    ignored: Ignored
    overlaps: int

    @property
    def indoor(self) -> int:
        """Cameras placed indoors."""
        return sum(1 for c in self.cameras if c.camera.placement == "indoor")

    @property
    def outdoor(self) -> int:
        """Cameras placed outdoors."""
        return sum(1 for c in self.cameras if c.camera.placement == "outdoor")

    @property
    def public_road(self) -> tuple[CameraSummary, ...]:
        """The cameras that view the public road."""
        return tuple(c for c in self.cameras if c.camera.views_public_road)

    @property
    def detailed_list_mandatory(self) -> bool:
        """Whether the file must hold the detailed list of cameras (8 or more)."""
        return len(self.cameras) >= DETAILED_LIST_FROM

    @property
    def not_recorded_us(self) -> int:
        """The part of the period outside the log's span, in microseconds."""
        start, end = to_us(self.period.start), to_us(self.period.end)
        if self.log_span is None:
            return end - start
        inside = max(0, min(end, to_us(self.log_span[1])) - max(start, to_us(self.log_span[0])))
        return end - start - inside

    def notes(self) -> list[str]:
        """What a reader must know to read the figures right, one sentence each."""
        found: list[str] = []
        tz = self.site.tzinfo
        if self.log_span is None:
            found.append("The coverage log holds nothing yet: the whole period is not recorded.")
        elif self.not_recorded_us:
            found.append(
                "Part of the period lies outside the coverage log (which runs from"
                f" {local_text(self.log_span[0], tz)} to {local_text(self.log_span[1], tz)}):"
                " that part is reported as not recorded, neither covered nor a gap."
            )
        if self.overlaps:
            found.append(
                f"{self.overlaps} interval(s) of the log overlapped an earlier one (the"
                " clock jumped backwards): where they disagree, the worse state is counted."
            )
        if self.ignored.intervals:
            found.append(
                f"{self.ignored.intervals} interval(s) of cameras or zones no longer"
                f" configured were left out: {', '.join(self.ignored.subjects)}."
            )
        if self.ignored.signals:
            found.append(
                f"{self.ignored.signals} signal(s) naming zones not configured were left"
                f" out: {', '.join(self.ignored.zones)}."
            )
        return found


def _camera_summary(
    camera: CameraConfig,
    config: Config,
    by_subject: dict[tuple[str, str], list[Interval]],
    start: int,
    end: int,
) -> CameraSummary:
    availability = flatten(
        by_subject.get((camera.id, AVAILABILITY), ()), start, end, AVAILABILITY_RANK
    )
    recording = flatten(by_subject.get((camera.id, RECORDING), ()), start, end, RECORDING_RANK)
    lane: list[Segment] = []
    online = filming = 0
    for left, right, a, r in overlay(availability.segments, recording.segments):
        if a.state == "online":
            online += right - left
            state = FILMING if r.state == "on" else NOT_FILMING
            if state == FILMING:
                filming += right - left
        else:
            state = a.state
        if lane and lane[-1].end == left and lane[-1].state == state:
            lane[-1] = Segment(lane[-1].start, right, state)
        else:
            lane.append(Segment(left, right, state))
    names = {z.id: z.name for z in config.zones}
    return CameraSummary(
        camera=camera,
        zone_names=tuple(names.get(z, z) for z in camera.zones),
        availability=availability.segments,
        recording=recording.segments,
        lane=tuple(lane),
        online_us=online,
        filming_us=filming,
        not_recorded_us=sum(s.length for s in availability.segments if s.state == NOT_RECORDED),
        overlaps=availability.overlaps + recording.overlaps,
    )


def build_report(
    config: Config,
    reader: CoverageReader,
    period: ReportPeriod,
    signals: Iterable[ZoneSignal],
    windows: Sequence[HighStockWindow],
    generated_at: datetime,
) -> CoverageReport:
    """The report of ``period`` from the log's intervals and the journal's signals.

    Args:
        config: the shop's configuration (site, zones, cameras).
        reader: the coverage log.
        period: the period reported on.
        signals: the journal's signals in the period (``read_zone_signals``).
        windows: the high-stock periods overlapping it (``high_stock_windows``).
        generated_at: when the report is made (shown on it).
    """
    start, end = to_us(period.start), to_us(period.end)
    cameras = {c.id for c in config.cameras}
    zones = {z.id for z in config.zones}
    by_subject: dict[tuple[str, str], list[Interval]] = {}
    ignored_intervals = 0
    ignored_subjects: set[str] = set()
    for interval in reader.intervals(period.start, period.end):
        known = zones if interval.kind == COVERAGE else cameras
        if interval.subject not in known:
            ignored_intervals += 1
            ignored_subjects.add(interval.subject)
            continue
        by_subject.setdefault((interval.subject, interval.kind), []).append(interval)

    summaries = tuple(_camera_summary(c, config, by_subject, start, end) for c in config.cameras)
    listed = list(signals)
    exposures: list[ZoneExposure] = []
    for zone in config.zones:
        flat = flatten(by_subject.get((zone.id, COVERAGE), ()), start, end, COVERAGE_RANK)
        filming = tuple(c.id for c in config.cameras if zone.id in c.zones)
        exposures.append(
            zone_exposure(zone, filming, flat.segments, listed, windows, overlaps=flat.overlaps)
        )
    outside: dict[Category, int] = dict.fromkeys(CATEGORIES, 0)
    unknown_zones: set[str] = set()
    unknown_signals = 0
    for signal in listed:
        if signal.zone is None:
            outside[signal.category] += 1
        elif signal.zone not in zones:
            unknown_signals += 1
            unknown_zones.add(signal.zone)
    return CoverageReport(
        site=config.site,
        period=period,
        generated_at=generated_at,
        log_span=reader.span(),
        cameras=summaries,
        zones=tuple(exposures),
        high_stock=tuple(windows),
        outside_zones=outside,
        ignored=Ignored(
            ignored_intervals,
            tuple(sorted(ignored_subjects)),
            unknown_signals,
            tuple(sorted(unknown_zones)),
        ),
        overlaps=sum(c.overlaps for c in summaries) + sum(z.overlaps for z in exposures),
    )


def assemble_report(
    config: Config,
    reader: CoverageReader,
    period: ReportPeriod,
    generated_at: datetime,
    *,
    journal: Path | None = None,
) -> CoverageReport:
    """The report, with the signals read from the journal and the shop's calendar.

    Args:
        journal: the journal to read signals from (None: the configuration's).

    Raises:
        JournalError: the journal is missing, unreadable or not a journal.
    """
    path = journal if journal is not None else config.journal.path
    signals = read_zone_signals(path, config, period.start, period.end)
    windows = high_stock_windows(config, period.start, period.end)
    return build_report(config, reader, period, signals, windows, generated_at)
