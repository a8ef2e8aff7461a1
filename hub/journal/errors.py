"""What the journal reports when its file cannot be used.

A file that is not a journal (random bytes, a damaged SQLite file, another program's
database) raises ``JournalError`` with one line naming the file and the cause, and so
does every failure to read or write one: the SQLite and OS errors are mapped here.
``JournalError.corrupt`` tells that the file itself is unusable, which is what
``open_or_quarantine`` sets aside; ``JournalQuarantined`` is the event that then
opens the fresh journal. Every other module of the journal raises or names these, so
they depend on nothing else in it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from hub.events import Event

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_CAUSES = {
    5: "locked by another connection",
    6: "locked by another connection",
    8: "read-only",
    10: "I/O error",
    _SQLITE_CORRUPT: "damaged SQLite file",
    13: "disk full",
    14: "cannot open",
    19: "constraint failed (another process appends to this journal?)",
    _SQLITE_NOTADB: "not an SQLite database",
}


class JournalError(Exception):
    """The journal cannot be opened, read or written.

    ``str()`` is one line naming the file and the cause.

    Attributes:
        path: the journal file.
        cause: the cause alone, without the file name.
        corrupt: True when the file itself is unusable as a journal (not SQLite, damaged,
            another program's database): ``open_or_quarantine`` sets such a file aside.
    """

    def __init__(self, path: Path, cause: str, *, corrupt: bool = False) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause
        self.corrupt = corrupt


def _sqlite_error(path: Path, action: str, exc: sqlite3.Error) -> JournalError:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    label = _CAUSES.get(code)
    detail = str(exc) or type(exc).__name__
    cause = f"{action}: {label} ({detail})" if label else f"{action}: {detail}"
    return JournalError(path, cause, corrupt=code in (_SQLITE_CORRUPT, _SQLITE_NOTADB))


def _oserror(path: Path, action: str, exc: OSError) -> JournalError:
    return JournalError(path, f"{action}: {exc.strerror or exc}")


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalQuarantined(Event):
    """The journal file was unusable, or failed its anchor, and was set aside; a fresh
    journal started.

    It is the first entry of the fresh journal, so the evidence trail says where the
    earlier rows went, and what the hub expected to find.

    Attributes:
        path: where the file set aside now is ("" when there was no file to set aside:
            the journal was deleted).
        reason: one line naming the cause.
        expected_rows: the rows the anchor recorded (0: no anchor, or none recorded).
        expected_hash: the chain hash the anchor recorded at that row ("" when none).
        replaced: the identity (``meta.created``) of the journal the anchor named, which
            this fresh journal replaces ("" when unknown).
    """

    path: str
    reason: str
    expected_rows: int = 0
    expected_hash: str = ""
    replaced: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnverifiedSignalsHeld(Event):
    """Life-safety signals the journal holds but that were not escalated on start,
    because they come after a break in its chain.

    Replay on start escalates the signals the journal holds and the outbox does not
    (the hub was stopped between the two commits); it trusts only rows whose chain
    verifies. A row after a break may have been written or edited outside the hub, so
    it is held here, journaled and reported at error level, and never sent to a
    referent.

    Attributes:
        first_bad_seq: the first row found broken.
        reason: the break, as ``ecrin journal verify`` gives it.
        seqs: the rows of the signals held, comma-separated.
        count: how many signals were held.
    """

    first_bad_seq: int
    reason: str
    seqs: str
    count: int
