"""The recorder: journal before bus, life-safety first, and a broken disk never holds a hold-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.bus import EventBus
from hub.events import AlarmKind, AlarmSignal, CameraMotion, Event
from hub.journal import Journal, canonical_payload, read_entries, verify_journal
from hub.recorder import Recorder
from hub.testing import EventRecorder, wait_until
from tests.conftest import write_lock

T0 = datetime(2025, 2, 14, 16, 0, tzinfo=UTC)


def motion(i: int) -> CameraMotion:
    return CameraMotion(
        time=T0 + timedelta(milliseconds=i), camera=f"cam{i % 3}", active=i % 2 == 0
    )


def holdup(i: int) -> AlarmSignal:
    return AlarmSignal(
        time=T0 + timedelta(milliseconds=i), kind=AlarmKind.HOLDUP, device="bridge", zone="counter"
    )


def journaled(path: Path) -> list[Event]:
    return [entry.event() for entry in read_entries(path)]


@pytest.fixture
async def seen(bus: EventBus) -> EventRecorder:
    rec = EventRecorder()
    bus.subscribe(Event, rec.handle, name="seen")
    return rec


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[Journal]:
    async with Journal(tmp_path / "journal.db") as j:
        yield j


async def test_every_event_is_in_the_journal_before_a_subscriber_sees_it(
    journal: Journal, bus: EventBus
) -> None:
    found: list[bool] = []

    async def check(event: Event) -> None:
        # A separate connection, as an investigator's tool would use.
        payloads = {entry.payload for entry in read_entries(journal.path)}
        found.append(canonical_payload(event) in payloads)

    bus.subscribe(Event, check, name="checker")
    events: list[Event] = [holdup(i) if i % 7 == 0 else motion(i) for i in range(60)]
    async with Recorder(journal, bus) as recorder:
        for i, event in enumerate(events):
            recorder.emit(event)
            if i % 10 == 0:
                await asyncio.sleep(0)  # let the writer take several batches
        await recorder.flush()
        await bus.drain()
        assert recorder.stats().recorded == 60
        assert recorder.batches > 1
    assert found == [True] * 60
    assert sorted(journaled(journal.path), key=lambda e: e.time) == events
    assert verify_journal(journal.path).ok


async def test_life_safety_events_go_first_in_a_batch(
    journal: Journal, bus: EventBus, seen: EventRecorder
) -> None:
    async with Recorder(journal, bus) as recorder:
        for i in range(5):
            recorder.emit(motion(i))
        recorder.emit(holdup(5))
        recorder.emit(motion(6))
        await recorder.flush()
        await bus.drain()
        assert recorder.batches == 1
    assert journaled(journal.path) == [holdup(5), *(motion(i) for i in (0, 1, 2, 3, 4, 6))]
    assert seen.events[0] == holdup(5)
    assert seen.events[1:] == [motion(i) for i in (0, 1, 2, 3, 4, 6)]


async def test_batches_are_bounded_but_life_safety_is_never_held_back(
    journal: Journal, bus: EventBus
) -> None:
    async with Recorder(journal, bus, batch_size=4) as recorder:
        for i in range(6):
            recorder.emit(holdup(i))
        for i in range(6, 16):
            recorder.emit(motion(i))
        await recorder.flush()
        # 6 hold-ups in the first batch despite the bound, then 10 ordinary in 3 batches.
        assert recorder.batches == 4
    entries = read_entries(journal.path)
    assert [e.life_safety for e in entries] == [True] * 6 + [False] * 10


async def test_a_failing_journal_still_delivers_and_catches_up(
    tmp_path: Path, bus: EventBus, seen: EventRecorder
) -> None:
    path = tmp_path / "journal.db"
    async with Journal(path, busy_timeout=0) as journal, Recorder(journal, bus) as recorder:
        with write_lock(path):
            recorder.emit(motion(0))
            recorder.emit(holdup(1))
            await recorder.flush()
            await seen.wait_for(AlarmSignal)
            await seen.wait_for(CameraMotion)
            assert recorder.journal_failures >= 1
            assert recorder.stats().pending == 2
            assert recorder.recorded == 0
        # The disk works again: the next batch takes the held events along.
        recorder.emit(motion(2))
        await recorder.flush()
        assert (recorder.pending, recorder.recorded) == (0, 3)
    assert sorted(journaled(path), key=lambda e: e.time) == [motion(0), holdup(1), motion(2)]
    assert verify_journal(path).ok


async def test_held_events_are_retried_without_new_traffic(
    tmp_path: Path, bus: EventBus, seen: EventRecorder
) -> None:
    path = tmp_path / "journal.db"
    async with (
        Journal(path, busy_timeout=0) as journal,
        Recorder(journal, bus, retry_interval=0.02) as recorder,
    ):
        with write_lock(path):
            recorder.emit(holdup(0))
            await recorder.flush()
            await seen.wait_for(AlarmSignal)
            assert recorder.pending == 1
        await wait_until(lambda: recorder.pending == 0)
        assert recorder.recorded == 1
    assert journaled(path) == [holdup(0)]


async def test_the_retry_buffer_drops_ordinary_events_never_life_safety(
    tmp_path: Path, bus: EventBus, seen: EventRecorder
) -> None:
    path = tmp_path / "journal.db"
    async with (
        Journal(path, busy_timeout=0) as journal,
        Recorder(journal, bus, max_pending=5) as recorder,
    ):
        with write_lock(path):
            for i in range(10):
                recorder.emit(motion(i))
            recorder.emit(holdup(10))
            recorder.emit(holdup(11))
            await recorder.flush()
            await seen.wait_for(Event, count=12)
            assert (recorder.pending, recorder.dropped) == (5, 7)
        recorder.emit(motion(12))
        await recorder.flush()
        assert recorder.pending == 0
    kept = sorted(journaled(path), key=lambda e: e.time)
    assert kept == [motion(7), motion(8), motion(9), holdup(10), holdup(11), motion(12)]


async def test_a_slow_journal_does_not_hold_a_holdup_back(
    tmp_path: Path, bus: EventBus, seen: EventRecorder
) -> None:
    path = tmp_path / "journal.db"
    # The append waits up to 30 s for the lock; delivery may wait only 50 ms.
    async with (
        Journal(path, busy_timeout=30) as journal,
        Recorder(journal, bus, publish_deadline=0.05) as recorder,
    ):
        with write_lock(path):
            recorder.emit(holdup(0))
            await seen.wait_for(AlarmSignal, timeout=5)
            # Still writing the first batch: what comes now is delivered at once too.
            recorder.emit(motion(1))
            await seen.wait_for(CameraMotion, timeout=5)
            assert recorder.recorded == 0
            assert recorder.late == 2
            assert recorder.pending == 2
        await recorder.flush()
        assert (recorder.pending, recorder.recorded, recorder.journal_failures) == (0, 2, 0)
    assert journaled(path) == [holdup(0), motion(1)]
    assert verify_journal(path).ok


async def test_leaving_flushes_everything_queued(
    journal: Journal, bus: EventBus, seen: EventRecorder
) -> None:
    events = [motion(i) for i in range(1200)]
    async with Recorder(journal, bus) as recorder:
        for event in events:
            recorder.emit(event)
        assert recorder.stats().queued == 1200
    assert journaled(journal.path) == events
    await bus.drain()
    assert seen.events == events
    with pytest.raises(RuntimeError, match="closed"):
        recorder.emit(motion(0))


async def test_a_stream_inside_the_gap_wakes_the_writer_once(
    journal: Journal, bus: EventBus
) -> None:
    # Camera motion and zone chatter arrive by thousands a second while the journal
    # rests between appends: the first event of the next batch wakes the writer, which
    # sets its timer for the gap's end; the others must not wake it one by one.
    loop = asyncio.get_running_loop()
    async with Recorder(journal, bus, ordinary_gap=1.0) as recorder:
        recorder.emit(motion(0))
        await recorder.flush()  # appended: the gap starts
        recorder.emit(motion(1))
        await wait_until(lambda: not recorder._wake.is_set(), timeout=5)  # asleep, timer set
        inside = asleep = 0
        for i in range(2, 50):
            recorder.emit(motion(i))
            if loop.time() < recorder._quiet_until:
                inside += 1
                asleep += not recorder._wake.is_set()
        assert inside > 0
        assert asleep == inside
        # Nobody flushes: the gap's end appends them.
        await wait_until(lambda: recorder.recorded == 50, timeout=10)
    assert journaled(journal.path) == [motion(i) for i in range(50)]


async def test_events_emitted_before_start_are_kept(journal: Journal, bus: EventBus) -> None:
    recorder = Recorder(journal, bus)
    recorder.emit(holdup(0))
    async with recorder:
        await recorder.flush()
    assert journaled(journal.path) == [holdup(0)]


async def test_without_a_journal_events_are_still_delivered(
    bus: EventBus, seen: EventRecorder
) -> None:
    async with Recorder(None, bus) as recorder:
        recorder.emit(motion(0))
        recorder.emit(holdup(1))
        await recorder.flush()
        await bus.drain()
        assert (recorder.batches, recorder.recorded) == (0, 0)
    assert seen.events == [holdup(1), motion(0)]


async def test_flush_needs_a_running_recorder(journal: Journal, bus: EventBus) -> None:
    with pytest.raises(RuntimeError, match="not running"):
        await Recorder(journal, bus).flush()


# -- hold-ups on the life-safety path: announced early, joined, flushed --------------------


@asynccontextmanager
async def patient_recorder(path: Path, bus: EventBus) -> AsyncIterator[Recorder]:
    """A recorder whose appends wait (up to 30 s) for a journal held by ``write_lock``,
    rather than give up on it: the window in which a hold-up is on its way to disk.
    Ordinary events are appended without waiting for the gap."""
    async with (
        Journal(path, busy_timeout=30) as journal,
        Recorder(journal, bus, publish_deadline=30, ordinary_gap=0) as recorder,
    ):
        yield recorder


async def test_a_before_journal_subscriber_gets_a_holdup_while_the_journal_writes_it(
    tmp_path: Path, bus: EventBus, seen: EventRecorder
) -> None:
    path = tmp_path / "journal.db"
    early = EventRecorder()
    bus.subscribe(Event, early.handle, name="early", before_journal=True)
    async with patient_recorder(path, bus) as recorder:
        with write_lock(path):  # the append is stuck until the lock goes
            recorder.emit(holdup(0))
            [got] = await early.wait_for(AlarmSignal, timeout=5)
            waiting = asyncio.ensure_future(bus.journaled(got))
            await asyncio.sleep(0.05)
            assert not waiting.done()
            assert seen.events == []  # the others wait for the journal
            assert journaled(path) == []
        await asyncio.wait_for(waiting, 5)
        assert journaled(path) == [holdup(0)]
        await seen.wait_for(AlarmSignal, timeout=5)
        await recorder.flush()
        await bus.drain()
    assert early.events == [holdup(0)]  # once: the publish after the append skips it
    assert seen.events == [holdup(0)]


async def test_ordinary_events_reach_before_journal_subscribers_after_the_journal(
    tmp_path: Path, bus: EventBus
) -> None:
    path = tmp_path / "journal.db"
    early = EventRecorder()
    bus.subscribe(Event, early.handle, name="early", before_journal=True)
    async with patient_recorder(path, bus) as recorder:
        with write_lock(path):
            recorder.emit(motion(0))
            await asyncio.sleep(0.05)
            assert early.events == []
        await early.wait_for(CameraMotion, timeout=5)
        assert journaled(path) == [motion(0)]


async def test_a_holdup_joins_the_append_in_flight(
    tmp_path: Path, bus: EventBus, seen: EventRecorder
) -> None:
    path = tmp_path / "journal.db"
    async with patient_recorder(path, bus) as recorder:
        with write_lock(path):
            recorder.emit(motion(0))
            await wait_until(lambda: recorder.batches == 1)
            # The writer thread waits for the lock inside that append: the hold-up
            # arrives now and is taken into the same transaction.
            recorder.emit(holdup(1))
            await asyncio.sleep(0.05)
        await recorder.flush()
        await seen.wait_for(AlarmSignal, timeout=5)
        assert recorder.batches == 1
        assert recorder.recorded == 2
    assert journaled(path) == [motion(0), holdup(1)]
    assert verify_journal(path).ok


async def test_the_backlog_counts_what_waits_for_the_journal(
    journal: Journal, bus: EventBus
) -> None:
    async with Recorder(journal, bus) as recorder:
        for i in range(5):
            recorder.emit(motion(i))
        assert recorder.backlog == 5  # queued, the writer has not run yet
        await recorder.flush()
        assert recorder.backlog == 0


async def test_the_backlog_leaves_out_what_a_stalled_journal_already_published(
    tmp_path: Path, bus: EventBus, seen: EventRecorder
) -> None:
    path = tmp_path / "journal.db"
    async with (
        Journal(path, busy_timeout=30) as journal,
        Recorder(journal, bus, publish_deadline=0.05) as recorder,
    ):
        with write_lock(path):
            recorder.emit(motion(0))
            await wait_until(lambda: recorder.backlog == 1 and recorder._inflight is not None)
            await seen.wait_for(CameraMotion, timeout=5)  # past the deadline: published
            # A producer slowed down by the backlog would otherwise wait for the disk.
            assert recorder.backlog == 0
            assert recorder.late == 1
        await recorder.flush()
    assert journaled(path) == [motion(0)]
