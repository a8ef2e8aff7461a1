"""Helpers shared by the benchmarks: percentiles, the result table and the JSON file, and
what they read of a hub process (its journal, its memory)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def report(name: str, rows: list[tuple[str, str, str]], data: dict[str, Any]) -> Path:
    """Print a table of (measure, value, goal) and write the JSON result file."""
    width = max(len(r[0]) for r in rows)
    print(f"\n== {name} ==")
    print(f"{'measure'.ljust(width)}  {'value':>16}  goal")
    for measure, value, goal in rows:
        print(f"{measure.ljust(width)}  {value:>16}  {goal}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **data}, indent=2))
    print(
        f"(written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path})"
    )
    return path


def read_only(path: Path) -> contextlib.closing[sqlite3.Connection]:
    """A read-only connection to a hub's SQLite file (the hub may be writing it)."""
    return contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True))


def journal_types(path: Path, after: int = 0) -> dict[str, int]:
    """Rows of a hub's journal by event type, after row ``after``."""
    with read_only(path) as conn:
        rows = conn.execute(
            "SELECT type, count(*) FROM events WHERE seq > ? GROUP BY type", (after,)
        )
        return {str(t): int(n) for t, n in rows}


def process_memory(pid: int) -> dict[str, int]:
    """A process's resident memory now (``VmRSS``) and at its highest (``VmHWM``), in
    kB, from ``/proc/<pid>/status``."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values
