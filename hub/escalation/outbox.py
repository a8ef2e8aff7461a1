"""The durable outbox: every escalation and every delivery, on disk before it is sent.

A hold-up that reached the hub must reach the referents even if the hub is killed the
next millisecond. So the engine writes each change of an escalation, with the
deliveries it calls for, in one SQLite transaction, and only then sends anything; and
it writes each delivery attempt before making it. On start, the engine reads back
every delivery not yet delivered and every escalation not yet acknowledged, and picks
up where it stopped.

Like the journal, the file is in WAL mode with ``synchronous=FULL`` (a committed row
survives a power cut), and one dedicated thread owns the only writing connection, so
the event loop never waits on the disk; the WAL is copied back into the file by a
``WalCheckpointer`` in a thread of its own, never inside the commit a webhook waits
for. A file that is not an outbox is set aside (renamed, never deleted) and a fresh one
starts: a damaged outbox must not stop hold-ups.

Tables (``docs/escalation.md`` shows the schema):

* ``escalations``: the latest snapshot of each escalation and the engine's own state
  (fold key, last signal, deadline factor, reminders sent);
* ``deliveries``: one row per (escalation, tier, contact, revision), keyed by its
  idempotency key, with its body, status and next attempt time;
* ``attempts``: one row per attempt, written before the request;
* ``signals``: a digest of each signal already escalated, so a restart can replay from
  the journal the signals that never made it here, and the signal's journal text, so
  that a restart can also put back in the journal a signal that made it here but not
  there (the engine writes its outbox while the journal writes the signal, and a crash
  can fall between the two commits);
* ``notices``: the high-stock notices already queued;
* ``scenes``: the preserved scenes (window, cameras, journal seal, release);
* ``meta``: format, creation time, the last accepted evidence settings, and
  ``journal_anchor``: the head of the journal's chain when the last escalation change
  was committed (``hub.journal.anchor``), which the hub checks its journal against on
  start.

The file, its ``-wal`` and ``-shm`` are ``0600`` whatever the umask
(``hub.private_files``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from hub.escalation.model import Escalation, Status
from hub.journal import JournalAnchor, JournalError, WalCheckpointer, quarantine_file
from hub.private_files import create_private, make_private
from hub.sqlite_writer import SqliteFile, SqliteWriter, create_schema, write_transaction

__all__ = [
    "FORMAT_VERSION",
    "Delivery",
    "Outbox",
    "OutboxBatch",
    "OutboxError",
    "OutboxSnapshot",
    "SceneRecord",
    "StoredEscalation",
    "read_journal_anchor",
    "read_scenes",
]

log = logging.getLogger(__name__)


FORMAT_VERSION: Final = 1
#: Resolved escalations read back on start (for the API's history); older ones stay
#: in the file.
RESOLVED_KEPT: Final = 500

PENDING: Final = "pending"
DELIVERED: Final = "delivered"
FAILED: Final = "failed"
SUPERSEDED: Final = "superseded"

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE escalations (
    id         TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    status     TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    snapshot   TEXT NOT NULL,
    state      TEXT NOT NULL
);
CREATE INDEX escalations_status ON escalations (status, created_at);
CREATE TABLE deliveries (
    key           TEXT PRIMARY KEY,
    escalation_id TEXT,
    contact       TEXT NOT NULL,
    event         TEXT NOT NULL,
    body          TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    last_error    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_status ON deliveries (status);
CREATE INDEX deliveries_target ON deliveries (escalation_id, contact);
CREATE TABLE attempts (
    delivery    TEXT NOT NULL,
    n           INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT,
    http_status INTEGER,
    error       TEXT,
    PRIMARY KEY (delivery, n)
);
CREATE TABLE signals (
    digest        TEXT PRIMARY KEY,
    escalation_id TEXT NOT NULL,
    at            TEXT NOT NULL,
    payload       TEXT
);
CREATE TABLE notices (key TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE scenes (
    escalation_id TEXT PRIMARY KEY,
    data          TEXT NOT NULL,
    released      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO meta (key, value) VALUES ('format', '{FORMAT_VERSION}');
"""


class OutboxError(Exception):
    """The outbox cannot be opened, read or written; one line naming the file."""

    def __init__(self, path: Path, cause: str, *, corrupt: bool = False) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause
        self.corrupt = corrupt


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


