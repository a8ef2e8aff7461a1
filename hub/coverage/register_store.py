"""The register's own file, ``register.sqlite``: the hand-overs to the prosecutor.

The recordings and their destruction dates are computed from the coverage log and the
configuration each time (``hub.coverage.register``); what nothing else knows is the
hand-overs, so they are stored here, beside the journal, in a file created ``0600``
(whom recordings were given to is personal data). Rows are only added: a trigger
refuses an update or a delete, as the journal's seals do.

A hand-over is recorded inside a transaction that the caller commits once the
journal has its ``RecordingsHandedOver`` event (``RegisterStore.recording``): the
register and the journal never disagree about a hand-over.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Final
from urllib.parse import quote

from hub.coverage.register import HandOver
from hub.private_files import create_private

__all__ = ["REGISTER_FILE", "RegisterError", "RegisterStore", "read_handovers"]

#: The register's file name, in the journal's directory.
REGISTER_FILE: Final = "register.sqlite"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS handovers (
    id          INTEGER PRIMARY KEY,
    camera      TEXT NOT NULL,
    start       TEXT NOT NULL,
    end         TEXT NOT NULL,
    to_whom     TEXT NOT NULL,
    reference   TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS handovers_no_update BEFORE UPDATE ON handovers
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER IF NOT EXISTS handovers_no_delete BEFORE DELETE ON handovers
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
"""


class RegisterError(Exception):
    """The register's file cannot be opened, read or written; one line naming it."""

    def __init__(self, path: Path, cause: str) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path


def _row(row: tuple[object, ...]) -> HandOver:
    id_, camera, start, end, to_whom, reference, recorded_at = row
    return HandOver(
        id=int(str(id_)),
        camera=str(camera),
        start=datetime.fromisoformat(str(start)),
        end=datetime.fromisoformat(str(end)),
        to_whom=str(to_whom),
        reference=str(reference),
        recorded_at=datetime.fromisoformat(str(recorded_at)),
    )


_SELECT: Final = (
    "SELECT id, camera, start, end, to_whom, reference, recorded_at FROM handovers ORDER BY id"
)


def read_handovers(path: Path) -> list[HandOver]:
    """Every hand-over in the register at ``path``, by number; empty when there is no
    register yet. Read on a read-only connection.

    Raises:
        RegisterError: the file exists but is not a readable register.
    """
    if not path.is_file():
        return []
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            return [_row(r) for r in conn.execute(_SELECT)]
        finally:
            conn.close()
    except (sqlite3.Error, ValueError) as exc:
        raise RegisterError(path, f"cannot read the register: {exc}") from exc


class RegisterStore:
    """The register file, open for recording hand-overs (a command's, not the hub's).

    Args:
        path: ``register.sqlite`` in the journal's directory; created ``0600``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def recording(
        self,
        camera: str,
        start: datetime,
        end: datetime,
        to_whom: str,
        reference: str,
        recorded_at: datetime,
    ) -> Iterator[HandOver]:
        """Add a hand-over, committed when the block ends without an exception.

        The block does what must happen with it (journal the event): if it raises,
        the hand-over is not recorded.

        Raises:
            RegisterError: the file cannot be created, opened or written.
        """
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            cursor = conn.execute(
                "INSERT INTO handovers (camera, start, end, to_whom, reference, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    camera,
                    start.isoformat(),
                    end.isoformat(),
                    to_whom,
                    reference,
                    recorded_at.isoformat(),
                ),
            )
            number = cursor.lastrowid
            assert number is not None
            handover = HandOver(number, camera, start, end, to_whom, reference, recorded_at)
            try:
                yield handover
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise RegisterError(self.path, f"cannot record the hand-over: {exc}") from exc
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            create_private(self.path, "register")
        except OSError as exc:
            raise RegisterError(self.path, f"cannot create the file 0600: {exc}") from exc
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=5.0)
        except sqlite3.Error as exc:
            raise RegisterError(self.path, f"cannot open the register: {exc}") from exc
        try:
            conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
        except sqlite3.Error as exc:
            conn.close()
            raise RegisterError(self.path, f"cannot open the register: {exc}") from exc
        return conn
