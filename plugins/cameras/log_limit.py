"""One log line per kind of bad input and per window, however often it repeats.

A camera that publishes a malformed status every second, or a retained message left by
an earlier configuration that comes back at every reconnection, must not write a line
each time: the first line says what is wrong, the repeats are counted, and the next
line of that kind after the window says how many were held back. The hub's log
handler has a filter of the same spirit; this one belongs to the device, so that its
lines are limited wherever its log goes (a plugin author's handler, a test).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["LogLimit"]


class LogLimit:
    """Say whether a line of a kind may be written now, and how many were held back.

    Args:
        window: seconds during which repeats of a kind are only counted.
        max_kinds: kinds remembered; the oldest are forgotten first.
        clock: a monotonic clock (tests pass their own).
    """

    def __init__(
        self,
        window: float = 600.0,
        max_kinds: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.max_kinds = max_kinds
        self._clock = clock
        # kind -> [start of its window, lines held back in it]
        self._kinds: OrderedDict[Hashable, list[float]] = OrderedDict()

    def allow(self, kind: Hashable) -> int | None:
        """None when a line of ``kind`` is held back (and counted); otherwise the number
        of lines held back since the last one written (0 the first time)."""
        now = self._clock()
        seen = self._kinds.get(kind)
        if seen is not None and now - seen[0] < self.window:
            seen[1] += 1
            return None
        held = int(seen[1]) if seen is not None else 0
        self._kinds[kind] = [now, 0]
        self._kinds.move_to_end(kind)
        while len(self._kinds) > self.max_kinds:
            self._kinds.popitem(last=False)
        return held
