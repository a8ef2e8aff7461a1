"""Link supervision: reopening with backoff, silence, and line quality, over real ptys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from hypothesis import given
from hypothesis import strategies as st

from hub.events import LinkLost, LinkRestored
from hub.testing import EventRecorder
from hub.transports.pty import PtyCable
from hub.transports.serial import SerialConfig, SerialLink
from hub.transports.supervision import LineQuality, LinkHealth, StreamSupervisor


class Received:
    """What the supervisor handed on, with a way to wait for it."""

    def __init__(self) -> None:
        self.data = b""
        self.changed = asyncio.Event()

    def __call__(self, chunk: bytes) -> None:
        self.data += chunk
        self.changed.set()

    async def wait_for(self, marker: bytes, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while marker not in self.data:
                self.changed.clear()
                await self.changed.wait()


@asynccontextmanager
async def supervised(
    pty_cable: PtyCable, recorder: EventRecorder, *, silence: float = 0.0
) -> AsyncIterator[tuple[StreamSupervisor, Received]]:
    link = SerialLink(SerialConfig(port=pty_cable.path))
    await link.open()
    received = Received()
    health = LinkHealth("panel", recorder.emit, silence=silence)
    supervisor = StreamSupervisor(link, health, received, reconnect_initial=0.02, reconnect_max=0.1)
    task = asyncio.create_task(supervisor.run())
    try:
        yield supervisor, received
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await link.close()
    assert task.cancelled()  # it ran until cancelled, never ended by itself


async def test_unplug_is_link_lost_and_replug_is_link_restored(
    pty_cable: PtyCable, recorder: EventRecorder
) -> None:
    async with supervised(pty_cable, recorder) as (supervisor, received):
        await pty_cable.write(b"first\n")
        await received.wait_for(b"first\n")
        pty_cable.unplug()
        (lost,) = await recorder.wait_for(LinkLost)
        assert lost.device == "panel"
        assert "ttyUSB0" in lost.reason
        pty_cable.plug()
        await recorder.wait_for(LinkRestored)
        await pty_cable.write(b"again\n")
        await received.wait_for(b"again\n")
        assert supervisor.reconnects == 1
    assert [type(e) for e in recorder.events] == [LinkLost, LinkRestored]


async def test_keeps_retrying_while_the_port_is_missing(
    pty_cable: PtyCable, recorder: EventRecorder
) -> None:
    async with supervised(pty_cable, recorder) as (supervisor, received):
        pty_cable.unplug()
        await recorder.wait_for(LinkLost)
        await recorder.wait_until(lambda: supervisor.failed_attempts >= 3)
        assert "No such file or directory" in supervisor.last_error
        assert not recorder.of_type(LinkRestored)
        pty_cable.plug()
        await recorder.wait_for(LinkRestored)
        await pty_cable.write(b"x\n")
        await received.wait_for(b"x\n")
    assert len(recorder.of_type(LinkLost)) == 1  # one outage, one report, however many tries


async def test_silence_is_link_lost_and_data_restores_it(
    pty_cable: PtyCable, recorder: EventRecorder
) -> None:
    async with supervised(pty_cable, recorder, silence=0.3) as (supervisor, received):
        (lost,) = await recorder.wait_for(LinkLost)
        assert "no data for 0.3 s" in lost.reason
        assert supervisor.health.silence_count == 1
        await pty_cable.write(b"alive\n")
        await recorder.wait_for(LinkRestored)
        await received.wait_for(b"alive\n")
        # Silent again: a second, separate outage.
        await recorder.wait_for(LinkLost, count=2)
    assert [type(e) for e in recorder.events] == [LinkLost, LinkRestored, LinkLost]


async def test_silence_then_unplug_is_one_outage(
    pty_cable: PtyCable, recorder: EventRecorder
) -> None:
    async with supervised(pty_cable, recorder, silence=0.2) as (supervisor, _received):
        await recorder.wait_for(LinkLost)
        pty_cable.unplug()
        await recorder.wait_until(lambda: supervisor.failed_attempts >= 1)
        assert len(recorder.of_type(LinkLost)) == 1
        pty_cable.plug()
        await recorder.wait_for(LinkRestored)
        assert supervisor.reconnects == 1
    assert [type(e) for e in recorder.events][:2] == [LinkLost, LinkRestored]


def fake_clock() -> tuple[Callable[[], float], Callable[[float], None]]:
    now = [0.0]

    def clock() -> float:
        return now[0]

    def advance(seconds: float) -> None:
        now[0] += seconds

    return clock, advance


def test_line_quality_reports_a_burst_once_and_its_end_once() -> None:
    clock, advance = fake_clock()
    quality = LineQuality(burst=3, window=10.0, clock=clock)
    assert not quality.bad()
    advance(1)
    assert not quality.bad()
    advance(1)
    assert quality.bad()  # third within 10 s: the burst starts
    assert quality.in_trouble
    assert not quality.bad(5)  # more of the same burst: not reported again
    assert not quality.good()  # a good frame right after is not the end of it
    advance(10.5)
    assert quality.good()  # a whole window without a bad frame: the burst is over
    assert not quality.in_trouble
    assert quality.bursts == 1


def test_line_quality_scattered_bad_frames_are_no_burst() -> None:
    clock, advance = fake_clock()
    quality = LineQuality(burst=3, window=10.0, clock=clock)
    for _ in range(10):
        assert not quality.bad()
        advance(6)  # never three within ten seconds
    assert quality.bursts == 0


def test_line_quality_off() -> None:
    quality = LineQuality(burst=0)
    assert not any(quality.bad(100) for _ in range(3))


@given(
    burst=st.integers(min_value=1, max_value=6),
    steps=st.lists(
        st.tuples(st.sampled_from(["bad", "good"]), st.floats(min_value=0, max_value=30)),
        max_size=80,
    ),
)
def test_line_quality_troubles_and_restores_alternate(
    burst: int, steps: list[tuple[str, float]]
) -> None:
    """Whatever the traffic, a trouble is reported only after ``burst`` bad frames
    within the window, and troubles and restores strictly alternate."""
    clock, advance = fake_clock()
    quality = LineQuality(burst=burst, window=10.0, clock=clock)
    reports: list[str] = []
    bad_times: list[float] = []
    for action, gap in steps:
        advance(gap)
        if action == "bad":
            bad_times.append(clock())
            if quality.bad():
                recent = [t for t in bad_times if clock() - t <= 10.0]
                assert len(recent) >= burst
                reports.append("trouble")
        elif quality.good():
            assert bad_times
            assert clock() - bad_times[-1] > 10.0
            reports.append("restore")
        assert quality.in_trouble == (reports[-1:] == ["trouble"])
    assert reports == ["trouble", "restore"] * (len(reports) // 2) + ["trouble"] * (
        len(reports) % 2
    )
