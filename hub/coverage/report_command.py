"""``ecrin report coverage``: the report of a period, to a file or to the terminal.

The coverage plugin adds the command (``plugins.coverage``); this function is what it
runs, given the loaded configuration, so that it is tested without a process. Exit
codes are the command line's: 0 done, 1 invalid input (a damaged journal), 2 the
report could not be made (a bad period, no coverage log, PDF to a terminal, no PDF
library).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from hub.coverage.formats import Format
from hub.coverage.period import PeriodError
from hub.coverage.render_pdf import PdfUnavailable
from hub.coverage.report_source import CoverageLogUnavailable, ReportSource
from hub.journal import JournalError
from hub.private_files import write_private

__all__ = ["report_coverage_main"]

_NAME = "ecrin report coverage"


def report_coverage_main(
    source: ReportSource,
    start: str,
    end: str,
    fmt: Format,
    output: Path | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Make the report and write it to ``output`` (0600) or to ``out``.

    Args:
        source: the shop's configuration, coverage log and journal.
        start: ``--from`` as typed.
        end: ``--to`` as typed.
        fmt: ``html``, ``pdf``, ``csv`` or ``json``.
        output: the file to write (None: ``out``, for every format but PDF).
        out: standard output.
        err: where errors go, one line each.
    """
    if fmt == "pdf" and output is None:
        err.write(f"{_NAME}: a PDF is not written to a terminal: give -o FILE.pdf\n")
        return 2
    if output is not None and output.is_dir():
        err.write(f"{_NAME}: {output} is a directory: give a file name\n")
        return 2
    try:
        data, _media_type = source.make(start, end, fmt)
    except (PeriodError, CoverageLogUnavailable, PdfUnavailable) as exc:
        err.write(f"{_NAME}: {exc}\n")
        return 2
    except JournalError as exc:
        err.write(f"{_NAME}: {exc}\n")
        return 1 if exc.corrupt else 2
    if output is None:
        out.write(data.decode("utf-8"))
        out.flush()
        return 0
    try:
        write_private(output, data)
    except OSError as exc:
        err.write(f"{_NAME}: cannot write {output}: {exc.strerror or exc}\n")
        return 2
    return 0
