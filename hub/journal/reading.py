"""Reading a journal back: its rows and its seals, from read-only connections.

Readers (``tail``, ``read_entries``, ``read_seals``, and ``verify_journal``) open their
own read-only connection and read inside one transaction, so they see a consistent
snapshot and can run while the hub writes. A reader never creates a journal: a missing
file is a ``JournalError``. The check of the ``meta`` table (a journal, of a format this
hub reads, and its anchor) is here too; the writer runs it when it opens the file.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hub.events import Event, event_from_dict
from hub.journal.chain import _COLUMNS, FORMAT_VERSION
from hub.journal.errors import JournalError, _sqlite_error


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One row of the journal, as stored.

    Attributes:
        seq: the row number, from 1, without gaps in an intact journal.
        time: when the event happened (ISO 8601, from the payload).
        type: the event class name.
        life_safety: the event took the life-safety lane.
        payload: the canonical JSON of the event (what is hashed).
        prev_hash: the previous row's hash.
        hash: this row's hash.
    """

    seq: int
    time: str
    type: str
    life_safety: bool
    payload: str
    prev_hash: str
    hash: str

    def data(self) -> dict[str, Any]:
        """The payload as a dict (``Event.to_dict`` output)."""
        value = json.loads(self.payload)
        if not isinstance(value, dict):
            raise ValueError(f"row {self.seq}: payload is not a JSON object")
        return value

    def event(self) -> Event:
        """Rebuild the typed event.

        Raises:
            ValueError: the type is unknown to this process (its plugin is not loaded)
                or the payload does not fit it.
        """
        return event_from_dict(self.data())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict for ``ecrin journal tail --json``."""
        return {
            "seq": self.seq,
            "time": self.time,
            "type": self.type,
            "life_safety": self.life_safety,
            "event": self.data(),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    seq, time, type_, life_safety, payload, prev_hash, hash_ = row
    return JournalEntry(
        seq=int(seq),
        time=str(time),
        type=str(type_),
        life_safety=bool(life_safety),
        payload=str(payload),
        prev_hash=str(prev_hash),
        hash=str(hash_),
    )


@dataclass(frozen=True, slots=True)
class JournalSeal:
    """The journal segment of one incident, sealed.

    Attributes:
        incident: the incident (escalation) id.
        sealed_at: when the seal was written (ISO 8601, UTC).
        first_seq: the first row of the segment (the first row at or after the start
            of the incident window; ``last_seq + 1`` when the window holds no row).
        last_seq: the last row written when the seal was made (0 for an empty journal).
        hash: the chain hash of row ``last_seq`` (the genesis hash for an empty one).
    """

    incident: str
    sealed_at: str
    first_seq: int
    last_seq: int
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (the outbox keeps a copy)."""
        return {
            "incident": self.incident,
            "sealed_at": self.sealed_at,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "hash": self.hash,
        }


