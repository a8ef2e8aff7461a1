"""Run every benchmark: ``python -m bench`` (or one: ``python -m bench bus``)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["bridge", "bus", "coverage", "coverage_report", "holdup_latency", "mqtt", "state"]


def main(argv: list[str]) -> None:
    """Run the named benchmarks, or all of them."""
    for name in argv or BENCHMARKS:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
