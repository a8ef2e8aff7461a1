"""Intervals turned into disjoint segments that tile a period exactly.

Every figure of the report is a sum of segment lengths, so the segments of one subject
must never overlap and never leave a hole: then covered + gap + not recorded is the
period's length to the microsecond, and no percentage can exceed 100 or count a moment
twice. The log's intervals tile its span, but a clock that jumped backwards can leave
two intervals of one subject over the same moment, and a period can begin before the
log did or end after the hub was last known to be alive. So:

* times are whole microseconds (integers), never floats, so sums are exact;
* where intervals overlap, the **worst** state wins (a gap over a covered stretch is a
  gap: the report never claims coverage it cannot prove), and the overlaps are counted
  so the report can say so;
* what no interval holds is ``not recorded``: neither covered nor a gap with an
  invented cause.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from hub.coverage.model import Interval

__all__ = [
    "AVAILABILITY_RANK",
    "COVERAGE_RANK",
    "NOT_RECORDED",
    "RECORDING_RANK",
    "Flattened",
    "Segment",
    "flatten",
    "from_us",
    "overlay",
    "to_us",
]

#: The state of a stretch of the period no interval of the log holds (before the log
#: began, after the hub was last known alive, or a hole the log should not have).
NOT_RECORDED: Final = "not recorded"

#: Which state wins where intervals overlap: the higher rank. A state the ranks do not
#: know (a reader bug) ranks above all, so it is never taken for a good one.
AVAILABILITY_RANK: Final[Mapping[str, int]] = {
    "online": 0,
    "disabled": 1,
    "offline": 2,
    "unknown": 3,
}
RECORDING_RANK: Final[Mapping[str, int]] = {"on": 0, "off": 1, "unknown": 2}
COVERAGE_RANK: Final[Mapping[str, int]] = {"covered": 0, "gap": 1}

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_US: Final = timedelta(microseconds=1)


def to_us(value: datetime) -> int:
    """Microseconds since the epoch, exactly (``value`` must be aware)."""
    return (value - _EPOCH) // _US


def from_us(value: int) -> datetime:
    """The aware UTC time of ``to_us``'s microseconds."""
    return _EPOCH + timedelta(microseconds=value)


@dataclass(frozen=True, slots=True)
class Segment:
    """One subject in one state over ``[start, end)``, in microseconds since the epoch."""

    start: int
    end: int
    state: str
    cause: str = ""

    @property
    def length(self) -> int:
        """Its length in microseconds."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Flattened:
    """The segments of one subject and kind, and how many of its intervals overlapped
    one before them (a clock that jumped backwards)."""

    segments: tuple[Segment, ...]
    overlaps: int


def _merge(segments: Iterable[Segment]) -> list[Segment]:
    """Join neighbours of the same state and cause."""
    out: list[Segment] = []
    for seg in segments:
        if seg.end <= seg.start:
            continue
        last = out[-1] if out else None
        if (
            last is not None
            and last.end == seg.start
            and (last.state, last.cause)
            == (
                seg.state,
                seg.cause,
            )
        ):
            out[-1] = Segment(last.start, seg.end, seg.state, seg.cause)
        else:
            out.append(seg)
    return out


def _fill(segments: Sequence[Segment], start: int, end: int) -> list[Segment]:
    """Put ``not recorded`` in every hole of ``[start, end)``."""
    out: list[Segment] = []
    at = start
    for seg in segments:
        if seg.start > at:
            out.append(Segment(at, seg.start, NOT_RECORDED))
        out.append(seg)
        at = seg.end
    if at < end:
        out.append(Segment(at, end, NOT_RECORDED))
    return _merge(out)


def _join_causes(causes: Iterable[str]) -> str:
    """Causes of overlapping gaps, each once, in the order met."""
    seen: list[str] = []
    for cause in causes:
        for part in cause.split("; "):
            if part and part not in seen:
                seen.append(part)
    return "; ".join(seen)


def _sweep(clipped: Sequence[Segment], rank: Mapping[str, int]) -> list[Segment]:
    """Disjoint segments from overlapping ones: at each moment, the worst state of
    those present, with the causes of every interval in that state."""
    top = max(rank.values(), default=0) + 1
    bounds = sorted({s.start for s in clipped} | {s.end for s in clipped})
    by_start = sorted(clipped, key=lambda s: s.start)
    active: list[Segment] = []
    out: list[Segment] = []
    i = 0
    for left, right in itertools.pairwise(bounds):
        while i < len(by_start) and by_start[i].start <= left:
            active.append(by_start[i])
            i += 1
        active = [s for s in active if s.end > left]
        if not active:
            continue
        worst = max(rank.get(s.state, top) for s in active)
        chosen = [s for s in active if rank.get(s.state, top) == worst]
        out.append(Segment(left, right, chosen[0].state, _join_causes(s.cause for s in chosen)))
    return out


def flatten(
    intervals: Iterable[Interval], start: int, end: int, rank: Mapping[str, int]
) -> Flattened:
    """The segments tiling ``[start, end)`` (microseconds) for one subject and kind.

    Args:
        intervals: the subject's intervals of one kind, in any order.
        start: the period's start.
        end: the period's end.
        rank: which state wins where intervals overlap (the higher rank).
    """
    clipped = sorted(
        (
            Segment(max(to_us(iv.start), start), min(to_us(iv.end), end), iv.state, iv.cause)
            for iv in intervals
        ),
        key=lambda s: (s.start, s.end),
    )
    clipped = [s for s in clipped if s.end > s.start]
    overlaps = 0
    reach = start
    for seg in clipped:
        if seg.start < reach:
            overlaps += 1
        reach = max(reach, seg.end)
    tiles = _sweep(clipped, rank) if overlaps else clipped
    return Flattened(tuple(_fill(_merge(tiles), start, end)), overlaps)


def overlay(
    first: Sequence[Segment], second: Sequence[Segment]
) -> list[tuple[int, int, Segment, Segment]]:
    """Walk two tilings of the same period together: ``(start, end, a, b)`` for each
    stretch where ``a`` of ``first`` and ``b`` of ``second`` both hold."""
    out: list[tuple[int, int, Segment, Segment]] = []
    i = j = 0
    while i < len(first) and j < len(second):
        a, b = first[i], second[j]
        left, right = max(a.start, b.start), min(a.end, b.end)
        if right > left:
            out.append((left, right, a, b))
        if a.end <= b.end:
            i += 1
        else:
            j += 1
    return out
