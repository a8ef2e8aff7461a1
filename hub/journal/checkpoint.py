"""Copying a WAL file back into its database, off the write path.

The two SQLite files written while a hold-up waits, the journal and the escalation
outbox, both use ``WalCheckpointer``, so that no commit they wait on also pays for a
checkpoint (the class says why that matters).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time as _time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: The journal's logger, whichever of its modules logs: installers grep for it.
log = logging.getLogger("hub.journal")


class WalCheckpointer:
    """Copies a WAL file back into its database, from a thread of its own.

    By default SQLite checkpoints inside the commit that takes the WAL past 1000 pages:
    that commit also writes the pages back and syncs the database file, ten
    milliseconds or more on a loaded disk, and whatever waits for the commit (a
    hold-up being journaled, an escalation before its webhook) waits for that too. A
    writer that uses this checkpointer opens its connection with ``connect``, which
    turns that off, and calls ``committed`` after its commits; at most every
    ``interval`` seconds, a ``PASSIVE`` checkpoint (one that never blocks the writer)
    then runs on a second connection in this checkpointer's thread. It is
    started after an ordinary commit, never right after one a hold-up waits on: its
    writes and ``fsync`` would compete with the hold-up's next one (the outbox).

    Durability is unchanged: a commit is on disk in the WAL (``synchronous=FULL``)
    whether or not it has been copied back yet. If a checkpoint fails, the writer's
    connection gets its automatic checkpoints back, so the WAL never grows unbounded.

    Args:
        path: the database file.
        interval: the least time between two checkpoints, in seconds.
        busy_timeout: seconds a checkpoint waits for a lock (another checkpointer).
    """

    #: SQLite's own default, restored on the writer when checkpoints here fail.
    AUTOCHECKPOINT = 1000

    def __init__(self, path: Path, *, interval: float = 2.0, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.interval = interval
        self.busy_timeout = busy_timeout
        #: Checkpoints run, and failed.
        self.runs = 0
        self.failures = 0
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._busy = False
        self._next = 0.0
        self._failed = False
        self._closed = False

    @staticmethod
    def connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
        """Open the writing connection of a file this checkpointer serves: WAL mode,
        ``synchronous=FULL`` (a commit is on disk when it returns), and SQLite's own
        checkpoints turned off, this class running them instead.

        Raises:
            sqlite3.Error: for the caller to report in its own terms, naming its file.
        """
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        except BaseException:
            conn.close()
            raise
        return conn

    def committed(self, writer: sqlite3.Connection, *, urgent: bool = False) -> None:
        """Called by the writer's thread after a commit: start a checkpoint if one is
        due and the commit was not ``urgent``. Never blocks and never raises."""
        if self._failed:
            self._failed = False
            with contextlib.suppress(sqlite3.Error):
                writer.execute(f"PRAGMA wal_autocheckpoint = {self.AUTOCHECKPOINT}")
            return
        if urgent:
            return
        now = _time.monotonic()
        with self._lock:
            if self._busy or self._closed or now < self._next:
                return
            self._busy = True
            self._next = now + self.interval
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="wal-checkpoint")
            executor = self._executor
        try:
            executor.submit(self._run)
        except RuntimeError:  # shut down meanwhile: the writer is closing anyway
            with self._lock:
                self._busy = False

    def _run(self) -> None:
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(
                    self.path, timeout=self.busy_timeout, isolation_level=None
                )
                self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.runs += 1
        except sqlite3.Error as exc:
            self.failures += 1
            self._failed = True  # the writer checkpoints by itself again
            log.error(
                "%s: background checkpoint failed, the writer checkpoints: %s", self.path, exc
            )
        finally:
            with self._lock:
                self._busy = False

    def close(self) -> None:
        """Wait for a running checkpoint and close the connection (blocking: call it
        from a worker thread, before closing the writer, which then checkpoints the
        rest as SQLite does when its last connection closes)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is None:
            return
        executor.submit(self._close_connection)  # in the thread that made it
        executor.shutdown(wait=True)

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
