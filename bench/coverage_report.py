"""The coverage report over a month of a busy shop: how long it takes, how much memory.

Sixteen cameras in eight zones (two per zone) over 31 days, each camera changing
availability every minute (the two of a zone in opposite phase, so a zone is covered
but for one minute an hour, when both are down): 714,000 camera intervals and 11,900
zone intervals, held in an ``IntervalList``; a real journal holding every camera
transition and 300 signals, which the report scans for the zones' signals. The report
is built once, then rendered to JSON, CSV and HTML, and to PDF once (WeasyPrint).

Run: ``python -m bench coverage_report``. Figures: docs/benchmarks.md, "Coverage
report". Peak memory is the process's peak resident set (``ru_maxrss``), so it holds
the log and the journal's setup as well; the increase over the setup is shown apart.
"""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bench.common import report
from hub.config.model import CameraConfig, Config, JournalConfig, Site, Zone
from hub.coverage.formats import render
from hub.coverage.memory import IntervalList
from hub.coverage.model import Interval
from hub.coverage.period import parse_period
from hub.coverage.report import assemble_report
from hub.events import AlarmKind, AlarmSignal, CameraAvailability, Event
from hub.journal import Journal

CAMERAS = 16
ZONES = 8
DAYS = 31
MINUTES = DAYS * 24 * 60
START = datetime(2024, 2, 29, 23, tzinfo=UTC)  # 1 March 2024, 00:00 in Paris
T = TypeVar("T")


def _online(camera: int, minute: int) -> bool:
    """Even cameras are up on even minutes, odd ones on odd minutes but the first
    minute of each hour."""
    if camera % 2 == 0:
        return minute % 2 == 0
    return minute % 2 == 1 and minute % 60 != 1


def _runs(values: list[bool]) -> list[tuple[int, int, bool]]:
    out: list[tuple[int, int, bool]] = []
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            out.append((start, i, values[start]))
            start = i
    return out


def _at(minute: int) -> datetime:
    return START + timedelta(minutes=minute)


def shop(directory: Path) -> Config:
    return Config(
        path=directory / "shop.yaml",
        site=Site("Bijouterie du Banc", "1 place du Marché, 37000 Tours", "37", "Europe/Paris"),
        zones=tuple(Zone(f"zone-{z}", f"Zone {z}", "high") for z in range(ZONES)),
        cameras=tuple(
            CameraConfig(
                id=f"cam-{c}",
                type="frigate",
                settings={},
                zones=(f"zone-{c // 2}",),
                placement="indoor" if c < 12 else "outdoor",
                views_public_road=c >= 14,
            )
            for c in range(CAMERAS)
        ),
        journal=JournalConfig(directory / "journal.db"),
    )


def log() -> tuple[IntervalList, list[Event]]:
    intervals: list[Interval] = []
    events: list[Event] = []
    for camera in range(CAMERAS):
        name = f"cam-{camera}"
        states = [_online(camera, m) for m in range(MINUTES)]
        for a, b, up in _runs(states):
            state = "online" if up else "offline"
            intervals.append(Interval(name, "availability", state, _at(a), _at(b)))
            events.append(CameraAvailability(time=_at(a), camera=name, state=state))
        intervals.append(Interval(name, "recording", "on", _at(0), _at(MINUTES)))
    for zone in range(ZONES):
        covered = [_online(2 * zone, m) or _online(2 * zone + 1, m) for m in range(MINUTES)]
        for a, b, up in _runs(covered):
            cause = "" if up else f"camera offline (cam-{2 * zone}, cam-{2 * zone + 1})"
            state = "covered" if up else "gap"
            intervals.append(Interval(f"zone-{zone}", "coverage", state, _at(a), _at(b), cause))
    for i in range(300):
        kind = (AlarmKind.HOLDUP, AlarmKind.BURGLARY, AlarmKind.TAMPER)[i % 3]
        events.append(
            AlarmSignal(time=_at(i * 148 + 7), kind=kind, device="panel", zone=f"zone-{i % ZONES}")
        )
    events.sort(key=lambda e: e.time)
    return IntervalList(intervals, span=(_at(0), _at(MINUTES))), events


async def _journal(path: Path, events: list[Event]) -> None:
    async with Journal(path, verify_on_open=False) as journal:
        for i in range(0, len(events), 5000):
            await journal.append(events[i : i + 5000])


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    began = time.perf_counter()
    value = work()
    return value, time.perf_counter() - began


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config = shop(directory)
        reader, events = log()
        asyncio.run(_journal(config.journal.path, events))
        intervals = len(reader.intervals(_at(0), _at(MINUTES)))
        journal_rows = len(events)
        del events
        setup_rss = _rss_mib()
        period = parse_period("2024-03-01", "2024-03-31", config.site.tzinfo)
        built, build_s = _timed(
            lambda: assemble_report(config, reader, period, _at(MINUTES), journal=None)
        )
        figures: dict[str, Any] = {"build_s": build_s}
        rows = [
            ("intervals in the log", f"{intervals:,}", ""),
            ("journal rows scanned", f"{journal_rows:,}", ""),
            ("build the report", f"{build_s:.2f} s", ""),
        ]
        for fmt in ("json", "csv", "html", "pdf"):
            data, seconds = _timed(lambda fmt=fmt: render(built, fmt))  # type: ignore[misc]
            figures[f"{fmt}_s"] = seconds
            figures[f"{fmt}_bytes"] = len(data)
            rows.append((f"render {fmt}", f"{seconds:.2f} s", f"{len(data) / 1e6:.1f} MB"))
        peak = _rss_mib()
        rows.append(("peak resident memory", f"{peak:.0f} MiB", ""))
        rows.append(("of which the report", f"{peak - setup_rss:.0f} MiB", ""))
        figures.update(
            intervals=intervals,
            journal_rows=journal_rows,
            peak_rss_mib=peak,
            report_rss_mib=peak - setup_rss,
        )
        report("coverage_report", rows, figures)


if __name__ == "__main__":
    main()
