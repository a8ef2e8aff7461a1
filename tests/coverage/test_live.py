"""The live coverage log on its own: it stops when told, whatever it was woken for."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hub.bus import EventBus
from hub.coverage import CoverageLayout, CoverageLog, CoverageSettings, LiveCoverageLog
from hub.events import CameraAvailability
from hub.journal import Journal


async def test_it_stops_at_once_when_woken_as_it_is_stopped(tmp_path: Path) -> None:
    """HubStopping wakes the log just as the hub stops it: the stop must not be lost
    (on Python 3.11, ``asyncio.wait_for`` swallows a cancellation that comes as the
    awaited event is set, and the hub would wait for the log for ever)."""
    journal_path = tmp_path / "journal.db"
    layout = CoverageLayout(
        journal=journal_path,
        path=tmp_path / "coverage.sqlite",
        cameras={"cam": ("comptoir",)},
        zones=("comptoir",),
    )
    bus = EventBus()
    async with Journal(journal_path) as journal:
        for _ in range(20):
            live = LiveCoverageLog(CoverageSettings(), layout, bus, poll=3600, settle=0)
            await live.__aenter__()
            await asyncio.sleep(0)  # the follower now waits to be woken
            event = CameraAvailability(camera="cam", state="online")
            await journal.append([event])
            bus.publish(event)  # wakes it, in the same turn of the loop as the stop
            async with asyncio.timeout(10):
                await live.__aexit__(None, None, None)
    await bus.close()
    span = CoverageLog(layout.path).span()
    assert span is not None
    assert span[1] == event.time  # each stop caught up with the journal first
