"""Coverage reports made in a child process, for the running hub's installer API.

A month's report can take tens of seconds and, for a busy month in PDF, over a gigabyte
(docs/benchmarks.md, "Coverage report"). Made in a thread of the hub, it would hold the
interpreter lock the hold-up path needs, and an out-of-memory kill would take the hub,
and hold-up delivery with it. So each report is made by a process of its own
(``python -m hub.report_child``), which first makes itself the loser of every
competition with the hub: a lower priority (``nice`` 10) and the highest
out-of-memory score (``oom_score_adj`` 1000), so that under memory pressure the kernel
kills the report, not the hub.

The exchange, all of it in this module so that both ends read the same text:

* the request is one JSON object on the child's standard input (``ReportRequest``):
  the shop file, the bounds as typed, the format, the bounds' names, the parent's pid;
* the report's bytes are the child's standard output, exit status 0;
* a failure is one JSON line on its standard error, ``{"kind": ..., "message": ...}``
  (the message for a bad period only: the others would name the hub's files), exit
  status ``FAILED_EXIT``.

Anything else (a crash, a signal, output that is none of these) is a ``failed``
``ReportFailed`` and one warning in the hub's log, which never holds the report, nor
what the child wrote. ``ChildReports`` kills the child past its deadline and when the
task awaiting it is cancelled (the client went away, the hub is stopping), and reaps
it: no report outlives its request. The child also dies with the hub (Linux's parent
death signal), should the hub be killed outright.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.coverage.formats import FORMATS, MEDIA_TYPES, Format
from hub.coverage.report_runs import FAILURE_KINDS, ReportFailed

__all__ = [
    "DEADLINE",
    "ENTRY",
    "FAILED_EXIT",
    "MAX_REPORT",
    "ChildReports",
    "ReportRequest",
    "failure_line",
    "read_failure_line",
]

log = logging.getLogger(__name__)

#: The module the child runs (``python -m``): a composition root, as it loads plugins.
ENTRY: Final = "hub.report_child"
#: Seconds a report may take before its process is killed: a busy month in PDF takes
#: about a minute and a half on a small machine (docs/benchmarks.md).
DEADLINE: Final = 300.0
#: The child's exit status when it wrote a failure line.
FAILED_EXIT: Final = 3
#: Bytes of report the hub takes from a child at most: far above a month's largest
#: (CSV of a very busy month, 65 MB in docs/benchmarks.md), a bound on what a report
#: can make the hub hold.
MAX_REPORT: Final = 256 * 1024 * 1024
#: Bytes of the child's standard error the hub keeps: the end, where the failure line is.
ERROR_TAIL: Final = 64 * 1024
#: Bytes read from a pipe at a time.
_READ: Final = 65536


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """One report, as the child is asked for it.

    Attributes:
        config: the shop file.
        start: the first bound, as typed.
        end: the second bound, as typed.
        fmt: the format.
        names: what the bounds are called in an error.
        parent: the pid of the process that asked (the child stops if it is gone).
    """

    config: Path
    start: str
    end: str
    fmt: Format
    names: tuple[str, str]
    parent: int

    def encode(self) -> bytes:
        """The request as the child reads it: one JSON object."""
        return json.dumps(
            {
                "config": str(self.config),
                "from": self.start,
                "to": self.end,
                "format": self.fmt,
                "names": list(self.names),
                "parent": self.parent,
            }
        ).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> ReportRequest:
        """The request ``encode`` wrote.

        Raises:
            ValueError: it is not one.
        """
        document = json.loads(data)
        if not isinstance(document, dict):
            raise ValueError("not an object")
        config, start, end = document.get("config"), document.get("from"), document.get("to")
        fmt, names, parent = document.get("format"), document.get("names"), document.get("parent")
        if not (isinstance(config, str) and isinstance(start, str) and isinstance(end, str)):
            raise ValueError("config, from and to are strings")
        chosen = next((f for f in FORMATS if f == fmt), None)
        if chosen is None:
            raise ValueError("unknown format")
        if not (
            isinstance(names, list) and len(names) == 2 and all(isinstance(n, str) for n in names)
        ):
            raise ValueError("names are two strings")
        if not isinstance(parent, int):
            raise ValueError("parent is a pid")
        return cls(Path(config), start, end, chosen, (names[0], names[1]), parent)


def failure_line(failure: ReportFailed) -> bytes:
    """The line the child writes last on its standard error: the kind, and the message
    of a bad period (the only one that names no file and says what to change)."""
    message = failure.reason if failure.kind == "period" else ""
    return json.dumps({"kind": failure.kind, "message": message}).encode("utf-8") + b"\n"


def read_failure_line(stderr: bytes) -> ReportFailed | None:
    """The failure the child's last line of standard error tells; None if it tells none."""
    lines = stderr.rstrip(b"\n").rsplit(b"\n", 1)
    try:
        document = json.loads(lines[-1])
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    kind = next((k for k in FAILURE_KINDS if k == document.get("kind")), None)
    message = document.get("message")
    if kind is None or not isinstance(message, str):
        return None
    if kind == "period":
        return ReportFailed(kind, message) if message else None
    return ReportFailed(kind)


