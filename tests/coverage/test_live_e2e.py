"""The live coverage log in a running hub, across a clean stop and a crash, equals the
log rebuilt from the journal afterwards.

Three runs of the real hub on one shop file, its camera transitions scripted through
the hub's own ``emit`` (the sim cameras run too, and report their ``record`` role,
which the log leaves aside), heartbeats every second:

1. in this process, stopped cleanly, with an event whose clock went backwards;
2. the ``ecrin run`` console command in a subprocess, killed with SIGKILL (a crash:
   no ``HubStopping``);
3. in this process again, which resumes the log from its cursor and stops cleanly.

Then ``ecrin coverage rebuild -o`` (a real subprocess) makes the log afresh from the
journal, and every interval of the two must be the same.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.app import Hub
from hub.config import Config, load_config
from hub.coverage import CoverageLog, coverage_path
from hub.coverage.model import CAUSE_HUB_DOWN, Interval
from hub.events import CameraAvailability, CameraRecording, Event, HubAlive, HubStopping
from hub.journal import tail
from hub.plugins import PluginManager
from hub.supervisor import Backoff
from hub.testing import EventRecorder

ECRIN = [sys.executable, "-m", "hub.cli"]
ENV = dict(
    os.environ,
    ECRIN_LOAD_PLUGINS="sim,coverage",
    PYTHONUNBUFFERED="1",
    # Under faketime's "@DATE" (the date runs), a child's clock would start again at
    # DATE, behind this process's: the crash run's events would come as a clock gone
    # backwards. Its clock goes on from this process's instead (no effect otherwise).
    FAKETIME_DONT_RESET="1",
)
FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)

SHOP = """\
site:
  name: Bijouterie Couverture
  address: 12 rue des Halles, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {id: comptoir, name: Comptoir, risk: high}
  - {id: vitrine, name: Vitrine, risk: medium}
  - {id: reserve, name: Réserve, risk: high}
cameras:
  - id: cam-a
    type: sim-camera
    zones: [comptoir]
    placement: indoor
    settings: {period: 0.2}
  - id: cam-b
    type: sim-camera
    zones: [comptoir, vitrine]
    placement: indoor
    settings: {period: 0.3}
coverage:
  heartbeat_seconds: 1
journal:
  path: journal.db
"""


def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    return path


def manager() -> PluginManager:
    pm = PluginManager(allow=frozenset({"sim", "coverage"}))
    pm.load_entry_points()
    return pm


def config_of(path: Path) -> tuple[Config, PluginManager]:
    pm = manager()
    return load_config(path, pm.device_types(), pm.config_sections()), pm


def fast() -> Backoff:
    return Backoff(initial=0.02, maximum=0.1)


def everything(path: Path) -> list[Interval]:
    return CoverageLog(path).intervals(FAR_PAST, FAR_FUTURE)


def whole(camera: str, state: str, time: datetime | None = None) -> CameraAvailability:
    """The camera as a whole (what Frigate reports; the sim camera reports a role)."""
    return CameraAvailability(camera=camera, state=state, time=time or datetime.now(UTC))


def rec(camera: str, on: bool) -> CameraRecording:
    return CameraRecording(camera=camera, recording=on)


async def run_in_process(path: Path, scripted: Callable[[], list[Event]]) -> list[Interval]:
    """One run of the hub: emit the scripted events through the hub, wait until they
    are published (so journaled), let the log catch up, and return what a reader saw
    while the hub ran."""
    config, pm = config_of(path)
    async with Hub(config, pm, backoff=fast) as hub:
        assert hub.coverage is not None
        recorder = EventRecorder()
        hub.bus.subscribe(CameraAvailability, recorder.handle, predicate=lambda e: not e.role)
        hub.bus.subscribe(CameraRecording, recorder.handle)
        events = scripted()
        for event in events:
            hub.emit(event)
        await recorder.wait_for(Event, count=len(events))
        await hub.coverage.catch_up()
        return everything(coverage_path(hub.journal_path))


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_live_log_equals_the_rebuilt_one_across_a_stop_and_a_crash(tmp_path: Path) -> None:
    path = shop(tmp_path)
    journal = tmp_path / "journal.db"
    live = coverage_path(journal)

    def first_run() -> list[Event]:
        return [
            whole("cam-a", "online"),
            rec("cam-a", True),
            whole("cam-b", "online"),
            rec("cam-b", False),
            # a camera's clock an hour behind: applied at the last known time, counted
            whole("cam-b", "offline", datetime.now(UTC) - timedelta(hours=1)),
            whole("cam-a", "disabled"),
            whole("cam-a", "online"),
        ]

    seen_while_running = asyncio.run(run_in_process(path, first_run))
    assert any(i.kind == "coverage" and i.state == "covered" for i in seen_while_running)
    assert CoverageLog(live).clock_backwards() == 1

    # Run 2: the console command, killed without a word.
    rows_before = tail(journal, 1)[0].seq
    proc = subprocess.Popen(
        [*ECRIN, "run", "-c", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=tmp_path,
    )
    try:
        # two heartbeats: the second is the last sign of life before the kill
        wait_until(
            lambda: (
                sum(r.type == "HubAlive" and r.seq > rows_before for r in tail(journal, 500)) >= 2
            )
        )
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    crash_rows = tail(journal, 500)
    assert not any(r.type == "HubStopping" and r.seq > rows_before for r in crash_rows)
    last_alive = max(
        datetime.fromisoformat(r.time)
        for r in crash_rows
        if r.seq > rows_before and r.type in ("HubAlive", "HubStarted")
    )

    # Run 3: resumes from the cursor, finds the crash, stops cleanly.
    def third_run() -> list[Event]:
        return [whole("cam-b", "online"), rec("cam-b", True), whole("cam-b", "unknown")]

    asyncio.run(run_in_process(path, third_run))

    rows = tail(journal, 10_000)
    assert sum(r.type == "HubStopping" for r in rows) == 2
    assert sum(r.type == "HubAlive" for r in rows) >= 3

    rebuilt = tmp_path / "rebuilt.sqlite"
    done = subprocess.run(
        [*ECRIN, "coverage", "rebuild", "-c", str(path), "-o", str(rebuilt)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "rebuilt from" in done.stdout

    live_intervals = everything(live)
    assert live_intervals == everything(rebuilt)
    assert CoverageLog(live).span() == CoverageLog(rebuilt).span()
    assert CoverageLog(rebuilt).clock_backwards() == 1

    # The crash: run 2 closed at its last sign of life, then the hub was down.
    down = [i for i in live_intervals if i.subject == "reserve" and i.cause == CAUSE_HUB_DOWN]
    assert len(down) == 2  # after the clean stop of run 1, and after the crash
    assert down[1].start == last_alive
    assert all(
        i.state == "gap"
        for i in live_intervals
        if i.cause == CAUSE_HUB_DOWN and i.kind == "coverage"
    )
    assert all(i.end > i.start for i in live_intervals)
    assert oct(live.stat().st_mode & 0o777) == oct(0o600)
    assert oct(rebuilt.stat().st_mode & 0o777) == oct(0o600)


async def test_the_hub_journals_a_heartbeat_as_it_starts_before_its_devices_events(
    tmp_path: Path,
) -> None:
    path = shop(tmp_path)
    await run_in_process(path, lambda: [whole("cam-a", "online")])
    types = [r.type for r in tail(tmp_path / "journal.db", 1000)]
    assert types.index(HubAlive.__name__) < types.index(CameraAvailability.__name__)
    assert types[-1] == HubStopping.__name__
