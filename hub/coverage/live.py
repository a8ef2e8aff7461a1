"""The live coverage log: follows the journal while the hub runs, and beats its heart.

``LiveCoverageLog`` is entered by the hub after the journal opens and *before* the
recorder starts, so that it is left *after* the recorder: the recorder's final flush
puts ``HubStopping`` in the journal, and the log's last catch-up, on the way out,
closes the run at that time. It reads the journal, never the bus, so it misses no
camera transition (see ``hub.coverage.store``); the bus only wakes it up: an observer
notes that a camera or lifecycle event was published (it is then journaled already)
and the follower catches up in its own thread, at most every ``settle`` seconds, and
at least every ``poll`` seconds whatever the bus said.

The heartbeat (``start_heartbeat``, once the recorder runs) emits ``HubAlive`` at
once and then every ``heartbeat_seconds``: through the recorder, into the journal,
so that a rebuild finds the same last-known-alive moments as the live log did.

Nothing here is on the path of a hold-up: the observer sets a flag, the writing is in
a thread, and a coverage file that cannot be written is logged and retried, never
raised into the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Final, Self

from hub.bus import EventBus
from hub.coverage.config import CoverageLayout, CoverageSettings
from hub.coverage.store import CatchUp, CoverageError, CoverageWriter
from hub.coverage.tracker import EVENT_TYPES
from hub.events import Event, HubAlive, utcnow
from hub.sqlite_writer import SqliteWriter

__all__ = ["LiveCoverageLog"]

log = logging.getLogger(__name__)

#: Catch up at least this often (seconds), whatever the bus said.
POLL: Final = 5.0
#: After a wake-up, wait this long for more events before catching up (one batch).
SETTLE: Final = 0.2


class LiveCoverageLog:
    """The coverage log of a running hub.

    Args:
        settings: the ``coverage:`` section.
        layout: the journal to follow, the file to write, the cameras and zones.
        bus: the hub's bus, observed only to be woken up.
        poll: catch up at least this often, in seconds.
        settle: how long a wake-up waits for more events.
    """

    def __init__(
        self,
        settings: CoverageSettings,
        layout: CoverageLayout,
        bus: EventBus,
        *,
        poll: float = POLL,
        settle: float = SETTLE,
    ) -> None:
        self.settings = settings
        self.layout = layout
        self._bus = bus
        self._poll = poll
        self._settle = settle
        self._thread = SqliteWriter(
            "coverage-writer", lambda: CoverageError(layout.path, "the coverage log is not open")
        )
        self._writer: CoverageWriter | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stop_observing: Callable[[], None] | None = None
        self._closing = False
        #: When this run of the hub began (every heartbeat carries it).
        self.started: datetime = utcnow()
        #: Catch-ups done, and the last one's result (for tests and status).
        self.catch_ups = 0
        self.last: CatchUp | None = None
        self.caught_up = asyncio.Condition()

    async def __aenter__(self) -> Self:
        self._thread.start()
        try:
            self._writer = await self._thread.call(
                lambda: CoverageWriter(self.layout.path, self.layout.cameras, self.layout.zones)
            )
        except BaseException:
            self._thread.stop()
            raise
        self._stop_observing = self._bus.observe(self._observe)
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._follow(), name="coverage-follow"))
        return self

    def start_heartbeat(self, emit: Callable[[Event], None]) -> None:
        """Emit ``HubAlive`` now and every ``heartbeat_seconds`` until the log closes
        (call it once the recorder runs, before the devices start)."""
        emit(HubAlive(started=self.started))
        self._tasks.append(
            asyncio.get_running_loop().create_task(self._beat(emit), name="coverage-heartbeat")
        )

    def stop_heartbeat(self) -> None:
        """Stop the heartbeat (before the recorder stops: nothing may emit after)."""
        for task in self._tasks:
            if task.get_name() == "coverage-heartbeat":
                task.cancel()

    async def _beat(self, emit: Callable[[Event], None]) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            emit(HubAlive(started=self.started))

    def _observe(self, event: Event) -> None:
        if type(event).__name__ in EVENT_TYPES:
            self._wake.set()

    async def _follow(self) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11, wait_for swallows a
        # cancellation that comes as the event is set (HubStopping wakes the log just
        # as the hub stops it), and the hub would wait for this task for ever.
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            if self._wake.is_set():
                await asyncio.sleep(self._settle)
            self._wake.clear()
            try:
                await self.catch_up()
            except CoverageError as exc:
                log.error("coverage log not brought up to date (retried): %s", exc)

    async def catch_up(self) -> CatchUp:
        """Apply the journal's new rows now (in the log's thread).

        Raises:
            CoverageError: the journal cannot be read or the file written.
        """
        writer = self._writer
        if writer is None:
            raise CoverageError(self.layout.path, "the coverage log is not open")
        result = await self._thread.call(lambda: writer.catch_up(self.layout.journal))
        self.last = result
        async with self.caught_up:
            self.catch_ups += 1
            self.caught_up.notify_all()
        return result

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        if self._stop_observing is not None:
            self._stop_observing()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            # The recorder has flushed: HubStopping is in the journal.
            self.last = await self._thread.call(lambda: writer.catch_up(self.layout.journal))
        except CoverageError as error:
            log.error("coverage log: last catch-up failed (the next start resumes): %s", error)
        finally:
            await self._thread.call(writer.close)
            self._thread.stop()
