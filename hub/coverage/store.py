"""The coverage log's SQLite file: writing it from the journal, and reading it back.

One file, ``coverage.sqlite`` beside the journal, ``0600`` (it tells when the shop was
not filmed). It holds the closed intervals, and in its ``meta`` table the journal
cursor (the last journal row applied) with the tracker's state, both written in the
same transaction as the intervals they produced: after a crash the file is exactly
as it was after some whole batch, and the next catch-up starts from the row after it.

Why follow the journal rather than subscribe to the bus: the bus drops the oldest
ordinary event when a subscriber falls behind, which suits a display and never suits a
record. The journal holds every event the hub recorded, in order; a cursor on its rows
misses none, and ``ecrin coverage rebuild`` is the same catch-up from row 0.

Writing (``CoverageWriter``) is synchronous: the live log runs it in its own thread
(``hub.coverage.live``), the rebuild in the command's. Reading (``CoverageLog``, the
``CoverageReader`` others construct from the path) opens a read-only connection per
call, inside one read transaction: the CLI and the HTTP side read a consistent
snapshot while the hub writes (WAL mode).

A writer holds an exclusive ``flock`` on ``coverage.sqlite.lock`` for as long as it is
open: the rebuild refuses to replace the file while the hub writes it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final
from urllib.parse import quote

from hub.coverage.model import Interval, Kind
from hub.coverage.tracker import (
    EVENT_TYPES,
    CoverageTracker,
    Row,
    from_us,
    row_interval,
    signature,
    to_us,
)
from hub.events import event_from_dict, utcnow
from hub.journal import JournalError
from hub.journal.reading import iter_payloads
from hub.private_files import create_private, lock_private, make_private
from hub.sqlite_writer import create_schema, write_transaction

__all__ = [
    "COVERAGE_FILE",
    "CatchUp",
    "CoverageBusy",
    "CoverageError",
    "CoverageLog",
    "CoverageWriter",
    "coverage_path",
    "rebuild",
]

log = logging.getLogger(__name__)

#: The file's name, in the journal's directory.
COVERAGE_FILE: Final = "coverage.sqlite"
FORMAT_VERSION: Final = 1
#: Journal rows applied per transaction.
BATCH_ROWS: Final = 2000

SCHEMA: Final = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE intervals (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    cause TEXT NOT NULL DEFAULT ''
);
CREATE INDEX intervals_by_subject ON intervals (kind, subject, start);
CREATE INDEX intervals_by_end ON intervals ("end");
INSERT INTO meta (key, value) VALUES ('format', '{FORMAT_VERSION}');
INSERT INTO meta (key, value) VALUES ('cursor', '0');
"""


class CoverageError(Exception):
    """The coverage log cannot be opened, read or written; the message names the file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class CoverageBusy(CoverageError):
    """Another process (the running hub) writes this coverage log."""


def coverage_path(journal_path: Path) -> Path:
    """Where the coverage log of a journal lives: beside it."""
    return journal_path.parent / COVERAGE_FILE


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What one catch-up did.

    Attributes:
        rows: journal rows read (every type).
        events: events the tracker applied (camera and lifecycle ones).
        intervals: closed intervals written.
        cursor: the last journal row applied.
    """

    rows: int
    events: int
    intervals: int
    cursor: int


def _lock(path: Path) -> int:
    """Take the writer's lock of ``path``; returns its descriptor.

    Raises:
        CoverageBusy: another process holds it.
    """
    try:
        fd = lock_private(path.with_name(path.name + ".lock"))
    except OSError as exc:
        raise CoverageError(path, f"cannot take its lock: {exc}") from exc
    if fd is None:
        raise CoverageBusy(path, "the running hub writes it: stop the hub first")
    return fd