def _read_meta(conn: sqlite3.Connection, path: Path) -> dict[str, str]:
    tables = {
        str(name) for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if not {"meta", "events"} <= tables:
        found = ", ".join(sorted(tables)) or "none"
        raise JournalError(path, f"not an Écrin journal (tables: {found})", corrupt=True)
    meta = {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta")}
    version = meta.get("format")
    if version != str(FORMAT_VERSION):
        if version is not None and version.isdigit() and int(version) > FORMAT_VERSION:
            raise JournalError(
                path,
                f"journal format {version} is newer than this hub reads ({FORMAT_VERSION})",
            )
        raise JournalError(path, f"unknown journal format {version!r}", corrupt=True)
    return meta


def _anchor(meta: dict[str, str]) -> tuple[int, str] | None:
    seq, hash_ = meta.get("last_seq"), meta.get("last_hash")
    if seq is None or hash_ is None or not seq.isdigit():
        return None
    return int(seq), hash_


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection; the file must exist (a reader never creates a journal)."""
    if not path.exists():
        raise JournalError(path, "no such file")
    if path.is_dir():
        raise JournalError(path, "is a directory, not a journal")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise _sqlite_error(path, "cannot open", exc) from exc
    try:
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error as exc:
        conn.close()
        raise _sqlite_error(path, "cannot open", exc) from exc
    return conn


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection inside one read transaction (a consistent snapshot)."""
    conn = _connect_readonly(path)
    try:
        try:
            conn.execute("BEGIN")
            _read_meta(conn, path)
        except sqlite3.Error as exc:
            raise _sqlite_error(path, "cannot read", exc) from exc
        yield conn
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.rollback()
        conn.close()


def tail(path: Path, n: int = 20) -> list[JournalEntry]:
    """The last ``n`` rows, oldest first.

    Raises:
        JournalError: the file is missing, unreadable or not a journal.
    """
    if n <= 0:
        return []
    with _reading(path) as conn:
        try:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM events ORDER BY seq DESC LIMIT ?", (n,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise _sqlite_error(path, "cannot read", exc) from exc
    return [_entry(r) for r in reversed(rows)]


def read_entries(
    path: Path, first: int = 1, last: int | None = None, limit: int | None = None
) -> list[JournalEntry]:
    """Rows with ``first <= seq <= last`` (``last`` None: to the end), oldest first.

    Args:
        path: the journal file.
        first: the lowest seq wanted.
        last: the highest seq wanted, or None for no bound.
        limit: at most this many rows, or None for all of them.

    Raises:
        JournalError: the file is missing, unreadable or not a journal.
    """
    sql = f"SELECT {_COLUMNS} FROM events WHERE seq >= ?"
    params: list[int] = [first]
    if last is not None:
        sql += " AND seq <= ?"
        params.append(last)
    sql += " ORDER BY seq"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(max(limit, 0))
    with _reading(path) as conn:
        try:
            rows = conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _sqlite_error(path, "cannot read", exc) from exc
    return [_entry(r) for r in rows]


def iter_payloads(
    path: Path,
    first: int = 1,
    last: int | None = None,
    types: Collection[str] | None = None,
) -> Iterator[tuple[int, str, str]]:
    """Rows with ``first <= seq <= last`` (``last`` None: to the end) as ``(seq, type,
    payload)``, oldest first, read lazily inside one read transaction (a consistent
    snapshot, however long the journal): what a reader that rebuilds state from the
    journal needs, without the hashes.

    Given ``types``, a row of any other type comes with an empty payload: its text is
    never read out of SQLite, which is most of the cost of reading a busy shop's
    journal for a few kinds of event (a camera's detections are most of its rows).

    Raises:
        JournalError: the file is missing, unreadable or not a journal.
    """
    params: list[object] = [first, (1 << 62) if last is None else last]
    if types is None:
        text = "payload"
    else:
        wanted = sorted(types)
        text = f"CASE WHEN type IN ({','.join('?' * len(wanted))}) THEN payload ELSE '' END"
        params[:0] = wanted
    with _reading(path) as conn:
        try:
            cursor = conn.execute(
                f"SELECT seq, type, {text} FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq",
                params,
            )
            while rows := cursor.fetchmany(1000):
                for seq, type_, payload in rows:
                    yield int(seq), str(type_), str(payload)
        except sqlite3.Error as exc:
            raise _sqlite_error(path, "cannot read", exc) from exc


def read_seals(path: Path) -> list[JournalSeal]:
    """Every seal of the journal, oldest first (none for a journal never sealed).

    Raises:
        JournalError: the file is missing, unreadable or not a journal.
    """
    with _reading(path) as conn:
        try:
            if not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seals'"
            ).fetchone():
                return []
            rows = conn.execute(
                "SELECT incident, sealed_at, first_seq, last_seq, hash FROM seals ORDER BY id"
            ).fetchall()
        except sqlite3.Error as exc:
            raise _sqlite_error(path, "cannot read", exc) from exc
    return [JournalSeal(str(i), str(t), int(f), int(last), str(h)) for i, t, f, last, h in rows]
