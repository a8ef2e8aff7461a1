"""Coverage log benchmark: what following the journal costs under the cameras' load.

The live coverage log (``hub.coverage``) reads every journal row after its cursor, in
its own thread, and applies the camera and lifecycle events among them. This measures
``CoverageWriter.catch_up`` over a real journal on disk of ``N_EVENTS`` rows from
``CAMERAS`` cameras, each figure the best of ``PASSES`` passes into a fresh coverage
file (as ``ecrin coverage rebuild`` does; the live log does the same a batch at a time):

* **the camera benchmark's mix** (``bench.mqtt``): each camera comes online and
  records, then rounds of every camera in turn, a ``motion`` that changes its state
  and a tracked person's ``new``, ``update`` and ``end``. The log applies none of
  those: it reads each row's type and skips it unparsed. This is its cost under the
  load the hub is measured with;
* **every row a transition**: each camera's availability and recording changing in
  turn, each row applied and closing intervals (the camera's, and its zones'): the
  worst case, a shop of failing cameras.

Printed per journal row, with the intervals written. Goal: under 20 µs a row in the
mix, so that the log's thread takes under 2 % of one CPU at the 1,000 events a second
of the hold-up benchmark (it runs beside the loop, not on it).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import report
from hub.coverage import CatchUp, CoverageWriter
from hub.events import (
    CameraAvailability,
    CameraDetection,
    CameraMotion,
    CameraRecording,
    Event,
    HubAlive,
    HubStarted,
    utcnow,
)
from hub.journal import Journal

N_EVENTS = 50_000
CAMERAS = 100
ZONES = 16
PASSES = 3
GOAL_US = 20.0
APPEND_BATCH = 1000


def _cameras() -> dict[str, tuple[str, ...]]:
    """``cam-001``... each filming one zone, every other one a second zone too."""
    return {
        f"cam-{n:03d}": (f"zone-{n % ZONES}",) + ((f"zone-{(n + 1) % ZONES}",) if n % 2 else ())
        for n in range(1, CAMERAS + 1)
    }


def _start(cameras: Sequence[str]) -> list[Event]:
    first: list[Event] = [HubAlive(started=utcnow()), HubStarted(site="bench")]
    for camera in cameras:
        first.append(CameraAvailability(camera=camera, state="online"))
        first.append(CameraRecording(camera=camera, recording=True))
    return first


def mix(cameras: Sequence[str]) -> list[Event]:
    """The camera benchmark's load: motion, then a person tracked, per camera."""
    events = _start(cameras)
    r = 0
    while len(events) < N_EVENTS:
        for camera in cameras:
            ident = f"{r}-{camera}"
            events.append(CameraMotion(camera=camera, active=r % 2 == 0))
            for phase in ("new", "update", "end"):
                events.append(
                    CameraDetection(
                        camera=camera, detection=ident, label="person", phase=phase, score=0.9
                    )
                )
        r += 1
    return events[:N_EVENTS]


def transitions(cameras: Sequence[str]) -> list[Event]:
    """Every row a change: availability and recording of each camera in turn."""
    events = _start(cameras)
    r = 0
    while len(events) < N_EVENTS:
        for camera in cameras:
            if r % 2 == 0:
                events.append(
                    CameraAvailability(camera=camera, state=("offline", "online")[r // 2 % 2])
                )
            else:
                events.append(CameraRecording(camera=camera, recording=r // 2 % 2 == 1))
        r += 1
    return events[:N_EVENTS]


async def _journal(path: Path, events: Sequence[Event]) -> None:
    async with Journal(path, verify_on_open=False) as journal:
        for i in range(0, len(events), APPEND_BATCH):
            await journal.append(events[i : i + APPEND_BATCH])


def catch_up_cost(journal: Path, work: Path) -> tuple[float, CatchUp]:
    """Seconds a journal row of a full catch-up into a fresh file, best of
    ``PASSES``; and what the last pass did."""
    cameras = _cameras()
    zones = tuple(f"zone-{z}" for z in range(ZONES))
    best = float("inf")
    result: CatchUp | None = None
    for n in range(PASSES):
        writer = CoverageWriter(work / f"{journal.stem}-coverage-{n}.sqlite", cameras, zones)
        try:
            started = time.perf_counter()
            result = writer.catch_up(journal)
            elapsed = time.perf_counter() - started
        finally:
            writer.close()
        best = min(best, elapsed / result.rows)
    assert result is not None
    return best, result


def main() -> None:
    """Measure and print."""
    names = list(_cameras())
    rows: list[tuple[str, str, str]] = []
    data: dict[str, Any] = {"events": N_EVENTS, "cameras": CAMERAS, "passes": PASSES}
    with tempfile.TemporaryDirectory(prefix="ecrin-bench-coverage-") as tmp:
        work = Path(tmp)
        for name, events, goal in (
            ("camera benchmark mix", mix(names), f"< {GOAL_US:.0f} µs"),
            ("every row a transition", transitions(names), ""),
        ):
            journal = work / f"{name.replace(' ', '-')}.db"
            asyncio.run(_journal(journal, events))
            cost, result = catch_up_cost(journal, work)
            rows.append((f"{name}: per journal row", f"{cost * 1e6:.2f} µs", goal))
            rows.append((f"{name}: events applied", f"{result.events:,}", ""))
            rows.append((f"{name}: intervals written", f"{result.intervals:,}", ""))
            data[name] = {
                "us_per_row": round(cost * 1e6, 3),
                "rows": result.rows,
                "events_applied": result.events,
                "intervals_written": result.intervals,
            }
    rows.append(
        (
            "mix: one CPU's share at 1,000 rows/s",
            f"{data['camera benchmark mix']['us_per_row'] / 10:.2f} %",
            "< 2 %",
        )
    )
    report("coverage", rows, data)


if __name__ == "__main__":
    main()
