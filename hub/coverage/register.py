"""The register of recordings the law asks of a shop that films (CSI L252-5, R252-12).

The register states the recordings made, the date each is destroyed, and any
hand-over to the prosecutor. The hub keeps it from what it already knows: the
coverage log's ``recording``/``on`` intervals (when each camera recorded), each
camera's declared ``retention_days``, the hand-overs recorded with ``ecrin register
handover`` (``hub.coverage.register_store``) and the scenes the escalation engine
preserved after a hold-up (``hub.coverage.register_source``).

A **line** of the register is one stretch of one camera's recording within one day
of the shop's time zone: registers are kept by day, and an NVR deletes segment by
segment, so a line's recordings are gone ``retention_days`` after its end (its last
segment), not after the day's. A line is also cut where a kept window (a sealed scene,
a hand-over) begins or ends, so that every line is wholly kept or wholly not: its
destruction date is then one date, or "kept".

* Destroyed: ``end + retention_days``.
* Kept for a sealed scene: no date, "kept (sealed scene ESC)", until a referent or an
  installer releases the scene; then the later of ``end + retention_days`` and the
  release.
* Handed over: the hand-over is listed on the line, and the recordings are kept
  ("kept (handed over REF)"): what was given to the prosecutor is not destroyed by
  the NVR's retention; deleting the kept copy once the procedure is over is a decision
  the register does not make.

Everything here is pure: the caller reads the log, the stores and the configuration,
and passes them in; the same inputs give the same register.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Final, Literal

from hub.config import CameraConfig
from hub.coverage.model import RECORDING, CoverageReader, Interval

__all__ = [
    "HANDED_OVER",
    "SEALED_SCENE",
    "HandOver",
    "Hold",
    "Register",
    "RegisterLine",
    "build_register",
    "local_midnights",
]

HoldKind = Literal["sealed scene", "handed over"]
#: A window kept after a hold-up, until its scene is released.
SEALED_SCENE: Final = "sealed scene"
#: A window handed over to the prosecutor (or the police on requisition).
HANDED_OVER: Final = "handed over"


@dataclass(frozen=True, slots=True)
class HandOver:
    """One hand-over of a camera's recordings, as the register records it.

    Attributes:
        id: its number in the register (1, 2...).
        camera: the configured camera id.
        start: the start of the window handed over (UTC).
        end: its end (UTC).
        to_whom: whom they were handed to (``Parquet de Tours``).
        reference: the requisition's or procedure's reference.
        recorded_at: when the hand-over was recorded (UTC).
    """

    id: int
    camera: str
    start: datetime
    end: datetime
    to_whom: str
    reference: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Hold:
    """A window of a camera's recordings kept past its retention.

    Attributes:
        camera: the configured camera id.
        start: the start of the window (UTC).
        end: its end (UTC).
        kind: ``sealed scene`` or ``handed over``.
        ref: the escalation id (a scene) or the hand-over's reference.
        released_at: when a sealed scene was released (None: still kept).
    """

    camera: str
    start: datetime
    end: datetime
    kind: HoldKind
    ref: str
    released_at: datetime | None = None

    @property
    def keeps(self) -> bool:
        """The window is kept now (a scene not released, or a hand-over)."""
        return self.released_at is None

    @classmethod
    def of(cls, handover: HandOver) -> Hold:
        """The hold a hand-over puts on its window."""
        return cls(handover.camera, handover.start, handover.end, HANDED_OVER, handover.reference)


@dataclass(frozen=True, slots=True)
class RegisterLine:
    """One stretch of one camera's recording, within one local day.

    Attributes:
        camera: the configured camera id.
        day: the day it was recorded, in the shop's time zone.
        start: when the stretch began (UTC).
        end: when it ended (UTC); for a camera still recording, the last moment the
            hub was known to be alive (``ongoing``).
        retention_days: the camera's declared retention.
        destruction: when its recordings are destroyed (UTC); None while kept.
        holds: the kept windows it lies in (sealed scenes, hand-overs).
        handovers: the hand-overs of a window it lies in.
        ongoing: the camera was still recording when the log's span ends.
    """

    camera: str
    day: date
    start: datetime
    end: datetime
    retention_days: int
    destruction: datetime | None
    holds: tuple[Hold, ...] = ()
    handovers: tuple[HandOver, ...] = ()
    ongoing: bool = False

    @property
    def kept(self) -> bool:
        """The recordings are kept past their retention (no destruction date)."""
        return self.destruction is None

    def destruction_text(self, tz: tzinfo) -> str:
        """The destruction date as the register states it: ``YYYY-MM-DD HH:MM`` in the
        shop's time zone, or ``kept (sealed scene ESC)`` / ``kept (handed over REF)``."""
        if self.destruction is None:
            reasons = ", ".join(f"{h.kind} {h.ref}" for h in self.holds if h.keeps)
            return f"kept ({reasons})"
        text = self.destruction.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        released = [h for h in self.holds if h.released_at is not None]
        if released:
            refs = ", ".join(h.ref for h in released)
            return f"{text} (sealed scene {refs} released)"
        return text


