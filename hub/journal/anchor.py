"""The journal's chain anchored outside its file: what an emptied or older copy fails.

The ``meta`` anchor inside the file catches a deleted tail, but a file emptied,
deleted, or replaced by an older copy of itself takes its ``meta`` along: on its own
it is a shorter journal that verifies. So the hub also keeps the head of the chain
(the journal's identity, its last row's seq and hash) outside the file:

* in a small *anchor file* beside the journal (``journal.db.anchor``, JSON, ``0600``),
  written atomically (a temporary file, ``fsync``, ``rename``) when the journal opens,
  at most every few seconds after ordinary appends (from a thread of its own, never in
  an append a hold-up waits on) and when it closes;
* in the escalation outbox, with every escalation change it commits (the head the
  journal had then), read back by the hub before it opens the journal.

An anchor is a lower bound: the journal may have grown since (the hub was killed
before the next write), but it must hold the anchored row with the anchored hash.
``anchor_problem`` says why a journal fails an anchor; ``open_or_quarantine`` sets such
a journal aside, and ``ecrin journal verify`` reports it.

The identity is the journal's ``meta.created`` value: a different journal (a fresh
one started over an emptied file, another shop's) has another. A journal the hub
itself started after setting one aside names the one it replaced in its first row
(``JournalQuarantined.replaced``), so an anchor the outbox recorded before that, and
not yet updated, does not set the new journal aside too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time as _time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.journal.errors import JournalError
from hub.private_files import PRIVATE_MODE

__all__ = [
    "AnchorKeeper",
    "JournalAnchor",
    "anchor_path",
    "anchor_problem",
    "read_anchor",
    "write_anchor",
]

#: The journal's logger, whichever of its modules logs: installers grep for it.
log = logging.getLogger("hub.journal")


@dataclass(frozen=True, slots=True)
class JournalAnchor:
    """The head of a journal's chain, as recorded outside the journal file.

    Attributes:
        journal: the journal's identity (its ``meta.created`` value).
        seq: the last row the journal held when the anchor was recorded (0: none).
        hash: that row's chain hash (the genesis hash for an empty journal).
    """

    journal: str
    seq: int
    hash: str

    def to_json(self) -> str:
        """The stored form (one JSON object)."""
        return json.dumps(
            {"journal": self.journal, "seq": self.seq, "hash": self.hash}, sort_keys=True
        )

    @classmethod
    def from_json(cls, text: str) -> JournalAnchor:
        """Read the stored form back.

        Raises:
            ValueError: the text is not an anchor.
        """
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        journal, seq, hash_ = data.get("journal"), data.get("seq"), data.get("hash")
        if not isinstance(journal, str) or not isinstance(hash_, str):
            raise ValueError("journal and hash must be strings")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ValueError("seq must be a whole number, 0 or more")
        return cls(journal, seq, hash_)


def anchor_path(db: Path) -> Path:
    """Where the anchor file of the journal ``db`` is: beside it, ``<name>.anchor``."""
    return db.with_name(db.name + ".anchor")


def read_anchor(path: Path) -> JournalAnchor | None:
    """The anchor stored in ``path``, or None when there is no such file.

    Raises:
        JournalError: the file exists but cannot be read or is not an anchor.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise JournalError(path, f"cannot read the anchor: {exc}") from exc
    try:
        return JournalAnchor.from_json(text)
    except ValueError as exc:
        raise JournalError(path, f"not a journal anchor: {exc}") from exc