class CoverageWriter:
    """The writing side of one coverage file. Not thread-safe: one thread uses it.

    Args:
        path: the coverage file (created ``0600`` when missing).
        cameras: each configured camera and the zones it films.
        zones: the shop's zones.

    A file made under another configuration (``signature``) or that cannot be read
    as a coverage log is started afresh, with one warning: its figures would be those
    of another shop layout. The caller then catches up from journal row 1.

    Raises:
        CoverageBusy: another process writes this file.
        CoverageError: the file cannot be created or opened.
    """

    def __init__(
        self, path: Path, cameras: Mapping[str, Sequence[str]], zones: Sequence[str]
    ) -> None:
        self.path = path
        self._cameras = {c: tuple(z) for c, z in cameras.items()}
        self._zones = tuple(zones)
        self._signature = signature(self._cameras, self._zones)
        self._lock_fd = _lock(path)
        try:
            self._conn = self._open()
        except BaseException:
            os.close(self._lock_fd)
            raise
        self.tracker, self.cursor = self._load()

    def _open(self) -> sqlite3.Connection:
        try:
            create_private(self.path, "coverage log")
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise CoverageError(self.path, f"cannot open: {exc}") from exc
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "meta" not in tables:
                create_schema(conn, SCHEMA, utcnow().isoformat())
            make_private(self.path, "coverage log")
        except (OSError, sqlite3.Error) as exc:
            conn.close()
            raise CoverageError(self.path, f"cannot open: {exc}") from exc
        return conn

    def _load(self) -> tuple[CoverageTracker, int]:
        meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        problem = ""
        if meta.get("format") != str(FORMAT_VERSION):
            problem = f"unknown format {meta.get('format')!r}"
        elif "signature" in meta and meta["signature"] != self._signature:
            problem = "made for other cameras or zones than the configuration's"
        tracker: CoverageTracker | None = None
        if not problem and "state" in meta:
            try:
                tracker = CoverageTracker(self._cameras, self._zones, meta["state"])
            except ValueError as exc:
                problem = str(exc)
        if problem:
            log.warning("coverage log %s %s: started afresh from the journal", self.path, problem)
            self._reset()
            return CoverageTracker(self._cameras, self._zones), 0
        if tracker is None:
            tracker = CoverageTracker(self._cameras, self._zones)
        return tracker, int(meta.get("cursor", "0"))

    def _reset(self) -> None:
        with write_transaction(self._conn):
            self._conn.execute("DELETE FROM intervals")
            self._conn.execute("DELETE FROM meta WHERE key IN ('state', 'signature', 'cursor')")
            self._conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('format', ?)", (str(FORMAT_VERSION),)
            )
            self._conn.execute("INSERT INTO meta VALUES ('cursor', '0')")

    def catch_up(self, journal: Path, batch: int = BATCH_ROWS) -> CatchUp:
        """Apply every journal row after the cursor, a batch per transaction.

        A journal whose last row is before the cursor is not the one the log followed
        (it was set aside and a fresh one begun): the log keeps what it holds and
        follows the new journal from its first row, with one warning.

        Raises:
            CoverageError: the journal cannot be read, or the coverage file written.
        """
        rows = events = written = 0
        pending: list[Row] = []
        seq = self.cursor
        try:
            entries = iter_payloads(journal, self.cursor + 1, types=EVENT_TYPES)
            first = next(entries, None)
            if first is None and self.cursor > 0 and self._journal_behind(journal):
                log.warning(
                    "coverage log %s: journal %s is a new one (its rows end before row %d):"
                    " following it from its first row",
                    self.path,
                    journal,
                    self.cursor,
                )
                entries = iter_payloads(journal, 1, types=EVENT_TYPES)
                first = next(entries, None)
            if first is None:
                return CatchUp(0, 0, 0, self.cursor)
            for seq, type_, payload in _chain(first, entries):
                rows += 1
                if type_ in EVENT_TYPES:
                    try:
                        event = event_from_dict(json.loads(payload))
                    except ValueError as exc:
                        log.warning("coverage log: journal row %d skipped: %s", seq, exc)
                    else:
                        events += 1
                        pending.extend(self.tracker.apply(event))
                if rows % batch == 0:
                    written += self._commit(pending, seq)
                    pending = []
        except JournalError as exc:
            raise CoverageError(self.path, f"cannot follow the journal: {exc}") from exc
        written += self._commit(pending, seq)
        return CatchUp(rows, events, written, self.cursor)

    def _journal_behind(self, journal: Path) -> bool:
        """The journal has no row at the cursor: it is not the one the log followed."""
        return next(iter_payloads(journal, self.cursor, self.cursor), None) is None

    def _commit(self, rows: list[Row], cursor: int) -> int:
        try:
            with write_transaction(self._conn):
                if rows:
                    self._conn.executemany(
                        'INSERT INTO intervals (subject, kind, state, start, "end", cause)'
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                self._conn.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [
                        ("cursor", str(cursor)),
                        ("state", self.tracker.to_json()),
                        ("signature", self._signature),
                    ],
                )
        except sqlite3.Error as exc:
            raise CoverageError(self.path, f"cannot write: {exc}") from exc
        self.cursor = cursor
        return len(rows)

    def close(self) -> None:
        """Close the file and release the lock (safe to call twice)."""
        if self._lock_fd < 0:
            return
        try:
            self._conn.close()
        finally:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _chain(
    first: tuple[int, str, str], rest: Iterator[tuple[int, str, str]]
) -> Iterator[tuple[int, str, str]]:
    yield first
    yield from rest


