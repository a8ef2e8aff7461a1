"""Time for the escalation engine: the real clock, and a manual one for tests.

Deadlines, reminders and high-stock periods are instants in wall-clock time (they are
stored in the outbox and must mean the same after a restart), while asyncio timers run
on the loop's monotonic clock. ``SystemClock`` bridges the two: it schedules a timer
for the remaining wall-clock delay and, if it fires early (the wall clock was set
back, the machine slept), schedules itself again rather than act before the instant.

``ManualClock`` lets a test stand on 31 January 2026 at 23:59 and step over midnight
without waiting, with the same interface. ``SystemClock(start=...)`` keeps the real
clock's pace from a chosen instant: a test whose timers must run on the loop (webhook
retries, acknowledgement deadlines of a second) still stands on a date it chose, so
its result never depends on the day it runs (the high-stock calendar covers December,
early February and late May).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "Timer"]


class Timer(Protocol):
    """A scheduled callback."""

    def cancel(self) -> None:
        """Do not run it (no effect once it ran)."""
        ...


class Clock(Protocol):
    """Wall-clock time and timers at wall-clock instants."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def call_at(self, when: datetime, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` on the loop once ``when`` has come (soon if it has passed)."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once ``when`` has come."""
        ...


class _SystemTimer:
    __slots__ = ("_callback", "_clock", "_handle", "_when", "cancelled")

    def __init__(self, clock: SystemClock, when: datetime, callback: Callable[[], None]) -> None:
        self._clock = clock
        self._when = when
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = None
        self.cancelled = False
        self._arm()

    def _arm(self) -> None:
        delay = max((self._when - self._clock.now()).total_seconds(), 0.0)
        self._handle = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        if self.cancelled:
            return
        if self._clock.now() < self._when:
            self._arm()  # the wall clock moved back: not yet
            return
        self._callback()

    def cancel(self) -> None:
        self.cancelled = True
        if self._handle is not None:
            self._handle.cancel()


class SystemClock:
    """The real clock (UTC), with timers on the running loop.

    Args:
        start: when given, the clock reads ``start`` at construction and then moves at
            the real clock's pace (measured on the monotonic clock): the real timers of
            a run on a date of the caller's choosing. None: the machine's clock.
    """

    def __init__(self, *, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the clock's start must be timezone-aware")
        self._start = None if start is None else start.astimezone(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        """The current time in UTC."""
        if self._start is None:
            return datetime.now(UTC)
        return self._start + timedelta(seconds=time.monotonic() - self._origin)

    def call_at(self, when: datetime, callback: Callable[[], None]) -> Timer:
        """Schedule ``callback`` at the wall-clock instant ``when``."""
        return _SystemTimer(self, when, callback)

    async def sleep_until(self, when: datetime) -> None:
        """Sleep until the wall-clock instant ``when``."""
        while (delay := (when - self.now()).total_seconds()) > 0:
            await asyncio.sleep(delay)


@dataclass(order=True)
class _ManualTimer:
    when: datetime
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when told to (``advance``, ``set``).

    Due callbacks run inside ``advance``/``set``, in time order, as the real clock
    would run them on the loop.

    Args:
        start: the initial time (timezone-aware).
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the manual clock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._timers: list[_ManualTimer] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        """The clock's current time (UTC)."""
        return self._now

    def call_at(self, when: datetime, callback: Callable[[], None]) -> Timer:
        """Schedule ``callback`` at ``when`` (run at once, on the loop, if it has passed)."""
        timer = _ManualTimer(when, next(self._seq), callback)
        if when <= self._now:
            asyncio.get_running_loop().call_soon(self._run, timer)
        else:
            heapq.heappush(self._timers, timer)
        return timer

    @staticmethod
    def _run(timer: _ManualTimer) -> None:
        if not timer.cancelled:
            timer.cancelled = True
            timer.callback()

    async def sleep_until(self, when: datetime) -> None:
        """Return once the clock has been moved to ``when`` or past it."""
        if when <= self._now:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_at(when, wake)
        try:
            await future
        finally:
            timer.cancel()

    def set(self, when: datetime) -> None:
        """Move the clock to ``when`` (never backwards) and run what became due."""
        when = when.astimezone(UTC)
        if when < self._now:
            raise ValueError("the manual clock does not go back")
        while self._timers and self._timers[0].when <= when:
            timer = heapq.heappop(self._timers)
            self._now = max(self._now, timer.when)
            self._run(timer)
        self._now = when

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward and run what became due."""
        self.set(self._now + timedelta(seconds=seconds))
