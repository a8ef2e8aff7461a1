"""How the installer API has a coverage report made, and how a failure is told to it.

The route (``hub.http.coverage_api``) awaits a ``ReportMaker``. The running hub gives it
``ChildReports`` (``hub.coverage.report_child``): a month's report can take tens of
seconds and, with PDF, over a gigabyte (docs/benchmarks.md, "Coverage report"), which
must not share the hub's interpreter lock and memory with the hold-up path. Tests that
hold the log in memory or pin the clock give ``ThreadReports``, over a ``ReportSource``
that only exists in their process.

Both tell a failure the same way: a ``ReportFailed`` of one kind, whose reason names no
file. The API answers a client, who needs to know what is missing, not where the hub
keeps its files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Final, Literal, Protocol, get_args

from hub.coverage.formats import Format
from hub.coverage.period import PeriodError
from hub.coverage.render_pdf import PdfUnavailable
from hub.coverage.report_source import CoverageLogUnavailable, ReportSource
from hub.journal import JournalError

__all__ = [
    "FAILURE_KINDS",
    "REASONS",
    "FailureKind",
    "ReportFailed",
    "ReportMaker",
    "ThreadReports",
    "make_report",
]

#: What went wrong: the period typed (the client's to fix), the coverage log, the PDF
#: library, the journal, the shop file, or anything else (the hub's log says more).
FailureKind = Literal["period", "log", "pdf", "journal", "config", "failed"]
FAILURE_KINDS: Final[tuple[FailureKind, ...]] = get_args(FailureKind)

#: The reason a client is given for each kind but ``period`` (whose message says which
#: bound is wrong, and holds no path).
REASONS: Final[Mapping[FailureKind, str]] = {
    "log": "the coverage log cannot be read yet: has the hub recorded any?",
    "pdf": "PDF cannot be made on this hub (WeasyPrint or Pango missing); ask for html",
    "journal": "the journal cannot be read",
    "config": "the shop file cannot be read",
    "failed": "the report could not be made; the hub's log says why",
}


class ReportFailed(Exception):
    """A report that was not made, of one kind, with a reason fit for a client.

    Attributes:
        kind: what went wrong.
        reason: one line, naming no file: the period's own message for ``period``, the
            kind's reason (``REASONS``) when none is given.
    """

    def __init__(self, kind: FailureKind, reason: str | None = None) -> None:
        self.kind: FailureKind = kind
        self.reason = reason if reason is not None else REASONS.get(kind, REASONS["failed"])
        super().__init__(self.reason)

    @property
    def invalid(self) -> bool:
        """True when the request is at fault (the period), not the hub."""
        return self.kind == "period"


def make_report(
    source: ReportSource, start: str, end: str, fmt: Format, names: tuple[str, str]
) -> tuple[bytes, str]:
    """``source.make``, its own errors told as ``ReportFailed``: both ways of making a
    report (a thread here, the child process) go through this one.

    ``ReportSource.make`` raises four errors; their messages name the hub's files, so
    only the period's is kept.

    Raises:
        ReportFailed: the report was not made.
    """
    try:
        return source.make(start, end, fmt, names=names)
    except PeriodError as exc:
        raise ReportFailed("period", str(exc)) from None
    except CoverageLogUnavailable:
        raise ReportFailed("log") from None
    except PdfUnavailable:
        raise ReportFailed("pdf") from None
    except JournalError:
        raise ReportFailed("journal") from None


class ReportMaker(Protocol):
    """What the report route awaits."""

    async def make(
        self, start: str, end: str, fmt: Format, names: tuple[str, str]
    ) -> tuple[bytes, str]:
        """The report of the period typed, in ``fmt``, and its media type.

        Args:
            start: the first bound, as typed.
            end: the second bound, as typed.
            fmt: the format asked for.
            names: what the bounds are called in an error (``("from", "to")``).

        Raises:
            ReportFailed: the report was not made.
        """
        ...


class ThreadReports:
    """Reports made in a thread of this process, from ``source``.

    For tests and tools whose source exists only in their process (a log in memory, a
    pinned clock); the running hub uses ``ChildReports``.
    """

    def __init__(self, source: ReportSource) -> None:
        self._source = source

    async def make(
        self, start: str, end: str, fmt: Format, names: tuple[str, str]
    ) -> tuple[bytes, str]:
        """``make_report`` in a thread."""
        return await asyncio.to_thread(make_report, self._source, start, end, fmt, names)