def rebuild(
    journal: Path,
    path: Path,
    cameras: Mapping[str, Sequence[str]],
    zones: Sequence[str],
) -> CatchUp:
    """Make the coverage log of ``journal`` afresh: the live log's own catch-up, from
    row 1, into a new file that then replaces ``path`` at once (a reader sees the old
    log or the new one, never half of one).

    Raises:
        CoverageBusy: the running hub writes ``path``.
        CoverageError: the journal cannot be read or the file written.
    """
    lock_fd = _lock(path)
    try:
        fresh = path.with_name(path.name + ".rebuild")
        for stale in (fresh, *(fresh.with_name(fresh.name + s) for s in ("-wal", "-shm"))):
            stale.unlink(missing_ok=True)
        writer = CoverageWriter(fresh, cameras, zones)
        try:
            result = writer.catch_up(journal)
        except BaseException:
            writer.close()
            fresh.unlink(missing_ok=True)
            raise
        writer.close()
        # The old file's WAL must not be replayed into the new one.
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        os.replace(fresh, path)
        fresh.with_name(fresh.name + ".lock").unlink(missing_ok=True)
    finally:
        os.close(lock_fd)
    return result


class CoverageLog:
    """A coverage file, read-only: the ``CoverageReader`` of the report, the register
    and the HTTP side. Each call reads one consistent snapshot.

    Args:
        path: the coverage file (``coverage_path(config.journal.path)``).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _reading(self) -> Iterator[tuple[sqlite3.Connection, CoverageTracker | None]]:
        if not self.path.is_file():
            raise CoverageError(self.path, "no such file (has the hub run with coverage on?)")
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise CoverageError(self.path, f"cannot open: {exc}") from exc
        try:
            conn.execute("BEGIN")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != str(FORMAT_VERSION):
                raise CoverageError(self.path, f"not a coverage log of format {FORMAT_VERSION}")
            state = meta.get("state")
            yield conn, (CoverageTracker({}, (), state) if state is not None else None)
        except sqlite3.Error as exc:
            raise CoverageError(self.path, f"cannot read: {exc}") from exc
        except ValueError as exc:
            raise CoverageError(self.path, f"cannot read: {exc}") from exc
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.rollback()
            conn.close()

    def span(self) -> tuple[datetime, datetime] | None:
        """When the log began, and the last moment the hub was known to be alive."""
        with self._reading() as (_, tracker):
            if tracker is None or tracker.began is None or tracker.last is None:
                return None
            return from_us(tracker.began), from_us(tracker.last)

    def clock_backwards(self) -> int:
        """How many events came with a time older than the one before them."""
        with self._reading() as (_, tracker):
            return 0 if tracker is None else tracker.clock_backwards

    def intervals(
        self,
        start: datetime,
        end: datetime,
        *,
        kind: Kind | None = None,
        subject: str | None = None,
    ) -> list[Interval]:
        """See ``CoverageReader.intervals``."""
        lo, hi = to_us(start), to_us(end)
        if hi <= lo:
            return []
        sql = (
            'SELECT subject, kind, state, start, "end", cause FROM intervals'
            ' WHERE "end" > ? AND start < ?'
        )
        params: list[object] = [lo, hi]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        if subject is not None:
            sql += " AND subject = ?"
            params.append(subject)
        with self._reading() as (conn, tracker):
            rows: list[Row] = [
                (str(s), str(k), str(st), int(a), int(b), str(c))
                for s, k, st, a, b, c in conn.execute(sql, params)
            ]
            if tracker is not None:
                rows.extend(
                    r
                    for r in tracker.open_rows()
                    if r[4] > lo
                    and r[3] < hi
                    and (kind is None or r[1] == kind)
                    and (subject is None or r[0] == subject)
                )
        clipped = [(s, k, st, max(a, lo), min(b, hi), c) for s, k, st, a, b, c in rows]
        clipped.sort(key=lambda r: (r[0], r[1], r[3]))
        return [row_interval(r) for r in clipped]