def _ended(returncode: int) -> str:
    """How a child ended, for the log."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return f"exit status {returncode}"


class ChildReports:
    """Reports of one shop file, each made by a child process.

    Args:
        config: the shop file the hub runs (``Config.path``); the child loads it as
            ``ecrin run`` does.
        deadline: seconds a report may take before its process is killed.
        entry: the module the child runs. Tests give one of theirs that runs this one's
            ``main`` with a hook; the API cannot choose it.
        max_report: bytes of report taken at most; a larger one is not made.
    """

    def __init__(
        self,
        config: Path,
        *,
        deadline: float = DEADLINE,
        entry: str = ENTRY,
        max_report: int = MAX_REPORT,
    ) -> None:
        self._config = config.absolute()
        self._deadline = deadline
        self._entry = entry
        self._max_report = max_report

    async def make(
        self, start: str, end: str, fmt: Format, names: tuple[str, str]
    ) -> tuple[bytes, str]:
        """The report, made by a child; its media type.

        Raises:
            ReportFailed: the child said why it made none, or it crashed, was killed,
                took longer than the deadline or made a report over ``max_report``.
        """
        request = ReportRequest(self._config, start, end, fmt, names, os.getpid())
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self._entry,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(self._deadline):
                out, err = await _exchange(process, request.encode(), self._max_report)
        except _TooLarge:
            log.warning("coverage report over %d bytes: its process was stopped", self._max_report)
            raise ReportFailed(
                "failed", "the report is too large to be sent; ask for a shorter period"
            ) from None
        except TimeoutError:
            log.warning(
                "coverage report not made within %g s: its process was stopped", self._deadline
            )
            raise ReportFailed(
                "failed",
                f"the report took longer than {self._deadline:g} s; ask for a shorter period",
            ) from None
        finally:
            await _stop(process)
        returncode = process.returncode
        assert returncode is not None
        if returncode == 0:
            return out, MEDIA_TYPES[fmt]
        failure = read_failure_line(err) if returncode == FAILED_EXIT else None
        if failure is None:
            log.warning("coverage report not made: its process ended (%s)", _ended(returncode))
            raise ReportFailed("failed")
        if failure.kind == "failed":
            log.warning("coverage report not made: an unexpected error in its process")
        raise failure


class _TooLarge(Exception):
    """The child's report went past its bound."""


async def _exchange(
    process: asyncio.subprocess.Process, request: bytes, max_report: int
) -> tuple[bytes, bytes]:
    """Hand ``request`` to the child, then read its report (at most ``max_report``
    bytes, else ``_TooLarge``) and the end of its standard error (``ERROR_TAIL``) until
    it exits: whatever the child writes, the hub holds a bounded amount of it.
    """
    stdin, stdout, stderr = process.stdin, process.stdout, process.stderr
    if stdin is None or stdout is None or stderr is None:
        raise RuntimeError("the report's process has no pipes")
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it died at once
        stdin.write(request)
        await stdin.drain()
    stdin.close()

    async def report() -> bytes:
        out = bytearray()
        while chunk := await stdout.read(_READ):
            out += chunk
            if len(out) > max_report:
                raise _TooLarge
        return bytes(out)

    async def error_tail() -> bytes:
        tail = b""
        while chunk := await stderr.read(_READ):
            tail = (tail + chunk)[-ERROR_TAIL:]
        return tail

    out, err = await asyncio.gather(report(), error_tail())
    await process.wait()
    return out, err


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Kill the child if it still runs, and reap it.

    Shielded: when the task is cancelled, the wait is not, and a second cancellation
    leaves the reaping to asyncio's child watcher; the child is killed either way.
    """
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await asyncio.shield(process.wait())
