"""Where a report's coverage log is, how it is opened, and the one call that turns a
period and a format into a report, for ``ecrin report coverage`` and the installer API.

The coverage log is ``coverage.sqlite`` in the journal's directory. A report only reads
it: ``open_reader`` gives a ``CoverageReader`` over it (``reading_log`` closes it again
when the reader has a ``close``). A missing log is a ``CoverageLogUnavailable`` naming
the file, never an empty report that would pass for a shop without coverage.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub.config import Config
from hub.coverage.formats import MEDIA_TYPES, Format, render
from hub.coverage.model import CoverageReader, Interval, Kind
from hub.coverage.period import parse_period
from hub.coverage.report import assemble_report
from hub.coverage.store import COVERAGE_FILE, CoverageError, CoverageLog
from hub.coverage.store import coverage_path as _beside_journal
from hub.events import utcnow

__all__ = [
    "COVERAGE_FILE",
    "CoverageLogUnavailable",
    "ReportSource",
    "coverage_path",
    "open_reader",
    "reading_log",
]


class CoverageLogUnavailable(RuntimeError):
    """The coverage log cannot be read; the message names the file and why."""


def coverage_path(config: Config) -> Path:
    """The shop's coverage log: ``coverage.sqlite`` beside its journal."""
    return _beside_journal(config.journal.path)


class _Log:
    """The hub's coverage log (``hub.coverage.store.CoverageLog``), read-only, whose
    failures are ``CoverageLogUnavailable``: the one error a report's callers handle."""

    def __init__(self, path: Path) -> None:
        self._log = CoverageLog(path)

    def span(self) -> tuple[datetime, datetime] | None:
        try:
            return self._log.span()
        except CoverageError as exc:
            raise CoverageLogUnavailable(str(exc)) from exc

    def intervals(
        self,
        start: datetime,
        end: datetime,
        *,
        kind: Kind | None = None,
        subject: str | None = None,
    ) -> list[Interval]:
        try:
            return self._log.intervals(start, end, kind=kind, subject=subject)
        except CoverageError as exc:
            raise CoverageLogUnavailable(str(exc)) from exc


def _open_log(path: Path) -> CoverageReader:
    """The log at ``path``, opened read-only."""
    return _Log(path)


def open_reader(path: Path) -> CoverageReader:
    """A reader over the coverage log at ``path``.

    Raises:
        CoverageLogUnavailable: there is no log there (the hub makes it while it runs),
            or it cannot be read.
    """
    if not path.exists():
        raise CoverageLogUnavailable(
            f"{path}: no coverage log (the hub keeps it while it runs: has it run with"
            " this configuration?)"
        )
    if not path.is_file():
        raise CoverageLogUnavailable(f"{path}: is not a file")
    return _open_log(path)


@contextlib.contextmanager
def reading_log(opener: Callable[[], CoverageReader]) -> Iterator[CoverageReader]:
    """The reader ``opener`` gives, closed on leaving when it has a ``close``."""
    reader = opener()
    try:
        yield reader
    finally:
        close = getattr(reader, "close", None)
        if callable(close):
            close()


@dataclass(frozen=True, slots=True)
class ReportSource:
    """What a report is made from: the shop, its log and its journal.

    Attributes:
        config: the shop's configuration.
        opener: opens the coverage log (``lambda: open_reader(coverage_path(config))``
            for the hub; an ``IntervalList`` for tests and benchmarks).
        journal: the journal the signals are read from (None: the configuration's).
        clock: the time the report says it was made (the machine's, unless a test
            pins it).
    """

    config: Config
    opener: Callable[[], CoverageReader]
    journal: Path | None = None
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def of(cls, config: Config) -> ReportSource:
        """The shop's own: its coverage log and its journal."""
        path = coverage_path(config)
        return cls(config, lambda: open_reader(path))

    def make(
        self,
        start: str,
        end: str,
        fmt: Format,
        *,
        names: tuple[str, str] = ("--from", "--to"),
    ) -> tuple[bytes, str]:
        """The report of the period typed, in ``fmt``, and its media type.

        Raises:
            PeriodError: the period is not one (``names`` say which bound is wrong).
            CoverageLogUnavailable: the coverage log cannot be read.
            JournalError: the journal cannot be read.
            PdfUnavailable: PDF asked for, and WeasyPrint cannot run here.
        """
        period = parse_period(start, end, self.config.site.tzinfo, names=names)
        with reading_log(self.opener) as reader:
            report = assemble_report(
                self.config, reader, period, self.clock(), journal=self.journal
            )
        return render(report, fmt), MEDIA_TYPES[fmt]
