"""Where a seal's segment starts: an in-memory index of the recent rows' times.

A seal follows every hold-up, and must find the first row of the incident window
without reading the journal back, which would hold the writer thread while the next
hold-up waits to be journaled. ``_RowTimes`` keeps, as rows are appended, just enough
of their times to answer by binary search.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(value: datetime) -> int:
    """Microseconds since the epoch, exactly (a naive time is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MICROSECOND


def _stored_micros(time: str) -> int | None:
    """The ``time`` column as microseconds, or None when it is not an ISO time."""
    try:
        return _micros(datetime.fromisoformat(time))
    except ValueError:
        return None


class _RowTimes:
    """The rows that can still start a seal's segment, kept by the writer as it appends.

    A seal's segment starts just after the last row, among the last ``horizon`` rows,
    whose time is before the incident window. Reading the rows back to find it means
    parsing up to ``horizon`` times in the writer thread, tens of milliseconds with
    the GIL held, after every hold-up, while the next hold-up waits to be journaled.

    A row followed by one whose time is earlier or equal can never be that last row
    (the later one would be found first), so it is dropped as the later one is added.
    What is kept has strictly increasing times and seqs, and the answer is a binary
    search. Rows come nearly in time order, so about one entry per row is kept, as far
    back as ``horizon``: two integer arrays, 16 bytes a row.
    """

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon
        self._seqs = array("q")
        self._times = array("q")
        self._head = 0

    def add(self, seq: int, micros: int) -> None:
        """Record a row just written (seqs must come in increasing order)."""
        seqs, times = self._seqs, self._times
        while len(times) > self._head and times[-1] >= micros:
            times.pop()
            seqs.pop()
        seqs.append(seq)
        times.append(micros)
        if len(seqs) - self._head > self.horizon:
            self._forget_below(seq - self.horizon + 1)

    def _forget_below(self, lowest: int) -> None:
        head = bisect_left(self._seqs, lowest, self._head)
        if head > 4096 and head * 2 > len(self._seqs):
            del self._seqs[:head]
            del self._times[:head]
            head = 0
        self._head = head

    def last_before(self, micros: int, lowest: int) -> int | None:
        """The highest seq, at or above ``lowest``, of a row whose time is before
        ``micros`` (None when no such row was recorded)."""
        self._forget_below(lowest)
        head = self._head
        found = bisect_left(self._times, micros, head)
        return self._seqs[found - 1] if found > head else None
