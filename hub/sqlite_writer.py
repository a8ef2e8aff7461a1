"""The one thread that owns an SQLite file's writing connection.

The journal and the escalation outbox each write an SQLite file for the event loop. A
commit with ``synchronous=FULL`` waits for an ``fsync``, so it must not run on the loop;
and an SQLite connection must not be used by two threads at once. So each file gets
one dedicated thread, started when the file opens and ended when it closes, that makes,
uses and closes the connection: calls run one at a time, in the order they were made,
and one write never interleaves with another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["SqliteWriter"]

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
