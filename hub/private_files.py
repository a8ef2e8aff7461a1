"""Files that hold evidence or personal data: created 0600, whatever the umask.

The journal, the escalation outbox, their ``-wal`` and ``-shm`` files, the journal's
anchor and the copies set aside by a quarantine hold alarms, hold-ups, names of
referents and webhook bodies. Another account on the machine has no business reading
them. A process umask (``022`` by default, ``000`` in some service managers) would
make a file SQLite creates world-readable (SQLite creates files ``0644``), so each
such file is made here first, ``0600``, and SQLite opens it. SQLite gives the ``-wal``
and ``-shm`` files it creates the mode of the main file, so they follow.

A file found with wider permissions (made by an earlier hub, or copied by hand) is
tightened to ``0600`` with one warning rather than refused: refusing would stop the
hub from journaling and escalating, which is worse than the exposure the warning
reports and that the tightening ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import tempfile
from pathlib import Path
from typing import Final

__all__ = [
    "PRIVATE_MODE",
    "SIDE_SUFFIXES",
    "create_private",
    "lock_private",
    "make_private",
    "tighten",
    "write_private",
]

log = logging.getLogger("hub.files")

#: Owner read and write, nothing for group and others.
PRIVATE_MODE: Final = 0o600
#: The files SQLite keeps beside a database in WAL mode.
SIDE_SUFFIXES: Final = ("-wal", "-shm")


def tighten(path: Path, what: str) -> bool:
    """Give an existing file mode ``0600`` if group or others have any access to it.

    Args:
        path: the file (nothing happens when it does not exist).
        what: what it is, for the warning ("journal", "outbox").

    Returns:
        True when the mode was changed (one warning is logged, naming the file and
        both modes).

    Raises:
        OSError: the file could not be examined or changed (not its owner).
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if not mode & 0o077:
        return False
    os.chmod(path, PRIVATE_MODE)
    log.warning(
        "%s %s was readable or writable by other accounts (mode %04o): set to %04o",
        what,
        path,
        mode,
        PRIVATE_MODE,
    )
    return True


def create_private(path: Path, what: str) -> None:
    """Make sure ``path`` exists with mode ``0600`` before SQLite opens it.

    A missing file is created empty (SQLite takes an empty file for a new database)
    with ``0600`` set explicitly, so the umask cannot widen it; an existing one, and
    its ``-wal`` and ``-shm`` files, are tightened (see ``tighten``).

    Raises:
        OSError: the file could not be created, examined or changed.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        make_private(path, what)
        return
    try:
        os.fchmod(fd, PRIVATE_MODE)
    finally:
        os.close(fd)


def make_private(path: Path, what: str) -> None:
    """Tighten ``path`` and its ``-wal`` and ``-shm`` files to ``0600`` (see ``tighten``).

    Raises:
        OSError: a file could not be examined or changed.
    """
    tighten(path, what)
    for suffix in SIDE_SUFFIXES:
        tighten(path.with_name(path.name + suffix), what)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, mode ``0600`` whatever the umask, replacing it whole.

    For what a command hands a user (a coverage report names the shop's cameras, its
    weak hours and its hold-ups; a register export, whom recordings were given to): it
    is written beside the target, flushed and renamed, so a write cut short never
    replaces a good file and no other account reads it meanwhile.

    Raises:
        OSError: the file could not be written.
    """
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        os.fchmod(fd, PRIVATE_MODE)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def lock_private(path: Path) -> int | None:
    """Take the exclusive lock of ``path`` (a lock file, created ``0600``) for this
    process: the one-writer rule of the journal and of the coverage log. Returns the
    descriptor that holds it (close it to let go), or None at once when another
    process holds it.

    Raises:
        OSError: the lock file cannot be created or locked.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd
