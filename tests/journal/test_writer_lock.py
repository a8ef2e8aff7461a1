"""The journal has one writer: a second one, in this process or another, is refused
at once and the first one's journal goes on; the lock goes with the writer."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.events import HubStarted
from hub.journal import Journal, JournalError, JournalLocked, lock_path, read_entries

T0 = datetime(2026, 3, 10, 9, tzinfo=UTC)


async def test_a_second_writer_is_refused_and_the_first_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    async with Journal(path, verify_on_open=False) as first:
        await first.append([HubStarted(time=T0, site="a")])
        second = Journal(path, verify_on_open=False)
        with pytest.raises(JournalLocked, match="another process appends to it"):
            await second.open()
        await first.append([HubStarted(time=T0, site="b")])
    assert [e.seq for e in read_entries(path)] == [1, 2]
    assert stat.S_IMODE(lock_path(path).stat().st_mode) == 0o600


async def test_the_lock_is_let_go_when_the_journal_closes(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    async with Journal(path, verify_on_open=False) as journal:
        await journal.append([HubStarted(time=T0, site="a")])
    async with Journal(path, verify_on_open=False) as journal:
        await journal.append([HubStarted(time=T0, site="b")])
    assert [e.seq for e in read_entries(path)] == [1, 2]


async def test_a_journal_that_fails_to_open_lets_the_lock_go(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    path.write_bytes(b"not a journal at all, some other file" * 100)
    with pytest.raises(JournalError, match=r"journal\.db"):
        await Journal(path, verify_on_open=False).open()
    path.unlink()
    async with Journal(path, verify_on_open=False) as journal:
        await journal.append([HubStarted(time=T0, site="a")])
