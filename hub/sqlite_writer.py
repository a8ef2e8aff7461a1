"""The one thread that owns an SQLite file's writing connection.

The journal and the escalation outbox each write an SQLite file for the event loop. A
commit with ``synchronous=FULL`` waits for an ``fsync``, so it must not run on the loop;
and an SQLite connection must not be used by two threads at once. So each file gets
one dedicated thread, started when the file opens and ended when it closes, that makes,
uses and closes the connection: calls run one at a time, in the order they were made,
and one write never interleaves with another. ``SqliteFile`` is what the two files
share on top of it: closing in that thread, and ``async with``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from types import TracebackType
from typing import Protocol, Self, TypeVar

__all__ = ["SqliteFile", "SqliteWriter", "create_schema", "write_transaction"]

T = TypeVar("T")


class SqliteWriter:
    """A single worker thread for one SQLite file, run from the event loop.

    Args:
        name: the thread's name prefix (``journal-writer``), as thread dumps show it.
        not_open: makes the error ``call`` raises while the thread is not running, so
            that each file reports it in its own terms (its path, its error type).
    """

    def __init__(self, name: str, not_open: Callable[[], Exception]) -> None:
        self.name = name
        self._not_open = not_open
        self._executor: ThreadPoolExecutor | None = None

    @property
    def running(self) -> bool:
        """The thread was started and not stopped since."""
        return self._executor is not None

    def start(self) -> None:
        """Start the thread (nothing when it runs already)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=self.name)

    async def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in the thread, after the calls made before, and return its result.

        Raises:
            Exception: what ``fn`` raised, or the ``not_open`` error when the thread is
                not running.
        """
        executor = self._executor
        if executor is None:
            raise self._not_open()
        return await asyncio.get_running_loop().run_in_executor(executor, fn)

    def stop(self) -> None:
        """Let the thread end once the calls already made are done, without waiting for
        them; later calls fail until ``start``. Safe to call twice."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE``, the block, ``COMMIT``: all of it or nothing.

    Whatever the block raises (an SQLite error, or anything else) rolls the transaction
    back before it propagates, so the connection is never left inside a half-written
    transaction; the caller turns an ``sqlite3.Error`` into its own error, naming its
    file and what it was doing.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def create_schema(conn: sqlite3.Connection, schema: str, created: str) -> None:
    """Give a fresh file its tables and its ``meta`` row ``created`` (an ISO time), in
    one transaction: a file is either empty or whole. ``schema`` must create ``meta``
    (``key``, ``value``), as the journal's and the outbox's do."""
    conn.executescript(
        f"BEGIN IMMEDIATE;{schema}"
        f"INSERT INTO meta (key, value) VALUES ('created', '{created}');COMMIT;"
    )


class _Checkpointer(Protocol):
    def close(self) -> None: ...


class SqliteFile:
    """An SQLite file written through one ``SqliteWriter``: what the journal and the
    outbox share about closing it, and their ``async with``.

    A subclass sets ``_writer``, ``_conn`` (made in the writer thread) and
    ``_checkpointer``, and implements ``open``.
    """

    _writer: SqliteWriter
    _conn: sqlite3.Connection | None
    _checkpointer: _Checkpointer

    async def open(self) -> None:
        """Open (or create) the file; ``__aenter__`` calls this."""
        raise NotImplementedError

    async def close(self) -> None:
        """Close the checkpointer and the connection, in the writer thread that made
        the connection, then end that thread; safe to call twice."""
        if not self._writer.running:
            return
        try:
            await self._writer.call(self._close_sync)
        finally:
            self._writer.stop()

    def _close_sync(self) -> None:
        self._checkpointer.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