def write_anchor(path: Path, anchor: JournalAnchor) -> None:
    """Replace the anchor file atomically: a reader sees the old one or the new one.

    The text goes to a temporary file (``0600``) beside it, which is synced and then
    renamed over the old one; the directory is synced so the rename survives a power
    cut.

    Raises:
        OSError: the file could not be written.
    """
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)
        os.write(fd, (anchor.to_json() + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):  # not every file system syncs a directory
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _first_row_replaces(conn: sqlite3.Connection) -> str | None:
    """The identity the journal's first row says it replaced (a ``JournalQuarantined``
    row written by the hub), or None."""
    row = conn.execute("SELECT type, payload FROM events WHERE seq = 1").fetchone()
    if row is None or row[0] != "JournalQuarantined":
        return None
    try:
        data = json.loads(str(row[1]))
    except ValueError:
        return None
    replaced = data.get("replaced") if isinstance(data, dict) else None
    return replaced if isinstance(replaced, str) and replaced else None


def anchor_problem(conn: sqlite3.Connection, anchor: JournalAnchor) -> str | None:
    """Why the journal open on ``conn`` fails ``anchor``, in one line; None if it holds.

    Run inside a read transaction on a file that ``_read_meta`` accepted.

    Raises:
        sqlite3.Error: the journal could not be read.
    """
    created_row = conn.execute("SELECT value FROM meta WHERE key = 'created'").fetchone()
    created = str(created_row[0]) if created_row else ""
    last_row = conn.execute("SELECT max(seq) FROM events").fetchone()
    last = int(last_row[0]) if last_row and last_row[0] is not None else 0
    if created != anchor.journal and _first_row_replaces(conn) == anchor.journal:
        return None  # started by the hub in place of the anchored one, which it set aside
    if last < anchor.seq:
        return (
            f"shorter than its anchor: the anchor records {anchor.seq} rows, the file holds"
            f" {last} (emptied, truncated, or replaced by an older copy)"
        )
    if created != anchor.journal:
        return (
            f"not the journal its anchor names (anchor: journal created {anchor.journal};"
            f" found: journal created {created or 'unknown'}): replaced by another file"
        )
    if anchor.seq == 0:
        return None
    row = conn.execute("SELECT hash FROM events WHERE seq = ?", (anchor.seq,)).fetchone()
    if row is None:
        return f"row {anchor.seq}: missing, and the anchor records it (rows deleted)"
    if str(row[0]) != anchor.hash:
        return (
            f"row {anchor.seq}: diverges from its anchor (its hash is not the anchored one:"
            " rewritten, or replaced by another copy)"
        )
    return None


class AnchorKeeper:
    """Writes a journal's anchor file from a thread of its own, at most every
    ``interval`` seconds.

    The journal's writer thread calls ``note`` after each commit; a write is started
    only after an ordinary commit, never right after one a hold-up waits on (its
    ``fsync`` would compete with the hold-up's next one, the outbox's). The head a
    hold-up left is written by the next ordinary append, or at close.

    Args:
        path: the anchor file.
        interval: the least time between two writes, in seconds.
    """

    def __init__(self, path: Path, *, interval: float = 5.0) -> None:
        self.path = path
        self.interval = interval
        #: Writes made, and failed.
        self.writes = 0
        self.failures = 0
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._busy = False
        self._closed = False
        self._next = 0.0
        self._written: JournalAnchor | None = None

    def note(self, anchor: JournalAnchor) -> None:
        """The journal's head after an ordinary commit (not one a hold-up waits on):
        start a write if one is due. Never blocks and never raises."""
        now = _time.monotonic()
        with self._lock:
            if self._busy or self._closed or now < self._next or anchor == self._written:
                return
            self._busy = True
            self._next = now + self.interval
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="journal-anchor")
            executor = self._executor
        try:
            executor.submit(self._run, anchor)
        except RuntimeError:  # shut down meanwhile: close writes the last head
            with self._lock:
                self._busy = False

    def _run(self, anchor: JournalAnchor) -> None:
        try:
            self.write(anchor)
        finally:
            with self._lock:
                self._busy = False

    def write(self, anchor: JournalAnchor) -> bool:
        """Write ``anchor`` now (blocking); one error line when it fails.

        Returns:
            Whether it was written.
        """
        try:
            write_anchor(self.path, anchor)
        except OSError as exc:
            self.failures += 1
            log.error("journal anchor %s could not be written: %s", self.path, exc)
            return False
        self.writes += 1
        self._written = anchor
        return True

    def close(self) -> None:
        """Wait for a write under way and stop the thread (blocking)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
