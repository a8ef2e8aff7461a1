"""A coverage reader over intervals given in memory.

``IntervalList`` is the reader for reports built from given intervals: the tests script
a day of a shop with it, and the benchmark a month of sixteen cameras, without a log on
disk. It keeps the reader's contract (``hub.coverage.model.CoverageReader``) to the
letter, so whatever reads a real log reads it the same way: intervals overlapping the
period, clipped to it, sorted by subject, kind and start; filters by kind and subject.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from hub.coverage.model import (
    AVAILABILITY,
    AVAILABILITY_STATES,
    COVERAGE,
    COVERAGE_STATES,
    RECORDING,
    RECORDING_STATES,
    Interval,
    Kind,
)

__all__ = ["IntervalList"]

_STATES = {
    AVAILABILITY: AVAILABILITY_STATES,
    RECORDING: RECORDING_STATES,
    COVERAGE: COVERAGE_STATES,
}


def _check(interval: Interval) -> None:
    if interval.start.tzinfo is None or interval.end.tzinfo is None:
        raise ValueError(f"{interval.subject}: interval times must be aware (UTC)")
    if interval.end <= interval.start:
        raise ValueError(
            f"{interval.subject}: interval ends ({interval.end.isoformat()}) at or before"
            f" it starts ({interval.start.isoformat()})"
        )
    states = _STATES.get(interval.kind)
    if states is None:
        raise ValueError(f"{interval.subject}: unknown kind {interval.kind!r}")
    if interval.state not in states:
        raise ValueError(
            f"{interval.subject}: {interval.state!r} is not a {interval.kind} state"
            f" ({', '.join(states)})"
        )


class IntervalList:
    """A ``CoverageReader`` over a list of intervals.

    Args:
        intervals: the log's intervals, in any order. Each must be aware, end after it
            starts, and be in one of its kind's states (``ValueError`` otherwise: a log
            never holds such a thing, and a report built on one would be wrong).
        span: when the log began and when the hub was last known alive; None: from
            the earliest start to the latest end of the intervals (None when empty).
    """

    def __init__(
        self,
        intervals: Iterable[Interval],
        *,
        span: tuple[datetime, datetime] | None = None,
    ) -> None:
        items = list(intervals)
        for interval in items:
            _check(interval)
        self._by_key: dict[tuple[str, str], list[Interval]] = {}
        for interval in sorted(items, key=lambda i: (i.subject, i.kind, i.start, i.end)):
            self._by_key.setdefault((interval.subject, interval.kind), []).append(interval)
        if span is None and items:
            span = (min(i.start for i in items), max(i.end for i in items))
        self._span = span

    def span(self) -> tuple[datetime, datetime] | None:
        """When the log began and when the hub was last known alive (None: empty)."""
        return self._span

    def intervals(
        self,
        start: datetime,
        end: datetime,
        *,
        kind: Kind | None = None,
        subject: str | None = None,
    ) -> list[Interval]:
        """The intervals overlapping ``[start, end)``, clipped to it, sorted by subject,
        kind and start; only ``kind``'s and ``subject``'s when given."""
        out: list[Interval] = []
        for (key_subject, key_kind), items in sorted(self._by_key.items()):
            if (subject is not None and key_subject != subject) or (
                kind is not None and key_kind != kind
            ):
                continue
            for interval in items:
                if interval.start >= end:
                    break
                if interval.end <= start:
                    continue
                if interval.start < start or interval.end > end:
                    out.append(
                        dataclasses.replace(
                            interval, start=max(interval.start, start), end=min(interval.end, end)
                        )
                    )
                else:
                    out.append(interval)
        return out
