"""The evidence journal: every bus event, append-only, in a hash-chained SQLite file.

After a hold-up the journal is evidence, so it is built to make a later edit detectable
and to lose nothing that was acknowledged:

* Each row carries the hash of the previous row and its own hash,
  ``sha256(prev_hash || seq || payload)`` (text concatenation, hex digest; the first
  row's ``prev_hash`` is 64 zeros). Editing a payload, a hash or a link, or deleting a
  row, breaks the chain at that row. The recipe is simple enough for a third party to
  check with ``sqlite3`` and ``sha256sum`` (see ``docs/journal.md``).
* Deleting the *last* rows leaves a shorter chain that is still valid, so the ``meta``
  table keeps an anchor (the last seq and hash) updated in the same transaction as the
  rows. Someone who edits the anchor too defeats it; sealing the journal per incident
  anchors it outside the file.
* Triggers refuse ``UPDATE`` and ``DELETE`` on the events table: a speed bump against
  an accidental edit, not a defence (a trigger can be dropped; the chain still tells).
* WAL mode with ``synchronous=FULL``: a row is on disk when ``append`` returns. The
  WAL is copied back into the file by a ``WalCheckpointer`` in a thread of its own,
  not inside an append (see there why).
* A hold-up that arrives while a batch is being written joins that batch's
  transaction (``append(join=...)``) instead of waiting for its commit and then
  making its own.

One SQLite connection is owned by one dedicated writer thread, so the event loop never
waits on the disk. Readers (``verify_journal``, ``tail``, ``read_entries``) open their
own read-only connections and can run while the hub writes.

Sealing (``Journal.seal``): after a hold-up, the escalation engine seals the incident's
segment: a row in the ``seals`` table names the incident, the first and last seq of the
segment and the chain hash at its last row, written by the same writer thread so it
sits exactly between two appends. The engine keeps a copy of each seal in its outbox, a
second file: rewriting the journal from the incident on then disagrees with a record
outside it. The table is append-only like ``events`` (triggers), is created on open
for journals made before it existed, and changes nothing else in the format. The
segment's first row is found in memory (``_RowTimes``), not by reading the journal
back: a seal follows every hold-up, and must not hold the writer thread while the next
hold-up waits to be journaled.

A file that is not a journal (random bytes, a damaged SQLite file, another program's
database) raises ``JournalError`` with one line naming the file and the cause.
``open_or_quarantine`` is what the hub uses: it sets such a file aside under a new
name (the evidence is kept, never deleted) and starts a fresh journal whose first entry
records that. A journal whose chain is broken still opens: the break is logged in one
line, appends continue, and ``ecrin journal verify`` keeps reporting the break.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sqlite3
import threading
import time as _time
from array import array
from bisect import bisect_left
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, TypeVar
from urllib.parse import quote

from hub.events import Event, event_from_dict, event_types

__all__ = [
    "FORMAT_VERSION",
    "GENESIS_HASH",
    "SEAL_HORIZON",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalQuarantined",
    "JournalSeal",
    "VerifyResult",
    "WalCheckpointer",
    "canonical_payload",
    "chain_hash",
    "journal_tail_main",
    "journal_verify_main",
    "open_or_quarantine",
    "quarantine_file",
    "read_entries",
    "read_seals",
    "tail",
    "verify_journal",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Bumped when the schema or the hash recipe changes; a hub refuses a newer journal.
FORMAT_VERSION = 1
#: The ``prev_hash`` of the first row.
GENESIS_HASH = "0" * 64
#: How many of the last rows a seal looks through for the start of its incident window.
SEAL_HORIZON = 100_000

_CHAIN_RECIPE = "sha256(prev_hash || seq || payload), hex; genesis prev_hash = 64 zeros"
_COLUMNS = "seq, time, type, life_safety, payload, prev_hash, hash"
#: One row of ``events``, in ``_COLUMNS`` order.
_Row = tuple[int, str, str, int, str, str, str]
#: Rows go in with one multi-row ``INSERT`` per power of two in their count, not with
#: ``executemany``: the writer thread gives up the interpreter lock around every step,
#: so ``executemany`` takes it back once per row, and each time waits for the event
#: loop to let go of it. A batch of 170 rows went from 170 waits to 4.
_CHUNKS = (256, 128, 64, 32, 16, 8, 4, 2, 1)
_INSERTS = {
    n: f"INSERT INTO events ({_COLUMNS}) VALUES " + ",".join(["(?, ?, ?, ?, ?, ?, ?)"] * n)
    for n in _CHUNKS
}
_SCHEMA = f"""
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    time        TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    life_safety INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
INSERT INTO meta (key, value) VALUES ('format', '{FORMAT_VERSION}'), ('chain', '{_CHAIN_RECIPE}');
"""

_SEALS_SCHEMA = """
CREATE TABLE IF NOT EXISTS seals (
    id        INTEGER PRIMARY KEY,
    incident  TEXT    NOT NULL,
    sealed_at TEXT    NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE TRIGGER IF NOT EXISTS seals_no_update BEFORE UPDATE ON seals
BEGIN SELECT RAISE(ABORT, 'seals are append-only'); END;
CREATE TRIGGER IF NOT EXISTS seals_no_delete BEFORE DELETE ON seals
BEGIN SELECT RAISE(ABORT, 'seals are append-only'); END;
"""

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
    """The journal file was unusable and was set aside; a fresh journal started.

    It is the first entry of the fresh journal, so the evidence trail says where the
    earlier rows went.

    Attributes:
        path: where the unusable file now is.
        reason: one line naming the cause.
    """

    path: str
    reason: str


# -- the format ---------------------------------------------------------------
def _json_fallback(value: Any) -> str:
    # A plugin's event may hold a value JSON cannot carry; keep its repr rather than
    # refuse the event (a refused event would be lost evidence).
    return repr(value)


#: ``json.dumps`` with these arguments builds an encoder per call; one is enough.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_json_fallback)


def canonical_payload(event: Event) -> str:
    """The exact text stored and hashed for ``event``: sorted keys, no spaces, ASCII
    (what ``json.dumps(..., sort_keys=True, separators=(",", ":"))`` gives)."""
    return _CANONICAL.encode(event.to_dict())


def _insert(conn: sqlite3.Connection, rows: Sequence[_Row]) -> None:
    """Insert ``rows`` with as few statements as their count allows (see ``_CHUNKS``)."""
    start, left = 0, len(rows)
    for size in _CHUNKS:
        while left >= size:
            conn.execute(_INSERTS[size], [v for row in rows[start : start + size] for v in row])
            start += size
            left -= size


def chain_hash(prev_hash: str, seq: int, payload: str) -> str:
    """The hash of one row: ``sha256(prev_hash || seq || payload)`` as hex.

    ``||`` is text concatenation (SQLite's own operator), ``seq`` is in decimal, and
    the whole text is UTF-8 (canonical payloads are ASCII).
    """
    return hashlib.sha256(f"{prev_hash}{seq}{payload}".encode()).hexdigest()


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


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of checking a journal's chain.

    Attributes:
        ok: the chain and the anchor are intact.
        rows: how many rows were found sound: all of them when ``ok``, else those
            before the first bad one.
        first_bad_seq: the first row found broken (a missing row is named by its seq),
            or None when ``ok`` or when the break is not in a row (the anchor is gone).
        reason: ``"intact"``, or one line such as ``"row 57: hash mismatch (payload
            edited)"``.
    """

    ok: bool
    rows: int
    first_bad_seq: int | None
    reason: str


# -- opening and reading ---------------------------------------------------------------
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


# -- verification ---------------------------------------------------------------
@dataclass(slots=True)
class _Mismatch:
    """A row whose stored hash is not its recomputed hash, waiting for the next link
    (or the anchor) to tell whether the payload or the hash was edited."""

    seq: int
    stored: str
    computed: str

    def reason(self, next_link: str | None) -> str:
        if next_link == self.stored:
            what = "payload edited"
        elif next_link == self.computed:
            what = "hash edited"
        else:
            what = "row edited"
        return f"row {self.seq}: hash mismatch ({what})"


def _column_problem(seq: int, time: str, type_: str, life_safety: int, payload: str) -> str | None:
    """Why the derived columns disagree with the payload, or None when they agree."""
    try:
        data = json.loads(payload)
    except ValueError:
        return f"row {seq}: payload is not valid JSON"
    if not isinstance(data, dict):
        return f"row {seq}: payload is not a JSON object"
    if data.get("type") != type_:
        return f"row {seq}: type column does not match the payload (column edited)"
    if data.get("time") != time:
        return f"row {seq}: time column does not match the payload (column edited)"
    cls = event_types().get(type_)
    if cls is None:
        return None  # a type from a plugin not loaded here: the hash still covers it
    if cls.life_safety is Event.life_safety:
        expected = cls.LIFE_SAFETY  # a class constant: no need to rebuild the event
    else:
        try:
            expected = event_from_dict(data).life_safety
        except (ValueError, TypeError):
            return None
    if bool(life_safety) != expected:
        return f"row {seq}: life_safety column does not match the payload (column edited)"
    return None


def _verify(
    conn: sqlite3.Connection, path: Path, stop: threading.Event | None = None
) -> VerifyResult | None:
    """Check the chain on an open read transaction; None when ``stop`` was set."""
    try:
        meta = _read_meta(conn, path)
    except sqlite3.Error as exc:
        raise _sqlite_error(path, "cannot read", exc) from exc
    anchor = _anchor(meta)
    rows = 0
    expected = 1
    prev_hash = GENESIS_HASH
    mismatch: _Mismatch | None = None

    def bad(seq: int | None, reason: str) -> VerifyResult:
        # Every row before the first bad one was checked and found sound.
        return VerifyResult(False, rows if seq is None else seq - 1, seq, reason)

    try:
        cursor = conn.execute(
            "SELECT seq, time, type, life_safety, payload, prev_hash, hash FROM events ORDER BY seq"
        )
        while batch := cursor.fetchmany(1000):
            if stop is not None and stop.is_set():
                return None
            for seq, time, type_, life_safety, payload, link, stored in batch:
                if seq != expected:
                    if mismatch is not None:
                        return bad(mismatch.seq, mismatch.reason(None))
                    if seq < expected:
                        return bad(seq, f"row {seq}: out of order")
                    span = f"rows {expected}-{seq - 1}" if seq > expected + 1 else f"row {expected}"
                    return bad(expected, f"{span}: missing (deleted)")
                if mismatch is not None:
                    return bad(mismatch.seq, mismatch.reason(link))
                own = chain_hash(link, seq, payload)
                if link != prev_hash:
                    if own == stored and seq > 1:
                        return bad(
                            seq - 1,
                            f"row {seq - 1}: rewritten (its hash is not the link held"
                            f" by row {seq})",
                        )
                    if chain_hash(prev_hash, seq, payload) == stored:
                        return bad(seq, f"row {seq}: previous-hash field edited")
                    return bad(seq, f"row {seq}: link and hash both wrong (row edited)")
                if own != stored:
                    mismatch = _Mismatch(seq, stored, own)
                else:
                    problem = _column_problem(seq, time, type_, life_safety, payload)
                    if problem is not None:
                        return bad(seq, problem)
                prev_hash = stored
                expected = seq + 1
                rows += 1
    except sqlite3.Error as exc:
        cause = _sqlite_error(path, "unreadable", exc).cause
        return bad(expected, f"row {expected}: {cause}")
    last = expected - 1
    if mismatch is not None:
        link = anchor[1] if anchor is not None and anchor[0] == mismatch.seq else None
        return bad(mismatch.seq, mismatch.reason(link))
    if anchor is None:
        if rows == 0:
            return VerifyResult(True, 0, None, "intact")
        return bad(None, "the anchor (meta last_seq, last_hash) is missing (meta edited)")
    anchor_seq, anchor_hash = anchor
    if anchor_seq > last:
        span = f"row {last + 1}" if anchor_seq == last + 1 else f"rows {last + 1}-{anchor_seq}"
        return bad(
            last + 1,
            f"{span}: missing (the anchor records {anchor_seq} rows; the tail was deleted)",
        )
    if anchor_seq < last:
        return bad(
            anchor_seq + 1,
            f"row {anchor_seq + 1}: after the anchor (rows added outside the hub,"
            " or the anchor was edited)",
        )
    if anchor_hash != prev_hash:
        return bad(last, f"row {last}: does not match the anchor (row rewritten or anchor edited)")
    return VerifyResult(True, rows, None, "intact")


def verify_journal(path: Path) -> VerifyResult:
    """Recompute the whole chain and check the anchor.

    It reads one consistent snapshot, so it can run while the hub appends.

    Raises:
        JournalError: the file is missing, unreadable or not a journal at all.
    """
    with _reading(path) as conn:
        result = _verify(conn, path)
    assert result is not None  # no stop event, so it ran to the end
    return result


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


def _verify_until(path: Path, stop: threading.Event) -> VerifyResult | None:
    with _reading(path) as conn:
        return _verify(conn, path, stop)


# -- checkpoints off the write path ----------------------------------------------
class WalCheckpointer:
    """Copies a WAL file back into its database, from a thread of its own.

    By default SQLite checkpoints inside the commit that takes the WAL past 1000 pages:
    that commit also writes the pages back and syncs the database file, ten
    milliseconds or more on a loaded disk, and whatever waits for the commit (a
    hold-up being journaled, an escalation before its webhook) waits for that too. A
    writer that uses this checkpointer turns it off on its own connection
    (``PRAGMA wal_autocheckpoint = 0``) and calls ``committed`` after its commits; at
    most every ``interval`` seconds, a ``PASSIVE`` checkpoint (one that never blocks
    the writer) then runs on a second connection in this checkpointer's thread. It is
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
    def take_over(writer: sqlite3.Connection) -> None:
        """Turn off the writer connection's own checkpoints (call once, on open)."""
        writer.execute("PRAGMA wal_autocheckpoint = 0")

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


# -- where a seal's segment starts --------------------------------------------
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(value: datetime) -> int:
    """Microseconds since the epoch, exactly (a naive time is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MICROSECOND


def _stored_micros(time: str) -> int | None:
    """The ``time`` column as microseconds, or None when it is not an ISO time."""
    try:
        return _micros(datetime.fromisoformat(time))
    except ValueError:
        return None


class _RowTimes:
    """The rows that can still start a seal's segment, kept by the writer as it appends.

    A seal's segment starts just after the last row, among the last ``horizon`` rows,
    whose time is before the incident window. Reading the rows back to find it means
    parsing up to ``horizon`` times in the writer thread, tens of milliseconds with
    the GIL held, after every hold-up, while the next hold-up waits to be journaled.

    A row followed by one whose time is earlier or equal can never be that last row
    (the later one would be found first), so it is dropped as the later one is added.
    What is kept has strictly increasing times and seqs, and the answer is a binary
    search. Rows come nearly in time order, so about one entry per row is kept, as far
    back as ``horizon``: two integer arrays, 16 bytes a row.
    """

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon
        self._seqs = array("q")
        self._times = array("q")
        self._head = 0

    def add(self, seq: int, micros: int) -> None:
        """Record a row just written (seqs must come in increasing order)."""
        seqs, times = self._seqs, self._times
        while len(times) > self._head and times[-1] >= micros:
            times.pop()
            seqs.pop()
        seqs.append(seq)
        times.append(micros)
        if len(seqs) - self._head > self.horizon:
            self._forget_below(seq - self.horizon + 1)

    def _forget_below(self, lowest: int) -> None:
        head = bisect_left(self._seqs, lowest, self._head)
        if head > 4096 and head * 2 > len(self._seqs):
            del self._seqs[:head]
            del self._times[:head]
            head = 0
        self._head = head

    def last_before(self, micros: int, lowest: int) -> int | None:
        """The highest seq, at or above ``lowest``, of a row whose time is before
        ``micros`` (None when no such row was recorded)."""
        self._forget_below(lowest)
        head = self._head
        found = bisect_left(self._times, micros, head)
        return self._seqs[found - 1] if found > head else None


# -- writing ---------------------------------------------------------------
class Journal:
    """The journal file, open for appending.

    Use it as ``async with Journal(path) as journal:``. Every SQLite call runs in one
    dedicated thread that owns the only writing connection, so the loop never blocks
    on the disk and appends never interleave.

    Args:
        path: the SQLite file; created (with its directory) when missing.
        busy_timeout: seconds an append waits for a lock held by another connection
            before it fails (only a misbehaving tool holds one: readers never do).
        verify_on_open: check the whole chain in the background after opening, and log
            one line if it is broken (see ``open_check``).

    Attributes:
        quarantined: set by ``open_or_quarantine`` when it had to set a bad file aside.
        open_check: the background chain check started on open (its result is None
            when it was stopped by closing the journal, or could not run).
    """

    def __init__(
        self, path: Path, *, busy_timeout: float = 5.0, verify_on_open: bool = True
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.verify_on_open = verify_on_open
        self.quarantined: JournalQuarantined | None = None
        self.open_check: asyncio.Task[VerifyResult | None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._next_seq = 1
        self._prev_hash = GENESIS_HASH
        self._row_times = _RowTimes(SEAL_HORIZON)
        self._checkpointer = WalCheckpointer(self.path)
        self._stop_check = threading.Event()

    @property
    def last_seq(self) -> int:
        """The seq of the last row appended (0 for an empty journal)."""
        return self._next_seq - 1

    async def _call(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            raise JournalError(self.path, "the journal is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def open(self) -> None:
        """Open (or create) the file; ``__aenter__`` calls this.

        Raises:
            JournalError: one line naming the file and the cause; ``corrupt`` tells
                whether the file itself is unusable.
        """
        if self._executor is not None:
            return
        self._stop_check.clear()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="journal-writer")
        try:
            await self._call(self._open_sync)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise
        if self.verify_on_open:
            self.open_check = asyncio.get_running_loop().create_task(
                self._check_chain(), name=f"journal-check:{self.path.name}"
            )

    def _open_sync(self) -> None:
        path = self.path
        if path.is_dir():
            raise JournalError(path, "is a directory, not a journal")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _oserror(path, "cannot create its directory", exc) from exc
        try:
            conn = sqlite3.connect(path, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise _sqlite_error(path, "cannot open", exc) from exc
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            WalCheckpointer.take_over(conn)
            has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if not has_tables:
                created = datetime.now(UTC).isoformat()
                conn.executescript(
                    f"BEGIN IMMEDIATE;{_SCHEMA}"
                    f"INSERT INTO meta (key, value) VALUES ('created', '{created}');COMMIT;"
                )
            meta = _read_meta(conn, path)
            conn.executescript(f"BEGIN IMMEDIATE;{_SEALS_SCHEMA}COMMIT;")
            last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        except sqlite3.Error as exc:
            conn.close()
            raise _sqlite_error(path, "cannot open", exc) from exc
        except BaseException:
            conn.close()
            raise
        # Chain from the anchor when it is at or past the last row: a deleted tail then
        # stays a visible gap, and a rewritten last row stays a visible broken link,
        # instead of being papered over by the next append.
        anchor = _anchor(meta)
        if anchor is not None and (last is None or anchor[0] >= last[0]):
            self._next_seq, self._prev_hash = anchor[0] + 1, anchor[1]
        elif last is not None:
            self._next_seq, self._prev_hash = int(last[0]) + 1, str(last[1])
        row_times = _RowTimes(SEAL_HORIZON)
        try:
            for seq, time in conn.execute(
                "SELECT seq, time FROM events WHERE seq > ? ORDER BY seq",
                (self._next_seq - 1 - SEAL_HORIZON,),
            ):
                micros = _stored_micros(str(time))
                if micros is not None:
                    row_times.add(int(seq), micros)
        except sqlite3.Error as exc:
            conn.close()
            raise _sqlite_error(path, "cannot open", exc) from exc
        self._row_times = row_times
        self._checkpointer = WalCheckpointer(path)
        self._conn = conn

    async def _check_chain(self) -> VerifyResult | None:
        try:
            result = await asyncio.to_thread(_verify_until, self.path, self._stop_check)
        except JournalError as exc:
            log.error("journal %s: cannot check the chain: %s", self.path, exc.cause)
            return None
        if result is not None and not result.ok:
            log.error(
                "journal %s: chain broken: %s; appends continue and"
                " `ecrin journal verify` keeps reporting it",
                self.path,
                result.reason,
            )
        return result

    async def append(
        self,
        events: Sequence[Event],
        payloads: Sequence[str | None] | None = None,
        *,
        join: Callable[[], Sequence[tuple[Event, str | None]]] | None = None,
    ) -> list[int]:
        """Write ``events`` in one transaction and return their seqs.

        When it returns, the rows are on disk (``synchronous=FULL``).

        Args:
            events: the events, in the order they are to be chained.
            payloads: their ``canonical_payload`` where the caller already made it
                (None, or a None item: made here). The recorder makes them as events
                arrive, in small slices on the loop, so that the writer thread does
                not hold the GIL for a whole batch while a hold-up waits to be read.
            join: called once in the writer thread, inside the transaction, just
                before the commit. The events it returns (each with its payload, or
                None) are chained after ``events`` and committed with them, and their
                seqs follow in the result. The recorder passes the hold-ups that
                arrived while this batch was being written: they share its ``fsync``
                instead of waiting for it to end and then making their own. It must
                not block.

        Raises:
            JournalError: the write failed (disk full, I/O error, lock); nothing of the
                batch (nor of what ``join`` gave) was written, and the next append
                starts from the same row.
        """
        if not events:
            return []
        batch = tuple(events)
        encoded = tuple(payloads) if payloads is not None else (None,) * len(batch)
        if len(encoded) != len(batch):
            raise ValueError("one payload per event")
        return await self._call(lambda: self._append_sync(batch, encoded, join))

    @staticmethod
    def _rows(
        seq: int, prev: str, events: Sequence[Event], payloads: Sequence[str | None]
    ) -> tuple[list[_Row], list[int | None], int, str]:
        """Chain ``events`` after row ``seq - 1`` (hash ``prev``): the rows to insert,
        their event times in microseconds (None: unreadable), the next seq and hash."""
        rows: list[_Row] = []
        times: list[int | None] = []
        for event, given in zip(events, payloads, strict=True):
            payload = canonical_payload(event) if given is None else given
            digest = chain_hash(prev, seq, payload)
            if isinstance(event.time, datetime):
                time = event.time.isoformat()
                times.append(_micros(event.time))
            else:
                time = str(event.time)
                times.append(_stored_micros(time))
            rows.append(
                (seq, time, type(event).__name__, int(event.life_safety), payload, prev, digest)
            )
            prev = digest
            seq += 1
        return rows, times, seq, prev

    def _append_sync(
        self,
        events: Sequence[Event],
        payloads: Sequence[str | None],
        join: Callable[[], Sequence[tuple[Event, str | None]]] | None,
    ) -> list[int]:
        conn = self._conn
        if conn is None:
            raise JournalError(self.path, "the journal is closed")
        rows, times, seq, prev = self._rows(self._next_seq, self._prev_hash, events, payloads)
        urgent = any(e.life_safety for e in events)
        try:
            conn.execute("BEGIN IMMEDIATE")  # may wait for a lock: what comes meanwhile joins
            _insert(conn, rows)
            joined = join() if join is not None else ()
            if joined:
                more, more_times, seq, prev = self._rows(
                    seq, prev, [e for e, _p in joined], [p for _e, p in joined]
                )
                _insert(conn, more)
                rows += more
                times += more_times
                urgent = urgent or any(e.life_safety for e, _p in joined)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_seq', ?), ('last_hash', ?)",
                (str(seq - 1), prev),
            )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise _sqlite_error(self.path, "append failed", exc) from exc
        self._next_seq, self._prev_hash = seq, prev
        self._checkpointer.committed(conn, urgent=urgent)
        for row, micros in zip(rows, times, strict=True):
            if micros is not None:
                self._row_times.add(row[0], micros)
        return [row[0] for row in rows]

    async def seal(self, incident: str, since: datetime | None = None) -> JournalSeal:
        """Seal the journal segment of ``incident``, up to the last row written.

        The seal is written by the writer thread, between two appends, so its hash is
        exactly the chain hash of its ``last_seq``.

        Args:
            incident: the incident (escalation) id.
            since: the start of the incident window: the segment begins at the first
                row whose event time is at or after it (None: at the last row).

        Raises:
            JournalError: the seal could not be written.
        """
        return await self._call(lambda: self._seal_sync(incident, since))

    def _seal_sync(self, incident: str, since: datetime | None) -> JournalSeal:
        conn = self._conn
        if conn is None:
            raise JournalError(self.path, "the journal is closed")
        last_seq, last_hash = self._next_seq - 1, self._prev_hash
        first_seq = last_seq if last_seq > 0 else 1
        if since is not None:
            # After the last row (of the last SEAL_HORIZON) that is before the window;
            # from the oldest of those rows when none is.
            lowest = max(1, last_seq - SEAL_HORIZON + 1)
            before = self._row_times.last_before(_micros(since), lowest)
            first_seq = before + 1 if before is not None else lowest
        sealed_at = datetime.now(UTC).isoformat()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO seals (incident, sealed_at, first_seq, last_seq, hash)"
                " VALUES (?, ?, ?, ?, ?)",
                (incident, sealed_at, first_seq, last_seq, last_hash),
            )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise _sqlite_error(self.path, "seal failed", exc) from exc
        self._checkpointer.committed(conn)
        return JournalSeal(incident, sealed_at, first_seq, last_seq, last_hash)

    async def close(self) -> None:
        """Stop the background check and close the connection; safe to call twice."""
        executor = self._executor
        if executor is None:
            return
        self._stop_check.set()
        if self.open_check is not None:
            await asyncio.gather(self.open_check, return_exceptions=True)
        try:
            await self._call(self._close_sync)
        finally:
            executor.shutdown(wait=False)
            self._executor = None

    def _close_sync(self) -> None:
        self._checkpointer.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    async def __aenter__(self) -> Journal:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


# -- quarantine ---------------------------------------------------------------
def quarantine_file(path: Path, now: datetime | None = None) -> Path:
    """Rename an unusable journal (and its ``-wal``/``-shm`` files) out of the way.

    The new name is ``<name>.corrupt-<UTC timestamp>``, and the WAL file follows as
    ``<new name>-wal`` so that SQLite still finds it next to the file. Nothing is ever
    deleted: the bytes are evidence.

    Returns:
        The new path of the main file.

    Raises:
        JournalError: the file could not be renamed.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        path.rename(target)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
    except OSError as exc:
        raise _oserror(path, "cannot set the unusable journal aside", exc) from exc
    return target


@contextlib.asynccontextmanager
async def open_or_quarantine(
    path: Path, *, busy_timeout: float = 5.0, verify_on_open: bool = True
) -> AsyncIterator[Journal]:
    """Open the hub's journal, setting an unusable file aside instead of failing.

    On a file that is not a journal (random bytes, a damaged SQLite file, another
    program's database) it logs one line, renames the file with ``quarantine_file``,
    and opens a fresh journal whose first entry is a ``JournalQuarantined`` event
    (also kept on ``journal.quarantined`` so the hub can publish it as a fault).

    Raises:
        JournalError: for everything a rename does not cure (a directory that cannot be
            written, a journal from a newer hub): the hub then runs without a journal.
    """
    journal = Journal(path, busy_timeout=busy_timeout, verify_on_open=verify_on_open)
    try:
        await journal.open()
    except JournalError as exc:
        if not exc.corrupt:
            raise
        moved = await asyncio.to_thread(quarantine_file, journal.path)
        log.error(
            "journal %s unusable (%s): set aside as %s; a fresh journal starts",
            journal.path,
            exc.cause,
            moved.name,
        )
        notice = JournalQuarantined(path=str(moved), reason=exc.cause)
        journal = Journal(path, busy_timeout=busy_timeout, verify_on_open=verify_on_open)
        await journal.open()
        try:
            await journal.append([notice])
        except BaseException:
            await journal.close()
            raise
        journal.quarantined = notice
    try:
        yield journal
    finally:
        await journal.close()


# -- the journal commands ----------------------------------------------------------------
def journal_verify_main(db: Path, out: TextIO, err: TextIO) -> int:
    """``ecrin journal verify``: 0 intact, 1 broken (naming the first bad row), 2 unreadable."""
    try:
        result = verify_journal(db)
    except JournalError as exc:
        err.write(f"ecrin journal verify: {exc}\n")
        return 2
    if result.ok:
        out.write(f"{db}: intact, {result.rows} rows\n")
        return 0
    out.write(f"{db}: {result.reason}\n")
    return 1


_TAIL_SKIP = frozenset({"type", "time", "raw"})


def _blank(value: Any) -> bool:
    # Fields that say nothing. False and 0 stay: motion stopped, zone 0.
    return value is None or value in ("", [])


def _field_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if not text or any(c.isspace() or c in "=\"'" for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def _summary(entry: JournalEntry) -> str:
    try:
        data = entry.data()
    except ValueError:
        fields = "(payload is not a JSON object)"
    else:
        fields = " ".join(
            f"{key}={_field_text(value)}"
            for key, value in sorted(data.items())
            if key not in _TAIL_SKIP and not _blank(value)
        )
    mark = " LIFE-SAFETY" if entry.life_safety else ""
    return f"{entry.seq:>6}  {entry.time}  {entry.type}{mark}  {fields}".rstrip()


def journal_tail_main(db: Path, n: int, out: TextIO, err: TextIO, as_json: bool) -> int:
    """``ecrin journal tail``: the last ``n`` events, one line each (or JSON lines).

    Returns 0, or 2 with one line on ``err`` when the file cannot be read.
    """
    if n < 0:
        err.write(f"ecrin journal tail: -n must be 0 or more, not {n}\n")
        return 2
    try:
        entries = tail(db, n)
    except JournalError as exc:
        err.write(f"ecrin journal tail: {exc}\n")
        return 2
    for entry in entries:
        if as_json:
            try:
                line = json.dumps(entry.to_dict(), ensure_ascii=False)
            except ValueError:
                line = json.dumps({"seq": entry.seq, "raw_payload": entry.payload})
            out.write(line + "\n")
        else:
            out.write(_summary(entry) + "\n")
    return 0
