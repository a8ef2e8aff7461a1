"""Link supervision: is the link up, silent, or noisy, and what to do about it.

Three small parts, each usable alone:

* ``LinkHealth`` owns one device's "link up" bit and is the only thing that emits its
  ``LinkLost``/``LinkRestored`` events, so that a port that vanishes *and* falls silent
  is reported once, and every ``LinkLost`` is followed by exactly one ``LinkRestored``.
  Its ``watch`` task turns silence past the configured interval into ``LinkLost``; the
  next byte (or DC-09 link test) restores it.
* ``StreamSupervisor`` runs a ``StreamLink`` inside a device's ``run()``: it reads,
  hands the bytes on, and when the link goes away reports it and reopens it with
  exponential backoff and jitter, capped, until it is back. One bad port therefore
  never stops the hub, and the hub's own device retry is kept for links that never
  opened at all.
* ``LineQuality`` turns a burst of bad frames (noise on a long RS-232 run, a wrong baud
  rate) into one trouble and one restore, instead of a trouble per frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable

from hub.events import Event, LinkLost, LinkRestored
from hub.supervisor import Backoff
from hub.transports.link import LinkDown, StreamLink

__all__ = ["LineQuality", "LinkHealth", "StreamSupervisor"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class LinkHealth:
    """The up/down state of one device's link, and its silence watchdog.

    The link counts as up when it is created (the device has just opened it): silence
    is measured from that moment.

    Args:
        device_id: the device the events name.
        emit: where ``LinkLost``/``LinkRestored`` go (the device context's ``emit``).
        silence: seconds without activity after which the link is lost; 0 turns the
            watchdog off (for links that are legitimately quiet between events).
        clock: a monotonic clock, in seconds.
    """

    def __init__(
        self,
        device_id: str,
        emit: Callable[[Event], None],
        *,
        silence: float = 0.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.device_id = device_id
        self.silence = max(0.0, float(silence))
        self._emit = emit
        self._clock = clock
        self._up = True
        self._silent = False
        self._last = clock()
        self._changed = asyncio.Event()
        #: How many times the link was lost (all causes) and lost to silence alone.
        self.lost_count = 0
        self.silence_count = 0

    @property
    def up(self) -> bool:
        """True unless a ``LinkLost`` is outstanding."""
        return self._up

    @property
    def idle_for(self) -> float:
        """Seconds since the last activity (or since the link was last restored)."""
        return self._clock() - self._last

    def activity(self) -> None:
        """Data or a link test came in: restore a link lost to silence."""
        self._last = self._clock()
        if not self._up and self._silent:
            self._restore()

    def lost(self, reason: str) -> None:
        """The link went away (port vanished, peer closed). Emits ``LinkLost`` once."""
        self._lose(reason, silent=False)

    def restored(self) -> None:
        """The link was reopened. Emits ``LinkRestored`` when a loss was reported."""
        self._last = self._clock()
        if not self._up:
            self._restore()

    def _lose(self, reason: str, *, silent: bool) -> None:
        if not self._up:
            # Already reported. A port that vanishes after its silence was reported is
            # now down for a harder reason: only reopening it can restore it.
            self._silent = self._silent and silent
            return
        self._up = False
        self._silent = silent
        self.lost_count += 1
        if silent:
            self.silence_count += 1
        log.warning("device %s: link lost: %s", self.device_id, reason)
        self._emit(LinkLost(device=self.device_id, reason=reason))
        self._changed.set()

    def _restore(self) -> None:
        self._up = True
        self._silent = False
        log.warning("device %s: link restored", self.device_id)
        self._emit(LinkRestored(device=self.device_id))
        self._changed.set()

    async def watch(self) -> None:
        """Report silence past the interval as ``LinkLost``; run it as a task for as
        long as the link is supervised. Returns at once when the watchdog is off."""
        if self.silence <= 0:
            return
        while True:
            if not self._up:
                self._changed.clear()
                await self._changed.wait()
                continue
            remaining = self._last + self.silence - self._clock()
            if remaining <= 0:
                self._lose(f"no data for {self.silence:g} s", silent=True)
                continue
            await asyncio.sleep(remaining)


class StreamSupervisor:
    """Read a ``StreamLink`` forever, reopening it with backoff when it goes away.

    Args:
        link: the link, already open (the device opened it in ``__aenter__``, so that a
            port that cannot be opened at all is reported to the hub).
        health: the device's link state; told about activity, losses and reopenings.
        on_data: called with every chunk read (the device feeds its decoder). It runs
            on the event loop and must not block.
        reconnect_initial: the first delay before reopening, in seconds.
        reconnect_max: the cap on the delay between attempts.
        on_reopen: called (on the loop, must not block) each time the link is back, so
            the device can resynchronise with the panel (ask for its status).
        logger: the device's logger.
    """

    def __init__(
        self,
        link: StreamLink,
        health: LinkHealth,
        on_data: Callable[[bytes], None],
        *,
        reconnect_initial: float = 0.5,
        reconnect_max: float = 30.0,
        on_reopen: Callable[[], None] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.link = link
        self.health = health
        self._on_data = on_data
        self.reconnect_initial = reconnect_initial
        self.reconnect_max = max(reconnect_max, reconnect_initial)
        self._on_reopen = on_reopen
        self._log = logger or log
        #: Successful reopenings after the link went away.
        self.reconnects = 0
        #: Failed attempts to reopen (all outages together).
        self.failed_attempts = 0
        self.last_error = ""

    async def run(self) -> None:
        """Read, hand on, supervise and reopen until cancelled."""
        watch = asyncio.create_task(self.health.watch(), name=f"watch {self.link.name}")
        try:
            while True:
                await self._pump()
                await self.link.close()
                await self._reopen()
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch

    async def _pump(self) -> None:
        """Read until the link goes away, then report it."""
        try:
            while True:
                data = await self.link.read()
                self.health.activity()
                self._on_data(data)
        except LinkDown as exc:
            self.last_error = str(exc)
            self.health.lost(str(exc))

    async def _reopen(self) -> None:
        """Try to open the link again, with backoff and jitter, until it opens."""
        backoff = Backoff(
            initial=self.reconnect_initial, maximum=self.reconnect_max, stable_after=math.inf
        )
        attempts = 0
        while True:
            delay = backoff.next_delay()
            await asyncio.sleep(delay)
            attempts += 1
            try:
                await self.link.open()
            except OSError as exc:
                self.failed_attempts += 1
                self.last_error = str(exc)
                if attempts == 1:
                    self._log.warning(
                        "%s; retrying with backoff (at most %g s)", exc, self.reconnect_max
                    )
                else:
                    self._log.debug("%s (attempt %d)", exc, attempts)
                continue
            self.reconnects += 1
            self._log.info("%s: reopened after %d attempt(s)", self.link.name, attempts)
            self.health.restored()
            if self._on_reopen is not None:
                self._on_reopen()
            return


class LineQuality:
    """Report a burst of bad frames once, as a trouble, and its end once, as a restore.

    Args:
        burst: how many bad frames within ``window`` make a burst; 0 turns it off.
        window: the sliding window, in seconds.
        clock: a monotonic clock, in seconds.
    """

    def __init__(self, burst: int, window: float = 60.0, *, clock: Clock = time.monotonic) -> None:
        self.burst = max(0, int(burst))
        self.window = float(window)
        self._clock = clock
        self._bad: deque[float] = deque()
        #: True while a line-quality trouble is outstanding.
        self.in_trouble = False
        #: How many bursts were reported.
        self.bursts = 0

    def _expire(self, now: float) -> None:
        while self._bad and now - self._bad[0] > self.window:
            self._bad.popleft()

    def bad(self, count: int = 1) -> bool:
        """Record ``count`` bad frames. True when this starts a burst (report it)."""
        if self.burst <= 0 or count <= 0:
            return False
        now = self._clock()
        self._bad.extend([now] * count)
        self._expire(now)
        if not self.in_trouble and len(self._bad) >= self.burst:
            self.in_trouble = True
            self.bursts += 1
            return True
        return False

    def good(self) -> bool:
        """Record a good frame. True when this ends a burst: no bad frame for a whole
        window (report the restore)."""
        if not self.in_trouble:
            return False
        now = self._clock()
        if self._bad and now - self._bad[-1] <= self.window:
            return False
        self._bad.clear()
        self.in_trouble = False
        return True
