"""Device supervision: retry with backoff, restart after a crash, isolation, clean stop."""

from __future__ import annotations

import asyncio
from types import TracebackType

from hub.events import DeviceFault, Event
from hub.supervisor import Backoff, DeviceSupervisor


class FlakyDevice:
    """Fails to open ``fail_opens`` times (shared counter), then runs until told to crash."""

    opens = 0
    exits = 0

    def __init__(self, fail_opens: int, crash: asyncio.Event, running: asyncio.Event) -> None:
        self.fail_opens = fail_opens
        self.crash = crash
        self.running = running

    async def __aenter__(self) -> FlakyDevice:
        type(self).opens += 1
        if type(self).opens <= self.fail_opens:
            raise OSError(f"could not open /dev/ttyUSB9: No such file (attempt {type(self).opens})")
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        type(self).exits += 1

    async def run(self) -> None:
        self.running.set()
        await self.crash.wait()
        self.crash.clear()
        raise RuntimeError("decoder exploded")


def fast_backoff() -> Backoff:
    return Backoff(initial=0.01, maximum=0.05, stable_after=10)


def test_backoff_grows_to_its_cap_and_resets_after_a_stable_run() -> None:
    b = Backoff(initial=1, maximum=8, stable_after=30)
    delays = [b.next_delay() for _ in range(6)]
    ceilings = [1, 2, 4, 8, 8, 8]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    b.ran_for(31)
    assert b.next_delay() <= 1


async def test_device_that_cannot_open_is_retried_until_it_can() -> None:
    class Dev(FlakyDevice):
        opens = 0

    faults: list[Event] = []
    running = asyncio.Event()
    sup = DeviceSupervisor(
        "panel", lambda: Dev(2, asyncio.Event(), running), faults.append, fast_backoff()
    )
    task = asyncio.create_task(sup.run())
    async with asyncio.timeout(5):
        await running.wait()
    assert [type(f) for f in faults] == [DeviceFault, DeviceFault]
    assert all(isinstance(f, DeviceFault) and "/dev/ttyUSB9" in f.reason for f in faults)
    assert sup.running
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert not sup.running


async def test_crash_restarts_only_that_device() -> None:
    class A(FlakyDevice):
        opens = 0
        exits = 0

    class B(FlakyDevice):
        opens = 0
        exits = 0

    crash_a, run_a, run_b = asyncio.Event(), asyncio.Event(), asyncio.Event()
    faults: list[Event] = []
    sup_a = DeviceSupervisor("a", lambda: A(0, crash_a, run_a), faults.append, fast_backoff())
    sup_b = DeviceSupervisor(
        "b", lambda: B(0, asyncio.Event(), run_b), faults.append, fast_backoff()
    )
    tasks = [asyncio.create_task(sup_a.run()), asyncio.create_task(sup_b.run())]
    async with asyncio.timeout(5):
        await run_a.wait()
        await run_b.wait()
        run_a.clear()
        crash_a.set()
        await run_a.wait()  # restarted
    assert (A.opens, A.exits) == (2, 1)
    assert (B.opens, B.exits) == (1, 0)
    assert [f.device for f in faults if isinstance(f, DeviceFault)] == ["a"]
    assert "decoder exploded" in sup_a.last_error
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert B.exits == 1  # cancellation closed the healthy device cleanly
