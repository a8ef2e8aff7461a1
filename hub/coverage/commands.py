"""``ecrin coverage``: the coverage log's command group (``rebuild`` today).

The ``coverage`` plugin adds it through ``register_commands``; each sub-command is a
function of the parsed arguments and the ``CommandContext``, so another sub-command is
one more entry in ``SUBCOMMANDS``. Exit codes are the CLI's: 0 done, 1 the
configuration is invalid, 2 the command could not run (no such file, the journal
unreadable, the hub running).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.commands import Command, CommandContext
from hub.config import Config
from hub.coverage.config import CoverageLayout
from hub.coverage.store import CoverageError, CoverageLog, rebuild

__all__ = ["SUBCOMMANDS", "Subcommand", "coverage_command"]

EXIT_OK: Final = 0
EXIT_INVALID: Final = 1
EXIT_CANNOT_RUN: Final = 2


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One ``ecrin coverage NAME``.

    Attributes:
        name: the sub-command.
        help: one line for ``ecrin coverage --help``.
        add_arguments: adds its arguments to its parser.
        run: runs it; returns the exit code.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, CommandContext], int]


def load(path: Path, ctx: CommandContext) -> Config | int:
    """The shop file, or the exit code after its problems were printed."""
    if not path.is_file():
        ctx.err.write(f"{path}: no such file\n")
        return EXIT_CANNOT_RUN
    config = ctx.load_config(path)  # its problems are printed already
    return EXIT_INVALID if config is None else config


def _rebuild_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, required=True, help="the shop file")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="write the rebuilt log there instead of replacing the hub's own"
        " (allowed while the hub runs)",
    )


def _rebuild(args: argparse.Namespace, ctx: CommandContext) -> int:
    config = load(args.config, ctx)
    if isinstance(config, int):
        return config
    layout = CoverageLayout.of(config)
    target: Path = args.output or layout.path
    if not layout.journal.is_file():
        ctx.err.write(f"{layout.journal}: no such journal: nothing to rebuild from\n")
        return EXIT_CANNOT_RUN
    if target.is_dir():
        ctx.err.write(f"{target}: is a directory\n")
        return EXIT_CANNOT_RUN
    try:
        result = rebuild(layout.journal, target, layout.cameras, layout.zones)
        span = CoverageLog(target).span()
    except CoverageError as exc:
        ctx.err.write(f"ecrin coverage rebuild: {exc}\n")
        return EXIT_CANNOT_RUN
    where = "nothing recorded yet"
    if span is not None:
        where = f"from {span[0].isoformat()} to {span[1].isoformat()}"
    ctx.out.write(
        f"{target}: rebuilt from {result.rows} journal rows ({result.events} camera and"
        f" hub events): {result.intervals} closed intervals, {where}\n"
    )
    return EXIT_OK


SUBCOMMANDS: Final = (
    Subcommand(
        "rebuild",
        "make the coverage log afresh from the journal (the hub stopped, or with -o)",
        _rebuild_arguments,
        _rebuild,
    ),
)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="coverage_command", required=True)
    for command in SUBCOMMANDS:
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(p)


def _run(args: argparse.Namespace, ctx: CommandContext) -> int:
    for command in SUBCOMMANDS:
        if command.name == args.coverage_command:
            return command.run(args, ctx)
    ctx.err.write(f"ecrin coverage: unknown sub-command {args.coverage_command!r}\n")
    return EXIT_CANNOT_RUN


def coverage_command() -> Command:
    """``ecrin coverage ...``, for the ``register_commands`` hook."""
    return Command(
        name="coverage",
        help="the video-surveillance coverage log (rebuild)",
        description="The coverage log: per camera and per shop zone, when it was"
        " filmed, from the journal (docs/coverage.md).",
        add_arguments=_add_arguments,
        run=_run,
    )