@dataclass(slots=True)
class Delivery:
    """One webhook to send to one contact: the unit of at-least-once delivery.

    Attributes:
        key: the idempotency key, also the primary key.
        escalation_id: the escalation it is about (None for a high-stock notice).
        contact: the contact id.
        event: the ``Ecrin-Event`` header.
        body: the exact bytes to POST (signed afresh at each attempt).
        status: ``pending``, ``delivered``, ``failed`` (permanently) or ``superseded``
            (a newer revision for the same contact replaced it before it got through).
        attempts: attempts made so far.
        next_at: when the next attempt is due.
        created_at: when it was queued.
        last_error: the last failure, one line.
    """

    key: str
    escalation_id: str | None
    contact: str
    event: str
    body: bytes
    next_at: datetime
    created_at: datetime
    status: str = PENDING
    attempts: int = 0
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class StoredEscalation:
    """An escalation and the engine's private state about it."""

    escalation: Escalation
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SceneRecord:
    """A preserved scene: what is kept, the journal seal, and its release.

    Attributes:
        escalation_id: the incident.
        window_start, window_end: the recordings kept (the scene settings' window).
        cameras: the cameras asked to keep them.
        seal: the journal seal (incident, first_seq, last_seq, hash, sealed_at), or
            None when there was no journal to seal.
        released_by, released_at: who released the scene, and when.
    """

    escalation_id: str
    window_start: datetime
    window_end: datetime
    cameras: tuple[str, ...]
    seal: dict[str, Any] | None = None
    released_by: str | None = None
    released_at: datetime | None = None

    @property
    def released(self) -> bool:
        """The scene is no longer preserved."""
        return self.released_at is not None

    def to_json(self) -> str:
        """The stored form."""
        return json.dumps(
            {
                "escalation_id": self.escalation_id,
                "window_start": _iso(self.window_start),
                "window_end": _iso(self.window_end),
                "cameras": list(self.cameras),
                "seal": self.seal,
                "released_by": self.released_by,
                "released_at": _iso(self.released_at) if self.released_at else None,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> SceneRecord:
        """Read the stored form back."""
        data = json.loads(text)
        released_at = data.get("released_at")
        return cls(
            escalation_id=str(data["escalation_id"]),
            window_start=datetime.fromisoformat(data["window_start"]),
            window_end=datetime.fromisoformat(data["window_end"]),
            cameras=tuple(data.get("cameras", ())),
            seal=data.get("seal"),
            released_by=data.get("released_by"),
            released_at=datetime.fromisoformat(released_at) if released_at else None,
        )


@dataclass(slots=True)
class OutboxBatch:
    """Everything one change writes, committed in one transaction.

    A delivery whose key is already stored is ignored (queued once, whatever
    happens); a new delivery supersedes the pending ones of the same escalation to the
    same contact (each body is the full, newest state).

    ``started`` names the new deliveries whose first attempt is made as soon as the
    batch is on disk: that attempt is recorded in the same transaction (one ``fsync``
    between a hold-up and its first POST, not two), with the delivery's ``attempts``.
    """

    escalations: list[StoredEscalation] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    started: frozenset[str] = frozenset()
    signals: list[tuple[str, str, datetime]] = field(default_factory=list)
    #: The journal text of each signal in ``signals`` (by digest), where known.
    signal_payloads: dict[str, str] = field(default_factory=dict)
    notices: list[tuple[str, datetime]] = field(default_factory=list)
    scenes: list[SceneRecord] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboxSnapshot:
    """What the engine reads back on start.

    Attributes:
        escalations: every escalation not resolved, and the latest resolved ones.
        pending: every delivery still to make, oldest first.
        notices: the keys of the high-stock notices already queued.
        scenes: every scene, by escalation id.
        signals: digests of the signals already escalated since ``since``, with when.
        meta: the meta table (``created``, ``evidence``...).
        signal_payloads: the journal text of those signals, by digest, where stored.
    """

    escalations: list[StoredEscalation]
    pending: list[Delivery]
    notices: frozenset[str]
    scenes: dict[str, SceneRecord]
    signals: dict[str, datetime]
    meta: dict[str, str]
    signal_payloads: dict[str, str] = field(default_factory=dict)


def _delivery(row: tuple[Any, ...]) -> Delivery:
    key, esc, contact, event, body, status, attempts, next_at, created, error = row
    return Delivery(
        key=str(key),
        escalation_id=str(esc) if esc is not None else None,
        contact=str(contact),
        event=str(event),
        body=str(body).encode("utf-8"),
        next_at=datetime.fromisoformat(next_at),
        created_at=datetime.fromisoformat(created),
        status=str(status),
        attempts=int(attempts),
        last_error=str(error),
    )


class Outbox(SqliteFile):
    """The outbox file, open for the engine.

    Use it as ``async with Outbox(path) as outbox:``.

    Args:
        path: the SQLite file; created (with its directory) when missing.
        busy_timeout: seconds a write waits for a lock held by another connection.
        journal_head: the journal's head (``Journal.head``), recorded with every
            ``commit`` as ``meta.journal_anchor``; None: no journal, nothing recorded.
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout: float = 5.0,
        journal_head: Callable[[], JournalAnchor] | None = None,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._journal_head = journal_head
        self._anchored: str | None = None  # the journal head last written here
        self.quarantined: Path | None = None
        self._writer = SqliteWriter(
            "outbox-writer", lambda: OutboxError(self.path, "the outbox is not open")
        )
        self._conn: sqlite3.Connection | None = None
        self._checkpointer: WalCheckpointer = WalCheckpointer(self.path)

    # -- plumbing ------------------------------------------------------------------------
    def _error(self, action: str, exc: sqlite3.Error) -> OutboxError:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        return OutboxError(self.path, f"{action}: {exc}", corrupt=code in (11, 26))

    def _write(
        self, action: str, fn: Callable[[sqlite3.Connection], None], *, urgent: bool = False
    ) -> None:
        conn = self._conn
        if conn is None:
            raise OutboxError(self.path, "the outbox is closed")
        try:
            with write_transaction(conn):
                fn(conn)
        except sqlite3.Error as exc:
            raise self._error(action, exc) from exc
        self._checkpointer.committed(conn, urgent=urgent)

    # -- lifecycle ------------------------------------------------------------------------
    async def open(self) -> None:
        """Open (or create) the file; a file that is not an outbox is set aside."""
        if self._writer.running:
            return
        self._writer.start()
        try:
            try:
                await self._writer.call(self._open_sync)
            except OutboxError as exc:
                if not exc.corrupt:
                    raise
                moved = await asyncio.to_thread(quarantine_file, self.path)
                log.error(
                    "outbox %s unusable (%s): set aside as %s; a fresh outbox starts",
                    self.path,
                    exc.cause,
                    moved.name,
                )
                self.quarantined = moved
                await self._writer.call(self._open_sync)
        except JournalError as exc:
            self._writer.stop()
            raise OutboxError(self.path, exc.cause) from exc
        except BaseException:
            self._writer.stop()
            raise

    def _open_sync(self) -> None:
        path = self.path
        if path.is_dir():
            raise OutboxError(path, "is a directory, not an outbox")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutboxError(path, f"cannot create its directory: {exc.strerror}") from exc
        try:
            create_private(path, "outbox")
        except OSError as exc:
            raise OutboxError(path, f"cannot make the file private (0600): {exc}") from exc
        try:
            conn = WalCheckpointer.connect(path, self.busy_timeout)
        except sqlite3.Error as exc:
            raise self._error("cannot open", exc) from exc
        try:
            make_private(path, "outbox")  # a -wal or -shm an earlier hub left wider
            tables = {
                str(n) for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if not tables:
                create_schema(conn, _SCHEMA, datetime.now(UTC).isoformat())
            elif not {"meta", "escalations", "deliveries"} <= tables:
                raise OutboxError(
                    path, f"not an Écrin outbox (tables: {', '.join(sorted(tables))})", corrupt=True
                )
            row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            version = str(row[0]) if row else None
            if version != str(FORMAT_VERSION):
                if version is not None and version.isdigit() and int(version) > FORMAT_VERSION:
                    raise OutboxError(path, f"outbox format {version} is newer than this hub reads")
                raise OutboxError(path, f"unknown outbox format {version!r}", corrupt=True)
            columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(signals)")}
            if "payload" not in columns:  # written by an earlier hub: the column is new
                conn.execute("ALTER TABLE signals ADD COLUMN payload TEXT")
        except sqlite3.Error as exc:
            conn.close()
            raise self._error("cannot open", exc) from exc
        except OSError as exc:
            conn.close()
            raise OutboxError(path, f"cannot make the file private (0600): {exc}") from exc
        except BaseException:
            conn.close()
            raise
        self._checkpointer = WalCheckpointer(path)
        self._anchored = None
        self._conn = conn

    # -- reading back -------------------------------------------------------------------------
    async def load(self, signals_since: datetime) -> OutboxSnapshot:
        """Everything the engine needs to resume (see ``OutboxSnapshot``)."""
        return await self._writer.call(lambda: self._load_sync(signals_since))

    def _load_sync(self, signals_since: datetime) -> OutboxSnapshot:
        conn = self._conn
        if conn is None:
            raise OutboxError(self.path, "the outbox is closed")
        try:
            conn.execute("BEGIN")
            rows = conn.execute(
                "SELECT snapshot, state FROM escalations WHERE status != ? ORDER BY created_at",
                (Status.RESOLVED.value,),
            ).fetchall()
            rows += conn.execute(
                "SELECT snapshot, state FROM escalations WHERE status = ?"
                " ORDER BY created_at DESC LIMIT ?",
                (Status.RESOLVED.value, RESOLVED_KEPT),
            ).fetchall()
            pending = conn.execute(
                "SELECT key, escalation_id, contact, event, body, status, attempts, next_at,"
                " created_at, last_error FROM deliveries WHERE status = ? ORDER BY rowid",
                (PENDING,),
            ).fetchall()
            notices = conn.execute("SELECT key FROM notices").fetchall()
            scenes = conn.execute("SELECT data FROM scenes").fetchall()
            signals = conn.execute(
                "SELECT digest, at, payload FROM signals WHERE at >= ?", (_iso(signals_since),)
            ).fetchall()
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise self._error("cannot read", exc) from exc
        escalations: list[StoredEscalation] = []
        for snapshot, state in rows:
            try:
                escalations.append(
                    StoredEscalation(Escalation.from_dict(json.loads(snapshot)), json.loads(state))
                )
            except ValueError as exc:
                log.error("outbox %s: an escalation could not be read back: %s", self.path, exc)
        scene_records: dict[str, SceneRecord] = {}
        for (data,) in scenes:
            try:
                record = SceneRecord.from_json(data)
            except (ValueError, KeyError) as exc:
                log.error("outbox %s: a scene could not be read back: %s", self.path, exc)
                continue
            scene_records[record.escalation_id] = record
        return OutboxSnapshot(
            escalations=escalations,
            pending=[_delivery(r) for r in pending],
            notices=frozenset(str(k) for (k,) in notices),
            scenes=scene_records,
            signals={str(d): datetime.fromisoformat(a) for d, a, _p in signals},
            meta={str(k): str(v) for k, v in meta.items()},
            signal_payloads={str(d): str(p) for d, _a, p in signals if p is not None},
        )

    # -- writing -------------------------------------------------------------------------
    async def commit(self, batch: OutboxBatch) -> None:
        """Write ``batch`` in one transaction; when it returns, it is on disk.

        The journal's head rides along (``meta.journal_anchor``): read here, on the loop,
        from memory.

        Raises:
            OutboxError: nothing of the batch was written.
        """
        head = self._journal_head() if self._journal_head is not None else None
        anchor = head.to_json() if head is not None and head.journal else None
        changed = anchor if anchor != self._anchored else None  # no statement for nothing
        await self._writer.call(
            lambda: self._write("write failed", lambda c: _commit(c, batch, changed), urgent=True)
        )
        if changed is not None:
            self._anchored = changed

    async def attempt_started(self, key: str, n: int, at: datetime) -> None:
        """Record that attempt ``n`` of delivery ``key`` is about to be made."""

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO attempts (delivery, n, started_at) VALUES (?, ?, ?)",
                (key, n, _iso(at)),
            )
            conn.execute(
                "UPDATE deliveries SET attempts = ?, updated_at = ? WHERE key = ?",
                (n, _iso(at), key),
            )

        await self._writer.call(lambda: self._write("write failed", write))

    async def attempt_finished(
        self,
        delivery: Delivery,
        n: int,
        at: datetime,
        outcome: str,
        http_status: int | None,
        error: str,
    ) -> None:
        """Record how attempt ``n`` went, and the delivery's new status and next time."""

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE attempts SET finished_at = ?, outcome = ?, http_status = ?, error = ?"
                " WHERE delivery = ? AND n = ?",
                (_iso(at), outcome, http_status, error, delivery.key, n),
            )
            conn.execute(
                "UPDATE deliveries SET status = ?, next_at = ?, updated_at = ?, last_error = ?"
                " WHERE key = ? AND status = ?",
                (delivery.status, _iso(delivery.next_at), _iso(at), error, delivery.key, PENDING),
            )

        await self._writer.call(lambda: self._write("write failed", write))

    async def delivery_status(self, key: str) -> str | None:
        """The stored status of one delivery (None when unknown)."""

        def read() -> str | None:
            conn = self._conn
            if conn is None:
                raise OutboxError(self.path, "the outbox is closed")
            row = conn.execute("SELECT status FROM deliveries WHERE key = ?", (key,)).fetchone()
            return str(row[0]) if row else None

        return await self._writer.call(read)


def read_journal_anchor(path: Path) -> JournalAnchor | None:
    """The journal head the outbox at ``path`` recorded last, or None (no file, no
    outbox, or nothing recorded).

    Read on a read-only connection before the hub opens its journal. An outbox that
    cannot be read gives None here: the engine reports it when it opens the file.
    """
    if not path.is_file():
        return None
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'journal_anchor'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    try:
        return JournalAnchor.from_json(str(row[0]))
    except ValueError as exc:
        log.error("outbox %s: its journal anchor cannot be read: %s", path, exc)
        return None


def read_scenes(path: Path) -> list[SceneRecord]:
    """Every preserved scene the outbox at ``path`` holds, released or not, by
    escalation id; empty when there is no outbox yet.

    Read on a read-only connection, beside a running hub: the register of recordings
    marks what a sealed scene keeps (``hub.coverage.register``).

    Raises:
        OutboxError: the file exists but cannot be read as an outbox.
    """
    if not path.is_file():
        return []
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            rows = conn.execute("SELECT data FROM scenes ORDER BY escalation_id").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise OutboxError(path, f"cannot read its scenes: {exc}") from exc
    scenes: list[SceneRecord] = []
    for (data,) in rows:
        try:
            scenes.append(SceneRecord.from_json(data))
        except (ValueError, KeyError, TypeError) as exc:
            raise OutboxError(path, f"a scene cannot be read back: {exc}") from exc
    return scenes


def _commit(conn: sqlite3.Connection, batch: OutboxBatch, journal_anchor: str | None) -> None:
    for stored in batch.escalations:
        esc = stored.escalation
        conn.execute(
            "INSERT OR REPLACE INTO escalations (id, created_at, status, revision, snapshot, state)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                esc.id,
                _iso(esc.created_at),
                esc.status.value,
                esc.revision,
                json.dumps(esc.to_dict(), sort_keys=True),
                json.dumps(stored.state, sort_keys=True),
            ),
        )
    for d in batch.deliveries:
        inserted = conn.execute(
            "INSERT OR IGNORE INTO deliveries (key, escalation_id, contact, event, body, status,"
            " attempts, next_at, created_at, updated_at, last_error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                d.key,
                d.escalation_id,
                d.contact,
                d.event,
                d.body.decode("utf-8"),
                d.status,
                d.attempts,
                _iso(d.next_at),
                _iso(d.created_at),
                _iso(d.created_at),
                d.last_error,
            ),
        ).rowcount
        if inserted and d.key in batch.started:
            conn.execute(
                "INSERT OR REPLACE INTO attempts (delivery, n, started_at) VALUES (?, ?, ?)",
                (d.key, d.attempts, _iso(d.created_at)),
            )
        if inserted and d.escalation_id is not None:
            conn.execute(
                "UPDATE deliveries SET status = ?, updated_at = ? WHERE escalation_id = ?"
                " AND contact = ? AND status = ? AND key != ?",
                (SUPERSEDED, _iso(d.created_at), d.escalation_id, d.contact, PENDING, d.key),
            )
    # Each statement costs the writer thread a round trip for the GIL while a hold-up's
    # webhook waits for this commit: the empty ones are not run.
    if batch.signals:
        texts = batch.signal_payloads
        conn.executemany(
            "INSERT OR IGNORE INTO signals (digest, escalation_id, at, payload)"
            " VALUES (?, ?, ?, ?)",
            [(digest, esc_id, _iso(at), texts.get(digest)) for digest, esc_id, at in batch.signals],
        )
    if batch.notices:
        conn.executemany(
            "INSERT OR IGNORE INTO notices (key, at) VALUES (?, ?)",
            [(key, _iso(at)) for key, at in batch.notices],
        )
    if batch.scenes:
        conn.executemany(
            "INSERT OR REPLACE INTO scenes (escalation_id, data, released) VALUES (?, ?, ?)",
            [(s.escalation_id, s.to_json(), int(s.released)) for s in batch.scenes],
        )
    meta = list(batch.meta.items())
    if journal_anchor is not None:
        meta.append(("journal_anchor", journal_anchor))
    if meta:
        conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta)
