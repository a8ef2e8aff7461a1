"""The files that hold evidence and personal data are 0600, whatever the umask: the
journal, the outbox, their -wal and -shm, the anchor and the copies set aside."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.escalation.outbox import Outbox, OutboxBatch
from hub.events import CameraAvailability
from hub.journal import Journal, open_or_quarantine

T0 = datetime(2024, 12, 24, 17, 30, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


async def test_journal_outbox_and_their_side_files_are_created_private(
    tmp_path: Path, umask: int
) -> None:
    db, outbox_path = tmp_path / "journal.db", tmp_path / "outbox.db"
    async with (
        open_or_quarantine(db, verify_on_open=False) as journal,
        Outbox(outbox_path) as outbox,
    ):
        await journal.append([CameraAvailability(time=T0, camera="cam", state="online")])
        await outbox.commit(OutboxBatch(meta={"k": "v"}))
        # While the hub runs, SQLite keeps the -wal and -shm beside each file (the
        # anchor's temporary file, while a write is under way, is left out: it comes
        # and goes, and is made 0600 before anything is written to it).
        names = [
            f"{base}{suffix}"
            for base in ("journal.db", "outbox.db")
            for suffix in ("", "-wal", "-shm")
        ]
        modes = {name: mode(tmp_path / name) for name in names}
        assert modes == dict.fromkeys(names, 0o600)
        assert mode(tmp_path / "journal.db.anchor") == 0o600


async def test_copies_set_aside_are_private(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "journal.db"
    db.write_bytes(b"not a journal" * 100)
    db.chmod(0o644)
    async with open_or_quarantine(db, verify_on_open=False) as journal:
        assert journal.quarantined is not None
        moved = Path(journal.quarantined.path)
    assert moved.read_bytes() == b"not a journal" * 100
    assert mode(moved) == 0o600
    assert mode(db) == 0o600


async def test_files_left_readable_by_others_are_tightened_on_open(tmp_path: Path) -> None:
    db, outbox_path = tmp_path / "journal.db", tmp_path / "outbox.db"
    async with Journal(db, verify_on_open=False), Outbox(outbox_path):
        pass
    for path in (db, outbox_path, tmp_path / "journal.db.anchor"):
        path.chmod(0o664)
    async with Journal(db, verify_on_open=False), Outbox(outbox_path):
        assert (mode(db), mode(outbox_path)) == (0o600, 0o600)
        for side in ("journal.db-wal", "journal.db-shm", "outbox.db-wal", "outbox.db-shm"):
            assert mode(tmp_path / side) == 0o600
    assert mode(tmp_path / "journal.db.anchor") == 0o600  # replaced by a private one
