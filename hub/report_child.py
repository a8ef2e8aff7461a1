"""``python -m hub.report_child``: one coverage report, made in a process of its own.

The running hub starts it for ``GET /api/v1/reports/coverage``; ``hub.coverage.
report_child`` says why, and holds the exchange (the request on standard input, the
report on standard output, a failure as one JSON line on standard error).

First thing, before it reads anything, it makes itself the loser of every competition
with the hub: ``nice`` 10, ``oom_score_adj`` 1000 (the kernel's out-of-memory killer
takes it before anything else), and the parent death signal, so it never outlives a
hub killed outright. Then it loads the shop file as ``ecrin run`` does (its plugins, a
broken device entry left out), so the report is the running hub's own.

It wires the configuration and its plugins to the coverage feature, as ``hub.cli``
does: it is part of the composition root, and nothing imports it but tests.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

if TYPE_CHECKING:  # imported when used: the process lowers its priority first
    from hub.config import Config
    from hub.coverage.report_child import ReportRequest

__all__ = ["PRIORITY_DROP", "lose_every_competition", "main"]

#: How far the child lowers its own priority.
PRIORITY_DROP: Final = 10
#: The highest out-of-memory score: the first process the kernel kills.
OOM_SCORE_ADJ: Final = "1000"
#: ``prctl(PR_SET_PDEATHSIG, ...)``.
_PR_SET_PDEATHSIG: Final = 1


def lose_every_competition() -> None:
    """Lower this process's priority, offer it first to the out-of-memory killer, and
    have it killed when its parent dies; each where the system allows it."""
    with contextlib.suppress(OSError):
        os.nice(PRIORITY_DROP)
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text(OOM_SCORE_ADJ, encoding="ascii")
    if sys.platform == "linux":
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main(before_report: Callable[[], None] | None = None) -> int:
    """Make the report asked for on standard input; the exit status.

    Args:
        before_report: called once the process is set up and the request read, before
            the shop file is loaded: tests hold the child there. ``python -m`` passes
            none.
    """
    lose_every_competition()
    # The report goes to the standard output the parent reads, and nothing else does:
    # whatever a library prints goes to standard error instead.
    report_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with report_out:
        return _serve(sys.stdin.buffer, report_out, sys.stderr.buffer, before_report)


def _serve(
    requests: BinaryIO,
    out: BinaryIO,
    err: BinaryIO,
    before_report: Callable[[], None] | None,
) -> int:
    from hub.coverage.report_child import FAILED_EXIT, ReportRequest, failure_line
    from hub.coverage.report_runs import ReportFailed

    def fail(failure: ReportFailed) -> int:
        err.write(failure_line(failure))
        err.flush()
        return FAILED_EXIT

    try:
        request = ReportRequest.decode(requests.read())
    except ValueError:
        return fail(ReportFailed("failed"))
    if os.getppid() != request.parent:  # the hub went away before the death signal was set
        return fail(ReportFailed("failed"))
    if before_report is not None:
        before_report()
    try:
        data = _make(request)
    except ReportFailed as failure:
        return fail(failure)
    except Exception:  # anything else: the parent logs that it failed, never how
        return fail(ReportFailed("failed"))
    out.write(data)
    out.flush()
    return 0


def _make(request: ReportRequest) -> bytes:
    """The report's bytes.

    Raises:
        ReportFailed: the shop file cannot be loaded, or ``ReportSource.make`` failed.
    """
    from hub.coverage.report_runs import ReportFailed, make_report
    from hub.coverage.report_source import ReportSource

    config = _load(request.config)
    if config is None:
        raise ReportFailed("config")
    data, _media_type = make_report(
        ReportSource.of(config), request.start, request.end, request.fmt, request.names
    )
    return data


def _load(path: Path) -> Config | None:
    """The shop file as ``ecrin run`` loads it; None when it cannot be."""
    from hub.cli import config_for_run
    from hub.config import disabled_plugins
    from hub.plugins import PluginManager

    try:
        manager = PluginManager.from_environment(disabled=disabled_plugins(path))
        return config_for_run(
            path, manager.device_types(), io.StringIO(), manager.config_sections()
        )
    except Exception:  # an unreadable file, a plugin's mistake: the file cannot be read
        return None


if __name__ == "__main__":
    sys.exit(main())
