"""One log line per kind of trouble and per window, however often the trouble repeats.

A transport that retries every few seconds, or that is fed a stream of bad messages,
must not write a line each time: the first line says what is wrong, and the repeats
are counted and told with the next line of that kind after the window
(``... (and 41 more in the last 600 s)``). The hub's log handler has a filter of the
same spirit (``hub.logs.RepeatFilter``); this one belongs to the transport, so its
lines are rate-limited wherever its log goes (a test's ``caplog``, a plugin author's
own handler), and it keys on what the line is about, not on its template.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["LogThrottle"]


class LogThrottle:
    """Say whether a line of a kind may be written now, and how many were held back.

    Args:
        window: seconds during which repeats of a kind are only counted.
        max_kinds: kinds remembered; the oldest are forgotten first, so a flood of
            distinct kinds (a topic per message) cannot grow it without bound.
        clock: a monotonic clock (tests pass their own).
    """

    def __init__(
        self,
        window: float = 600.0,
        max_kinds: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.max_kinds = max_kinds
        self._clock = clock
        # kind -> [start of its window, repeats held back in it]
        self._kinds: OrderedDict[Hashable, list[float]] = OrderedDict()

    def allow(self, kind: Hashable) -> int | None:
        """None when a line of ``kind`` must be held back (counted); else the number of
        lines held back since the last one written (0 the first time)."""
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

    def forget(self, kind: Hashable) -> None:
        """Start ``kind`` afresh: its next line is written at once (a fault that ended
        and came back is news again)."""
        self._kinds.pop(kind, None)

    def suffix(self, held: int) -> str:
        """The words to add to a line written after ``held`` repeats were held back."""
        return f" (and {held} more in the last {self.window:g} s)" if held else ""
