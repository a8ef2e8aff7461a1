"""``ecrin report coverage -c FILE --from DATE --to DATE --format FMT [-o PATH]``.

The command line of the coverage report (``hub.coverage.report_command`` makes it).
Dates are whole days of the site, ``--to`` included; a date and time is an instant,
``--to`` excluded (docs/coverage.md, "The report").
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hub.coverage.formats import FORMATS
from hub.coverage.period import MAX_DAYS
from hub.coverage.report_command import report_coverage_main
from hub.coverage.report_source import ReportSource
from hub.sdk import Command, CommandContext

__all__ = ["report_command"]


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    reports = parser.add_subparsers(dest="report", required=True, metavar="REPORT")
    p = reports.add_parser(
        "coverage",
        help="video-surveillance coverage and risk exposure, for the authorisation file",
        description="The coverage of each zone over a period, its gaps and their causes,"
        " the risk exposure of each zone, and the camera list the authorisation file"
        " (Cerfa 13806) asks for.",
    )
    p.add_argument("-c", "--config", type=Path, required=True, help="the shop file")
    p.add_argument(
        "--from",
        dest="start",
        required=True,
        metavar="DATE",
        help="first day (2024-03-01, site time) or an instant (2024-03-01T08:00)",
    )
    p.add_argument(
        "--to",
        dest="end",
        required=True,
        metavar="DATE",
        help=f"last day, included, or an instant, excluded (at most {MAX_DAYS} days)",
    )
    p.add_argument("--format", choices=FORMATS, default="html", help="default: html")
    p.add_argument(
        "-o", "--output", type=Path, default=None, help="write here, mode 0600 (PDF: required)"
    )


def _run(args: argparse.Namespace, ctx: CommandContext) -> int:
    path: Path = args.config
    if not path.is_file():
        ctx.err.write(f"ecrin report coverage: {path}: no such file\n")
        return 2
    config = ctx.load_config(path)
    if config is None:
        return 1
    return report_coverage_main(
        ReportSource.of(config), args.start, args.end, args.format, args.output, ctx.out, ctx.err
    )


def report_command() -> Command:
    """``ecrin report``, for the ``register_commands`` hook."""
    return Command(
        name="report",
        help="reports for the shop's files (coverage)",
        description="Reports made from what the hub recorded.",
        add_arguments=_add_arguments,
        run=_run,
    )