@dataclass(frozen=True, slots=True)
class Register:
    """The register over a period.

    Attributes:
        start: the period's start (UTC).
        end: its end (UTC, excluded).
        timezone: the shop's time zone name (the days and dates are its).
        lines: the recordings, by camera then start.
        handovers: the hand-overs whose window overlaps the period, by number.
        cameras: each configured camera's declared retention in days, by id.
    """

    start: datetime
    end: datetime
    timezone: str
    lines: tuple[RegisterLine, ...]
    handovers: tuple[HandOver, ...]
    cameras: tuple[tuple[str, int], ...]


def local_midnights(start: datetime, end: datetime, tz: tzinfo) -> list[datetime]:
    """The local midnights strictly inside ``(start, end)``, in UTC.

    Built from local dates, not by adding 24 hours: days of 23 and 25 hours (summer
    time) keep their midnights.
    """
    found: list[datetime] = []
    day = start.astimezone(tz).date() + timedelta(days=1)
    while True:
        midnight = datetime.combine(day, time(0), tzinfo=tz).astimezone(start.tzinfo)
        if midnight >= end:
            return found
        if midnight > start:
            found.append(midnight)
        day += timedelta(days=1)


def _merged(intervals: Iterable[Interval]) -> list[tuple[datetime, datetime]]:
    """The ``on`` stretches, touching ones joined (a log may cut one at a restart)."""
    stretches: list[tuple[datetime, datetime]] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if interval.state != "on" or interval.end <= interval.start:
            continue
        if stretches and interval.start <= stretches[-1][1]:
            last = stretches[-1]
            stretches[-1] = (last[0], max(last[1], interval.end))
        else:
            stretches.append((interval.start, interval.end))
    return stretches


def _overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def _lines_of(
    camera: CameraConfig,
    stretches: Sequence[tuple[datetime, datetime]],
    holds: Sequence[Hold],
    handovers: Sequence[HandOver],
    tz: tzinfo,
    alive_until: datetime | None,
) -> list[RegisterLine]:
    retention = timedelta(days=camera.retention_days)
    lines: list[RegisterLine] = []
    for s_start, s_end in stretches:
        cuts = set(local_midnights(s_start, s_end, tz))
        for hold in holds:
            cuts |= {t for t in (hold.start, hold.end) if s_start < t < s_end}
        bounds = [s_start, *sorted(cuts), s_end]
        for start, end in itertools.pairwise(bounds):
            mine = tuple(h for h in holds if _overlaps(start, end, h.start, h.end))
            given = tuple(h for h in handovers if _overlaps(start, end, h.start, h.end))
            destruction: datetime | None = end + retention
            if any(h.keeps for h in mine):
                destruction = None
            else:
                for hold in mine:
                    if hold.released_at is not None and destruction is not None:
                        destruction = max(destruction, hold.released_at)
            lines.append(
                RegisterLine(
                    camera=camera.id,
                    day=start.astimezone(tz).date(),
                    start=start,
                    end=end,
                    retention_days=camera.retention_days,
                    destruction=destruction,
                    holds=mine,
                    handovers=given,
                    ongoing=alive_until is not None and end >= alive_until,
                )
            )
    return lines


def build_register(
    reader: CoverageReader,
    cameras: Sequence[CameraConfig],
    tz: tzinfo,
    timezone: str,
    start: datetime,
    end: datetime,
    *,
    scenes: Iterable[Hold] = (),
    handovers: Iterable[HandOver] = (),
) -> Register:
    """The register of ``[start, end)``.

    Args:
        reader: the coverage log.
        cameras: the configured cameras (intervals of others are not the shop's).
        tz: the shop's time zone (``Site.tzinfo``); ``timezone`` its name.
        start: the period's start (aware).
        end: its end (aware, after ``start``).
        scenes: the windows the escalation engine kept after a hold-up
            (``Hold(kind="sealed scene")``), released or not.
        handovers: every recorded hand-over.

    Raises:
        ValueError: ``end`` is not after ``start``.
    """
    if end <= start:
        raise ValueError("the period's end must be after its start")
    span = reader.span()
    alive_until = span[1] if span is not None else None
    given = sorted(handovers, key=lambda h: h.id)
    kept = [*scenes, *(Hold.of(h) for h in given)]
    lines: list[RegisterLine] = []
    for camera in cameras:
        recording = reader.intervals(start, end, kind=RECORDING, subject=camera.id)
        lines += _lines_of(
            camera,
            _merged(recording),
            [h for h in kept if h.camera == camera.id],
            [h for h in given if h.camera == camera.id],
            tz,
            alive_until,
        )
    lines.sort(key=lambda line: (line.camera, line.start))
    return Register(
        start=start,
        end=end,
        timezone=timezone,
        lines=tuple(lines),
        handovers=tuple(h for h in given if _overlaps(start, end, h.start, h.end)),
        cameras=tuple((c.id, c.retention_days) for c in cameras),
    )
