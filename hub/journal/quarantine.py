"""Setting an unusable file aside, so that the hub keeps journaling.

``open_or_quarantine`` is how the hub opens its journal: a file that is not a journal
(random bytes, a damaged SQLite file, another program's database), or one that fails
its anchor (emptied, deleted, replaced by an older copy or another file: see
``hub.journal.anchor``), is renamed out of the way, never deleted (its bytes are
evidence), and a fresh journal starts whose first entry records that. The escalation
outbox sets its own unusable files aside with ``quarantine_file`` too. Copies set
aside are ``0600``, like the files they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hub.journal.anchor import JournalAnchor, anchor_path, anchor_problem, read_anchor
from hub.journal.errors import JournalError, JournalQuarantined, _oserror, _sqlite_error
from hub.journal.reading import _reading
from hub.journal.store import Journal
from hub.private_files import make_private

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
    try:
        make_private(target, "file set aside")
    except OSError as exc:
        log.error("%s: set aside, but its permissions could not be tightened: %s", target, exc)
    return target


@dataclass(frozen=True, slots=True)
class _Failed:
    """A journal that fails one of its anchors: the anchor, and why."""

    anchor: JournalAnchor
    reason: str


def _check_anchors(path: Path, anchors: Sequence[JournalAnchor]) -> _Failed | None:
    """The first of ``anchors`` the journal at ``path`` fails, or None.

    A file that cannot be read as a journal is left to the open, which sets it aside
    as unusable.
    """
    for anchor in anchors:
        if not path.exists():
            if anchor.seq > 0:
                return _Failed(anchor, f"missing: its anchor records {anchor.seq} rows (deleted)")
            continue
        try:
            if path.stat().st_size == 0:
                if anchor.seq > 0:
                    return _Failed(
                        anchor,
                        f"empty: its anchor records {anchor.seq} rows (emptied or truncated)",
                    )
                continue
        except OSError:
            return None
        try:
            with _reading(path) as conn:
                try:
                    reason = anchor_problem(conn, anchor)
                except sqlite3.Error as exc:
                    raise _sqlite_error(path, "cannot read", exc) from exc
        except JournalError:
            return None
        if reason is not None:
            return _Failed(anchor, reason)
    return None


def _known_anchors(path: Path, extra: Sequence[JournalAnchor]) -> list[JournalAnchor]:
    """The anchor file's anchor (an unreadable one is reported and skipped), then
    ``extra``."""
    found: list[JournalAnchor] = []
    try:
        own = read_anchor(anchor_path(path))
    except JournalError as exc:
        log.error("journal %s: its anchor cannot be used: %s", path, exc)
        own = None
    if own is not None:
        found.append(own)
    found.extend(extra)
    return found


@contextlib.asynccontextmanager
async def open_or_quarantine(
    path: Path,
    *,
    busy_timeout: float = 5.0,
    verify_on_open: bool = True,
    anchors: Sequence[JournalAnchor] = (),
) -> AsyncIterator[Journal]:
    """Open the hub's journal, setting an unusable file aside instead of failing.

    On a file that is not a journal (random bytes, a damaged SQLite file, another
    program's database), or that fails an anchor (the anchor file beside it, then
    ``anchors``), it logs one error line, renames the file with ``quarantine_file``,
    and opens a fresh journal whose first entry is a ``JournalQuarantined`` event
    (also kept on ``journal.quarantined`` so the hub can publish it as a fault).

    Args:
        path: the journal file.
        busy_timeout: as for ``Journal``.
        verify_on_open: as for ``Journal``.
        anchors: anchors recorded elsewhere (the outbox's), checked after the anchor
            file's.

    Raises:
        JournalError: for everything a rename does not cure (a directory that cannot be
            written, a journal from a newer hub): the hub then runs without a journal.
    """
    path = Path(path)
    known = await asyncio.to_thread(_known_anchors, path, anchors)
    failed = await asyncio.to_thread(_check_anchors, path, known) if known else None
    journal = Journal(path, busy_timeout=busy_timeout, verify_on_open=verify_on_open)
    notice: JournalQuarantined | None = None
    if failed is not None:
        moved = await asyncio.to_thread(quarantine_file, path) if path.exists() else None
        log.error(
            "journal %s %s: %s; a fresh journal starts",
            path,
            failed.reason,
            f"set aside as {moved.name}" if moved is not None else "nothing to set aside",
        )
        notice = JournalQuarantined(
            path=str(moved) if moved is not None else "",
            reason=failed.reason,
            expected_rows=failed.anchor.seq,
            expected_hash=failed.anchor.hash,
            replaced=failed.anchor.journal,
        )
    else:
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
            expected = known[0] if known else None
            notice = JournalQuarantined(
                path=str(moved),
                reason=exc.cause,
                expected_rows=expected.seq if expected is not None else 0,
                expected_hash=expected.hash if expected is not None else "",
                replaced=expected.journal if expected is not None else "",
            )
            journal = Journal(path, busy_timeout=busy_timeout, verify_on_open=verify_on_open)
    if notice is not None:
        await journal.open()
        try:
            await journal.append([notice])
        except BaseException:
            await journal.close()
            raise
        journal.quarantined = notice
        await journal.write_anchor()
    try:
        yield journal
    finally:
        await journal.close()
