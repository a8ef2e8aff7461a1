"""``ecrin register``: show, export and add to the register of recordings.

* ``ecrin register show -c FILE [--from WHEN] [--to WHEN]``: the register as a table.
* ``ecrin register export -c FILE --format csv|pdf -o PATH [--from] [--to]``: the
  register as a CSV or a PDF, written ``0600``.
* ``ecrin register handover -c FILE --camera ID --from WHEN --to WHEN --to-whom TEXT
  --reference TEXT [--hub URL --token-file FILE]``: record a hand-over of recordings
  to the prosecutor.

``WHEN`` is a date (``2026-03-10``: the whole day in the shop's time zone; ``--to``
includes its day) or a date and time (``2026-03-10T14:30``: the shop's time unless an
offset is given). ``show`` and ``export`` default to the whole coverage log; they say
"to be destroyed on DATE" until a destruction date has passed, "destroyed on DATE"
after (the command's clock, ``now``).

A hand-over is checked, then written to the register's file and to the journal (a
``RecordingsHandedOver`` event), both or neither, then the camera plugins are asked to
keep the window (``keep_recordings``): ``hub.coverage.handover``. The journal has one
writer. With the hub stopped, the command is that writer. While the hub runs, it holds
the journal: ``--hub`` and ``--token-file`` send the hand-over to it
(``POST /api/v1/register/handovers``), and it does the same with its own journal and
camera devices; without them the command refuses, writes nothing, and says how.

Exit codes as everywhere: 0 done, 1 the configuration is invalid, 2 the command could
not run (a missing file, a bad argument, an unknown camera, a window in the future,
the journal held by the running hub, the hub refusing or not answering).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Final, TextIO

from hub.commands import Command, CommandContext
from hub.config import Config
from hub.coverage.handover import (
    FieldNames,
    HandoverRefused,
    HandoverUnavailable,
    RecordedHandover,
    check_handover,
    record_handover,
)
from hub.coverage.handover_client import HubRefused, HubUnreachable, post_handover, read_token
from hub.coverage.model import CoverageReader
from hub.coverage.register import Register, build_register
from hub.coverage.register_export import (
    PdfUnavailable,
    register_csv,
    register_html,
    register_pdf,
    register_text,
)
from hub.coverage.register_source import (
    SourceError,
    coverage_path,
    open_reader,
    register_path,
    sealed_scenes,
)
from hub.coverage.register_store import RegisterError, RegisterStore, read_handovers
from hub.coverage.report_source import CoverageLogUnavailable
from hub.events import RecordingsHandedOver, utcnow
from hub.journal import Journal, JournalError, JournalLocked
from hub.private_files import write_private

__all__ = ["REGISTER_COMMAND", "UsageError", "parse_when", "register_main"]

EXIT_OK: Final = 0
EXIT_INVALID: Final = 1
EXIT_CANNOT_RUN: Final = 2
ReaderFactory = Callable[[Path], CoverageReader]


class UsageError(Exception):
    """A bad argument: one line for the user (exit 2)."""


def parse_when(text: str, tz: tzinfo, *, end: bool) -> datetime:
    """A ``--from`` or ``--to`` value as an aware UTC moment.

    Args:
        text: ``YYYY-MM-DD`` (a whole day in ``tz``) or an ISO date and time (in
            ``tz`` unless it has an offset).
        tz: the shop's time zone.
        end: the value is a ``--to``: a date then means the end of that day.

    Raises:
        UsageError: the text is neither.
    """
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        if end:
            day += timedelta(days=1)
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{text!r} is not a date (2026-03-10) nor a date and time (2026-03-10T14:30)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _period(
    args: argparse.Namespace, config: Config, reader: CoverageReader | None
) -> tuple[datetime, datetime]:
    tz = config.site.tzinfo
    span = reader.span() if reader is not None else None
    if args.since is not None:
        start = parse_when(args.since, tz, end=False)
    elif span is not None:
        start = span[0]
    else:
        raise UsageError("the coverage log holds nothing yet: give --from and --to")
    if args.until is not None:
        end = parse_when(args.until, tz, end=True)
    elif span is not None:
        end = span[1]
    else:
        raise UsageError("the coverage log holds nothing yet: give --from and --to")
    if end <= start:
        raise UsageError(
            f"--from ({args.since or start}) must be before --to ({args.until or end})"
        )
    return start, end


def _register(args: argparse.Namespace, config: Config, reader_factory: ReaderFactory) -> Register:
    reader = reader_factory(coverage_path(config))
    start, end = _period(args, config, reader)
    return build_register(
        reader,
        config.cameras,
        config.site.tzinfo,
        config.site.timezone,
        start,
        end,
        scenes=sealed_scenes(config),
        handovers=read_handovers(register_path(config)),
    )


def _show(
    args: argparse.Namespace,
    config: Config,
    out: TextIO,
    factory: ReaderFactory,
    now: Callable[[], datetime],
) -> int:
    out.write(register_text(_register(args, config, factory), config.site, now()))
    return EXIT_OK


def _export(
    args: argparse.Namespace,
    config: Config,
    out: TextIO,
    factory: ReaderFactory,
    now: Callable[[], datetime],
) -> int:
    register = _register(args, config, factory)
    if args.format == "csv":
        data = register_csv(register, now()).encode()
    else:
        data = register_pdf(register_html(register, config.site, now()))
    try:
        write_private(args.output, data)
    except OSError as exc:
        raise UsageError(f"{args.output}: cannot write: {exc.strerror or exc}") from exc
    out.write(f"{args.output}: the register, {len(register.lines)} recordings ({args.format})\n")
    return EXIT_OK


#: The command's names of the values, for its errors.
CLI_NAMES: Final = FieldNames(
    start="--from", end="--to", to_whom="--to-whom", reference="--reference"
)


async def _journal_handover(
    journal_path: Path, store: RegisterStore, event: RecordingsHandedOver, to_whom: str
) -> RecordedHandover:
    """Record the hand-over in the register and the journal, both or neither."""
    async with Journal(journal_path, verify_on_open=False) as journal:

        async def append(handed: RecordingsHandedOver) -> int:
            (seq,) = await journal.append([handed])
            return seq

        return await record_handover(store, event, to_whom, append)


def _handover(
    args: argparse.Namespace,
    config: Config,
    ctx: CommandContext,
    now: Callable[[], datetime],
) -> int:
    tz = config.site.tzinfo
    start = parse_when(args.since, tz, end=False)
    end = parse_when(args.until, tz, end=True)
    try:
        event, to_whom = check_handover(
            args.camera,
            start,
            end,
            args.to_whom,
            args.reference,
            cameras=[c.id for c in config.cameras],
            now=now(),
            tz=tz,
            names=CLI_NAMES,
        )
    except HandoverRefused as exc:
        raise UsageError(str(exc)) from None
    shown = f"{start.astimezone(tz):%Y-%m-%d %H:%M} to {end.astimezone(tz):%Y-%m-%d %H:%M}"
    if args.hub is not None:
        return _handover_at_hub(args, event, to_whom, ctx, shown)
    journal_path = config.journal.path
    if not journal_path.is_file():
        raise UsageError(f"{journal_path}: no journal: the hub has not run with this file")
    store = RegisterStore(register_path(config))
    recorded = asyncio.run(_journal_handover(journal_path, store, event, to_whom))
    if ctx.keep_recordings is not None:
        ctx.keep_recordings(event.camera, event.start, event.end, f"hand-over {event.reference}")
    ctx.out.write(
        f"hand-over #{recorded.handover.id} recorded: {event.camera} {shown},"
        f" {event.reference}, to {to_whom}; journaled (row {recorded.journal_row});"
        " the camera plugins were asked to keep these recordings\n"
    )
    return EXIT_OK


def _handover_at_hub(
    args: argparse.Namespace,
    event: RecordingsHandedOver,
    to_whom: str,
    ctx: CommandContext,
    shown: str,
) -> int:
    """Send the hand-over to the running hub, which records and keeps it."""
    if args.token_file is None:
        raise UsageError("--hub needs --token-file FILE: an installer's token, in a file")
    try:
        answer = post_handover(args.hub, read_token(args.token_file), event, to_whom)
    except (HubUnreachable, HubRefused) as exc:
        raise UsageError(f"{exc}; nothing was recorded") from None
    ctx.out.write(
        f"hand-over #{answer.get('number')} recorded by the hub at {args.hub}: {event.camera}"
        f" {shown}, {event.reference}, to {to_whom}; journaled (row {answer.get('journal_row')});"
        " the hub asked its camera plugins to keep these recordings\n"
    )
    return EXIT_OK


def register_main(
    args: argparse.Namespace,
    ctx: CommandContext,
    *,
    reader_factory: ReaderFactory = open_reader,
    now: Callable[[], datetime] = utcnow,
) -> int:
    """Run ``ecrin register SUBCOMMAND`` with parsed arguments.

    Args:
        args: the parsed arguments (``build_arguments``).
        ctx: the command's streams and the hub's services.
        reader_factory: opens the coverage log (tests pass an in-memory one).
        now: the wall clock (a hand-over's time, and a window in the future is
            refused; whether a destruction date shown or exported has passed).
    """
    err = ctx.err
    config_path: Path = args.config
    if not config_path.is_file():
        err.write(f"{config_path}: no such file\n")
        return EXIT_CANNOT_RUN
    config = ctx.load_config(config_path)  # its problems are printed already
    if config is None:
        return EXIT_INVALID
    try:
        if args.register_command == "show":
            return _show(args, config, ctx.out, reader_factory, now)
        if args.register_command == "export":
            return _export(args, config, ctx.out, reader_factory, now)
        return _handover(args, config, ctx, now)
    except JournalLocked as exc:
        http = config.http
        err.write(
            f"ecrin register handover: {exc}; nothing was recorded. Send it to the"
            f" running hub instead: add --hub http://{_host(http.host)}:{http.port}"
            " --token-file FILE (a file holding an installer's token)\n"
        )
    except HandoverUnavailable as exc:
        err.write(f"ecrin register handover: {exc}\n")
    except (
        UsageError,
        SourceError,
        CoverageLogUnavailable,
        RegisterError,
        JournalError,
        PdfUnavailable,
    ) as exc:
        err.write(f"ecrin register {args.register_command}: {exc}\n")
    return EXIT_CANNOT_RUN


def _host(host: str) -> str:
    """Where this machine reaches the hub's listener on ``host``."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}.get(host, host)


