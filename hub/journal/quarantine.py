"""Setting an unusable file aside, so that the hub keeps journaling.

``open_or_quarantine`` is how the hub opens its journal: a file that is not a journal
(random bytes, a damaged SQLite file, another program's database) is renamed out of the
way, never deleted (its bytes are evidence), and a fresh journal starts whose first
entry records that. The escalation outbox sets its own unusable files aside with
``quarantine_file`` too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from hub.journal.errors import JournalError, JournalQuarantined, _oserror
from hub.journal.store import Journal

#: The journal's logger, whichever of its modules logs: installers grep for it.
log = logging.getLogger("hub.journal")


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
