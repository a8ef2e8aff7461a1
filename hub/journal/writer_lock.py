"""The journal has one writer: a lock that says which process it is.

The ``Journal`` chains each row after the one it appended last, which it keeps in
memory: a second process appending to the same file would take the seq the first one
is about to use, and every later append of the first would fail. So opening a journal
for appending takes an exclusive ``flock`` on a lock file beside it
(``<journal>.lock``), held until the journal closes. A second hub, or a command that
appends while the hub runs (``ecrin register handover``), is refused at once with a
``JournalLocked`` naming the file, instead of breaking the running hub's journal.

Readers take no lock: ``ecrin status``, ``journal tail`` and the coverage log read
on read-only connections beside a running hub. The kernel drops the lock when the
process ends, so a hub killed with SIGKILL leaves nothing to clean up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from hub.journal.errors import JournalError
from hub.private_files import lock_private

__all__ = ["JournalLocked", "WriterLock", "lock_path"]


class JournalLocked(JournalError):
    """Another process (a running hub) appends to this journal."""


def lock_path(journal: Path) -> Path:
    """The lock file of a journal: ``<journal>.lock`` beside it."""
    return journal.with_name(journal.name + ".lock")


class WriterLock:
    """An exclusive, non-blocking ``flock`` on a journal's lock file.

    Args:
        journal: the journal file (the lock file is ``lock_path(journal)``).
    """

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.path = lock_path(journal)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """This object holds the lock now."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or fail at once.

        Raises:
            JournalLocked: another process holds it.
            JournalError: the lock file cannot be created or locked.
        """
        if self._fd is not None:
            return
        try:
            fd = lock_private(self.path)
        except OSError as exc:
            raise JournalError(self.journal, f"cannot lock {self.path.name}: {exc}") from exc
        if fd is None:
            raise JournalLocked(
                self.journal,
                "another process appends to it (a running hub): it has one writer",
            )
        self._fd = fd

    def release(self) -> None:
        """Let the lock go (nothing when not held)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