def _period_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--from",
        dest="since",
        required=required,
        metavar="WHEN",
        help="a date (the whole day, shop's time) or a date and time",
    )
    parser.add_argument(
        "--to",
        dest="until",
        required=required,
        metavar="WHEN",
        help="a date (its day included) or a date and time",
    )


def build_arguments(parser: argparse.ArgumentParser) -> None:
    """The sub-commands ``show``, ``export`` and ``handover`` and their arguments."""
    sub = parser.add_subparsers(dest="register_command", required=True)
    show = sub.add_parser("show", help="the register of recordings, as a table")
    show.add_argument("-c", "--config", type=Path, required=True)
    _period_arguments(show, required=False)
    export = sub.add_parser("export", help="the register as CSV or PDF (written 0600)")
    export.add_argument("-c", "--config", type=Path, required=True)
    export.add_argument("--format", choices=("csv", "pdf"), required=True)
    export.add_argument("-o", "--output", type=Path, required=True)
    _period_arguments(export, required=False)
    handover = sub.add_parser(
        "handover",
        help="record a hand-over of recordings to the prosecutor",
        description=(
            "Record a hand-over: with the hub stopped, written here; while it runs,"
            " sent to it with --hub and --token-file."
        ),
    )
    handover.add_argument("-c", "--config", type=Path, required=True)
    handover.add_argument("--camera", required=True, help="the configured camera id")
    _period_arguments(handover, required=True)
    handover.add_argument("--to-whom", required=True, help="whom they were handed to")
    handover.add_argument("--reference", required=True, help="the requisition's reference")
    handover.add_argument(
        "--hub",
        metavar="URL",
        help="the running hub's address (http://127.0.0.1:8765): it records the hand-over",
    )
    handover.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="a file holding an installer's API token (with --hub; never on the command line)",
    )


#: ``ecrin register``, contributed by the coverage plugin (``register_commands``).
REGISTER_COMMAND: Final = Command(
    name="register",
    help="the register of recordings (CSI): show, export, record a hand-over",
    run=register_main,
    add_arguments=build_arguments,
    description=(
        "The register of recordings the law asks for: the recordings made, their"
        " destruction dates and the hand-overs to the prosecutor (docs/coverage.md)."
    ),
)
