"""Benchmarks: run with ``python -m bench`` (or ``make bench``); they print a table and
write JSON to ``bench/results/``. Figures are recorded in ``docs/benchmarks.md``."""
