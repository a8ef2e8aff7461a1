"""The journal open for appending and sealing: the ``Journal`` class.

One SQLite connection is owned by one dedicated writer thread (a ``SqliteWriter``), so
the event loop never waits on the disk and appends never interleave:

* WAL mode with ``synchronous=FULL``: a row is on disk when ``append`` returns. The
  WAL is copied back into the file by a ``WalCheckpointer`` in a thread of its own,
  not inside an append (see there why).
* A hold-up that arrives while a batch is being written joins that batch's
  transaction (``append(join=...)``) instead of waiting for its commit and then
  making its own.

Sealing (``Journal.seal``): after a hold-up, the escalation engine seals the incident's
segment: a row in the ``seals`` table names the incident, the first and last seq of the
segment and the chain hash at its last row, written by the same writer thread so it
sits exactly between two appends. The engine keeps a copy of each seal in its outbox, a
second file: rewriting the journal from the incident on then disagrees with a record
outside it. The segment's first row is found in memory (``_RowTimes``), not by reading
the journal back: a seal follows every hold-up, and must not hold the writer thread
while the next hold-up waits to be journaled.

A journal whose chain is broken still opens: the break is logged in one line, appends
continue, and ``ecrin journal verify`` keeps reporting the break.

The file is created ``0600`` whatever the umask, and an existing one with wider
permissions is tightened (``hub.private_files``); the head of the chain is kept in the
anchor file beside it (``hub.journal.anchor``), off the write path.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from hub.events import Event
from hub.journal.anchor import AnchorKeeper, JournalAnchor, anchor_path
from hub.journal.chain import (
    _SCHEMA,
    _SEALS_SCHEMA,
    GENESIS_HASH,
    _insert,
    _Row,
    canonical_payload,
    chain_hash,
)
from hub.journal.checkpoint import WalCheckpointer
from hub.journal.errors import JournalError, JournalQuarantined, _oserror, _sqlite_error
from hub.journal.reading import JournalSeal, _anchor, _read_meta
from hub.journal.rowtimes import _micros, _RowTimes, _stored_micros
from hub.journal.verify import VerifyResult, _verify_until
from hub.journal.writer_lock import WriterLock
from hub.private_files import create_private, make_private
from hub.sqlite_writer import SqliteFile, SqliteWriter, create_schema, write_transaction

#: The journal's logger, whichever of its modules logs: installers grep for it.
log = logging.getLogger("hub.journal")

#: How many of the last rows a seal looks through for the start of its incident window.
SEAL_HORIZON = 100_000


class Journal(SqliteFile):
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
        identity: the journal's ``meta.created`` value, what anchors name it by (set
            on open).
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
        self.identity = ""
        self.open_check: asyncio.Task[VerifyResult | None] | None = None
        self._writer = SqliteWriter(
            "journal-writer", lambda: JournalError(self.path, "the journal is not open")
        )
        self._conn: sqlite3.Connection | None = None
        self._next_seq = 1
        self._prev_hash = GENESIS_HASH
        # The last row written and its hash, one tuple so that the loop reads a pair the
        # writer thread set together.
        self._head: tuple[int, str] = (0, GENESIS_HASH)
        self._anchors = AnchorKeeper(anchor_path(self.path))
        self._row_times = _RowTimes(SEAL_HORIZON)
        self._checkpointer: WalCheckpointer = WalCheckpointer(self.path)
        self._stop_check = threading.Event()
        self._lock = WriterLock(self.path)

    @property
    def last_seq(self) -> int:
        """The seq of the last row appended (0 for an empty journal)."""
        return self._next_seq - 1

    @property
    def head(self) -> JournalAnchor:
        """The last row written, its hash and the journal's identity: what the outbox
        records with each escalation change (cheap: read from memory)."""
        seq, hash_ = self._head
        return JournalAnchor(self.identity, seq, hash_)

    async def open(self) -> None:
        """Open (or create) the file; ``__aenter__`` calls this.

        Raises:
            JournalError: one line naming the file and the cause; ``corrupt`` tells
                whether the file itself is unusable.
        """
        if self._writer.running:
            return
        self._stop_check.clear()
        self._writer.start()
        try:
            await self._writer.call(self._open_sync)
        except BaseException:
            self._writer.stop()
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
        self._lock.acquire()  # one writer: refused while another process appends
        try:
            self._open_locked(path)
        except BaseException:
            self._lock.release()
            raise

    def _open_locked(self, path: Path) -> None:
        try:
            create_private(path, "journal")
        except OSError as exc:
            raise _oserror(path, "cannot make the file private (0600)", exc) from exc
        try:
            conn = WalCheckpointer.connect(path, self.busy_timeout)
        except sqlite3.Error as exc:
            raise _sqlite_error(path, "cannot open", exc) from exc
        try:
            has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if not has_tables:
                create_schema(conn, _SCHEMA, datetime.now(UTC).isoformat())
            meta = _read_meta(conn, path)
            conn.executescript(f"BEGIN IMMEDIATE;{_SEALS_SCHEMA}COMMIT;")
            last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            make_private(path, "journal")  # a -wal or -shm an earlier hub left wider
        except OSError as exc:
            conn.close()
            raise _oserror(path, "cannot make the file private (0600)", exc) from exc
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
        self.identity = meta.get("created", "")
        # The anchor names a row the file holds: the last one, not the meta anchor's
        # seq, which a deleted tail leaves without a row.
        self._head = (int(last[0]), str(last[1])) if last is not None else (0, GENESIS_HASH)
        self._anchors = AnchorKeeper(anchor_path(path))
        self._anchors.write(self.head)
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

    async def write_anchor(self) -> None:
        """Write the anchor file now, with the current head (see ``hub.journal.anchor``);
        an error is logged, not raised."""
        await asyncio.to_thread(self._anchors.write, self.head)

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
        return await self._writer.call(lambda: self._append_sync(batch, encoded, join))

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
            # BEGIN may wait for a lock: what arrives meanwhile joins this transaction.
            with write_transaction(conn):
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
                    "INSERT OR REPLACE INTO meta (key, value)"
                    " VALUES ('last_seq', ?), ('last_hash', ?)",
                    (str(seq - 1), prev),
                )
        except sqlite3.Error as exc:
            raise _sqlite_error(self.path, "append failed", exc) from exc
        self._next_seq, self._prev_hash = seq, prev
        self._head = (seq - 1, prev)
        self._checkpointer.committed(conn, urgent=urgent)
        if not urgent:  # the head a hold-up left is written by the next ordinary append
            self._anchors.note(self.head)
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
        return await self._writer.call(lambda: self._seal_sync(incident, since))

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
            with write_transaction(conn):
                conn.execute(
                    "INSERT INTO seals (incident, sealed_at, first_seq, last_seq, hash)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (incident, sealed_at, first_seq, last_seq, last_hash),
                )
        except sqlite3.Error as exc:
            raise _sqlite_error(self.path, "seal failed", exc) from exc
        self._checkpointer.committed(conn)
        return JournalSeal(incident, sealed_at, first_seq, last_seq, last_hash)

    async def close(self) -> None:
        """Stop the background check and close the connection; safe to call twice."""
        if not self._writer.running:
            return
        self._stop_check.set()
        if self.open_check is not None:
            await asyncio.gather(self.open_check, return_exceptions=True)
        await super().close()

    def _close_sync(self) -> None:
        was_open = self._conn is not None
        try:
            super()._close_sync()
            self._anchors.close()
            if was_open:
                self._anchors.write(self.head)  # the head a hold-up left, at a clean stop
        finally:
            self._lock.release()
