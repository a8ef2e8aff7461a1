"""The evidence journal: hash chain, tamper detection, quarantine, readers and commands."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.events import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    Event,
    LinkLost,
    PanelState,
)
from hub.journal import (
    FORMAT_VERSION,
    GENESIS_HASH,
    Journal,
    JournalError,
    JournalQuarantined,
    canonical_payload,
    chain_hash,
    iter_payloads,
    journal_tail_main,
    journal_verify_main,
    open_or_quarantine,
    read_entries,
    tail,
    verify_journal,
)

T0 = datetime(2024, 12, 24, 17, 30, tzinfo=UTC)


def sample_events(n: int, start: int = 0) -> list[Event]:
    """A varied, deterministic stream: panel alarms, hold-ups, camera and link events."""
    out: list[Event] = []
    for i in range(start, start + n):
        time = T0 + timedelta(seconds=i)
        match i % 5:
            case 0:
                out.append(
                    AlarmSignal(
                        time=time,
                        kind=AlarmKind.BURGLARY,
                        device="panel",
                        panel_zone=i % 8,
                        code="130",
                        protocol="contact-id",
                        raw=f"frame {i}".encode(),
                    )
                )
            case 1:
                out.append(
                    AlarmSignal(time=time, kind=AlarmKind.HOLDUP, device="bridge", zone="counter")
                )
            case 2:
                out.append(CameraAvailability(time=time, camera="cam1", state="online"))
            case 3:
                out.append(PanelState(time=time, device="panel", state="armed_away", text="ARMED"))
            case _:
                out.append(LinkLost(time=time, device="panel", reason=f"silence for {i} s"))
    return out


async def make_journal(path: Path, batches: list[list[Event]]) -> list[int]:
    seqs: list[int] = []
    async with Journal(path) as journal:
        for batch in batches:
            seqs += await journal.append(batch)
    return seqs


def set_aside(directory: Path) -> list[Path]:
    """The quarantined main files in ``directory`` (not their -wal/-shm companions)."""
    return sorted(p for p in directory.glob("*.corrupt-*") if not p.name.endswith(("-wal", "-shm")))


def names(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def tamper(path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    """Edit the file the way someone with the sqlite3 shell would: drop the guards first."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
async def journal_100(tmp_path: Path) -> Path:
    path = tmp_path / "journal.db"
    events = sample_events(100)
    await make_journal(path, [events[:1], events[1:40], events[40:]])
    return path


# -- the chain ----------------------------------------------------------------------------
async def test_chain_intact_after_many_appends_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    events = sample_events(250)
    first = await make_journal(path, [events[:1], events[1:100]])
    async with Journal(path) as journal:
        assert journal.last_seq == 100
        second = [
            seq for batch in (events[100:101], events[101:]) for seq in await journal.append(batch)
        ]
        assert journal.open_check is not None
        check = await journal.open_check
    assert check is not None
    assert check.ok
    assert first + second == list(range(1, 251))
    result = verify_journal(path)
    assert result.ok, result.reason
    assert (result.rows, result.first_bad_seq, result.reason) == (250, None, "intact")
    entries = read_entries(path)
    assert [e.event() for e in entries] == events
    assert entries[0].prev_hash == GENESIS_HASH
    assert [e.life_safety for e in entries] == [e.life_safety for e in events]


async def test_rows_follow_the_published_recipe(journal_100: Path) -> None:
    # What docs/journal.md tells a third party to do, with SQLite's own || operator.
    conn = sqlite3.connect(journal_100)
    rows = conn.execute(
        "SELECT seq, prev_hash || seq || payload, prev_hash, hash, payload FROM events ORDER BY seq"
    ).fetchall()
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    conn.close()
    prev = "0" * 64
    for seq, text, link, stored, payload in rows:
        assert link == prev
        assert hashlib.sha256(text.encode()).hexdigest() == stored
        assert payload.isascii()
        assert json.loads(payload)["type"] in {
            "AlarmSignal",
            "CameraAvailability",
            "PanelState",
            "LinkLost",
        }
        prev = stored
        assert chain_hash(link, seq, payload) == stored
    assert meta["format"] == str(FORMAT_VERSION)
    assert (meta["last_seq"], meta["last_hash"]) == ("100", prev)


async def test_readers_see_rows_while_the_journal_is_open(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    events = sample_events(30)
    async with Journal(path) as journal:
        await journal.append(events[:10])
        assert [e.seq for e in tail(path, 3)] == [8, 9, 10]
        await journal.append(events[10:])
        assert [e.event() for e in tail(path, 5)] == events[-5:]
        assert [e.seq for e in read_entries(path, 12, 14)] == [12, 13, 14]
        assert [e.seq for e in read_entries(path, 25, limit=2)] == [25, 26]
        assert verify_journal(path).ok


async def test_payloads_are_read_for_the_types_asked_only(journal_100: Path) -> None:
    every = list(iter_payloads(journal_100))
    assert [seq for seq, _, _ in every] == list(range(1, 101))
    some = list(iter_payloads(journal_100, 5, 40, types={"LinkLost", "CameraAvailability"}))
    assert [seq for seq, _, _ in some] == list(range(5, 41))
    for (seq, type_, payload), (_, _, text) in zip(some, every[4:40], strict=True):
        wanted = type_ in {"LinkLost", "CameraAvailability"}
        assert payload == (text if wanted else ""), seq
    assert {t for _, t, p in some if p} == {"LinkLost", "CameraAvailability"}


async def test_empty_journal_is_intact(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "journal.db"
    async with Journal(path):
        pass
    assert verify_journal(path) == verify_journal(path)
    assert verify_journal(path).ok
    assert verify_journal(path).rows == 0
    assert tail(path) == []


async def test_triggers_refuse_edits_and_deletes(journal_100: Path) -> None:
    conn = sqlite3.connect(journal_100)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET payload = '{}' WHERE seq = 3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events WHERE seq = 100")
    conn.close()
    assert verify_journal(journal_100).ok


async def test_value_json_cannot_hold_is_kept_as_its_repr(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    odd = LinkLost(time=T0, device="panel", reason=object())  # type: ignore[arg-type]
    async with Journal(path) as journal:
        assert await journal.append([odd]) == [1]
    [entry] = tail(path)
    assert entry.data()["reason"].startswith("<object object at")
    assert verify_journal(path).ok


# -- tamper detection ---------------------------------------------------------------------
async def test_edited_payload_is_named(journal_100: Path) -> None:
    [row] = read_entries(journal_100, 57, 57)
    edited = row.payload.replace("T17:", "T18:")
    assert edited != row.payload
    tamper(journal_100, "UPDATE events SET payload = ? WHERE seq = 57", (edited,))
    result = verify_journal(journal_100)
    assert not result.ok
    assert result.first_bad_seq == 57
    assert result.reason == "row 57: hash mismatch (payload edited)"
    assert result.rows == 56


async def test_edited_hash_is_named(journal_100: Path) -> None:
    tamper(journal_100, "UPDATE events SET hash = ? WHERE seq = 20", ("ab" * 32,))
    result = verify_journal(journal_100)
    assert (result.ok, result.first_bad_seq) == (False, 20)
    assert result.reason == "row 20: hash mismatch (hash edited)"


async def test_edited_link_is_named(journal_100: Path) -> None:
    tamper(journal_100, "UPDATE events SET prev_hash = ? WHERE seq = 33", ("cd" * 32,))
    result = verify_journal(journal_100)
    assert (result.ok, result.first_bad_seq) == (False, 33)
    assert "previous-hash field edited" in result.reason


async def test_rewritten_row_with_a_recomputed_hash_is_named(journal_100: Path) -> None:
    [row] = read_entries(journal_100, 42, 42)
    payload = row.payload.replace('"counter"', '"vault"')
    assert payload != row.payload
    new_hash = chain_hash(row.prev_hash, 42, payload)
    tamper(
        journal_100, "UPDATE events SET payload = ?, hash = ? WHERE seq = 42", (payload, new_hash)
    )
    result = verify_journal(journal_100)
    assert (result.ok, result.first_bad_seq) == (False, 42)
    assert result.reason == "row 42: rewritten (its hash is not the link held by row 43)"
    assert "rewritten" in result.reason


async def test_edited_type_column_is_named(journal_100: Path) -> None:
    tamper(journal_100, "UPDATE events SET type = 'CameraMotion' WHERE seq = 2")
    result = verify_journal(journal_100)
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "type column" in result.reason


async def test_deleted_middle_row_is_named(journal_100: Path) -> None:
    tamper(journal_100, "DELETE FROM events WHERE seq = 57")
    result = verify_journal(journal_100)
    assert (result.ok, result.first_bad_seq) == (False, 57)
    assert result.reason == "row 57: missing (deleted)"


async def test_deleted_first_rows_are_named(journal_100: Path) -> None:
    tamper(journal_100, "DELETE FROM events WHERE seq <= 3")
    result = verify_journal(journal_100)
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert result.reason == "rows 1-3: missing (deleted)"


async def test_deleted_last_row_is_caught_by_the_anchor(journal_100: Path) -> None:
    tamper(journal_100, "DELETE FROM events WHERE seq = 100")
    result = verify_journal(journal_100)
    assert (result.ok, result.first_bad_seq) == (False, 100)
    assert "tail was deleted" in result.reason


async def test_edited_last_payload_is_named_through_the_anchor(journal_100: Path) -> None:
    [row] = read_entries(journal_100, 100, 100)
    tamper(
        journal_100,
        "UPDATE events SET payload = ? WHERE seq = 100",
        (row.payload.replace("panel", "other"),),
    )
    result = verify_journal(journal_100)
    assert result.reason == "row 100: hash mismatch (payload edited)"


async def test_deleted_anchor_is_reported(journal_100: Path) -> None:
    tamper(journal_100, "DELETE FROM meta WHERE key = 'last_hash'")
    result = verify_journal(journal_100)
    assert not result.ok
    assert result.first_bad_seq is None
    assert "anchor" in result.reason


async def test_broken_chain_on_open_is_reported_and_appends_continue(journal_100: Path) -> None:
    tamper(journal_100, "DELETE FROM events WHERE seq = 57")
    async with Journal(journal_100) as journal:
        assert journal.open_check is not None
        check = await journal.open_check
        assert check is not None
        assert (check.ok, check.first_bad_seq) == (False, 57)
        assert await journal.append(sample_events(3, start=100)) == [101, 102, 103]
    assert [e.seq for e in tail(journal_100, 3)] == [101, 102, 103]
    result = verify_journal(journal_100)
    assert (result.ok, result.first_bad_seq) == (False, 57)


async def test_a_deleted_tail_stays_visible_after_more_appends(journal_100: Path) -> None:
    # The next append must not paper over the deletion by reusing the freed seqs.
    tamper(journal_100, "DELETE FROM events WHERE seq > 95")
    async with Journal(journal_100) as journal:
        assert await journal.append(sample_events(2, start=100)) == [101, 102]
    result = verify_journal(journal_100)
    assert (result.ok, result.first_bad_seq) == (False, 96)
    assert result.reason == "rows 96-100: missing (deleted)"


async def test_a_rewritten_last_row_stays_visible_after_more_appends(journal_100: Path) -> None:
    [row] = read_entries(journal_100, 100, 100)
    payload = row.payload.replace("panel", "other")
    tamper(
        journal_100,
        "UPDATE events SET payload = ?, hash = ? WHERE seq = 100",
        (payload, chain_hash(row.prev_hash, 100, payload)),
    )
    async with Journal(journal_100) as journal:
        await journal.append(sample_events(1, start=100))
    result = verify_journal(journal_100)
    assert (result.ok, result.first_bad_seq) == (False, 100)
    assert "rewritten" in result.reason


_EDITS = ("payload", "hash", "prev_hash", "time", "type", "life_safety", "delete")
_ROWS = 40


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import asyncio

    path = tmp_path_factory.mktemp("pristine") / "journal.db"
    events = sample_events(_ROWS)
    asyncio.run(make_journal(path, [events[:7], events[7:]]))
    return path


@contextlib.contextmanager
def copy_of(journal: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        for side in journal.parent.glob(journal.name + "*"):
            shutil.copyfile(side, Path(tmp) / side.name)
        yield Path(tmp) / journal.name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seq=st.integers(1, _ROWS),
    edit=st.sampled_from(_EDITS),
    text=st.text(st.characters(codec="ascii"), min_size=1, max_size=80),
)
def test_any_single_edit_or_deletion_is_named(
    pristine: Path, seq: int, edit: str, text: str
) -> None:
    with copy_of(pristine) as path:
        [row] = read_entries(path, seq, seq)
        if edit == "delete":
            tamper(path, "DELETE FROM events WHERE seq = ?", (seq,))
        elif edit == "life_safety":
            tamper(
                path, "UPDATE events SET life_safety = ? WHERE seq = ?", (1 - row.life_safety, seq)
            )
        else:
            if text == getattr(row, edit):
                text += "x"
            tamper(path, f"UPDATE events SET {edit} = ? WHERE seq = ?", (text, seq))
        result = verify_journal(path)
    assert not result.ok
    assert result.first_bad_seq == seq, result.reason
    assert result.reason.startswith(f"row {seq}:")


# -- unusable files --------------------------------------------------------------------------
async def test_random_bytes_raise_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(JournalError) as caught:
        async with Journal(path):
            pass
    assert caught.value.corrupt
    assert str(caught.value).startswith(f"{path}: ")
    assert "not an SQLite database" in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_a_newer_format_is_refused_and_left_in_place(journal_100: Path) -> None:
    conn = sqlite3.connect(journal_100)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'format'", (str(FORMAT_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(JournalError) as caught:
        async with open_or_quarantine(journal_100):
            pass
    assert not caught.value.corrupt
    assert "newer" in caught.value.cause
    assert set_aside(journal_100.parent) == []
    assert "journal.db" in names(journal_100.parent)


async def test_corrupt_file_is_quarantined_and_a_fresh_journal_works(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    garbage = os.urandom(20_000)
    path.write_bytes(garbage)
    async with open_or_quarantine(path) as journal:
        notice = journal.quarantined
        assert notice is not None
        assert await journal.append(sample_events(3)) == [2, 3, 4]
    [moved] = set_aside(tmp_path)
    assert moved.read_bytes() == garbage
    assert notice.path == str(moved)
    assert "not an SQLite database" in notice.reason
    entries = read_entries(path)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    first = entries[0].event()
    assert isinstance(first, JournalQuarantined)
    assert first.path == str(moved)
    assert verify_journal(path).ok


async def test_another_programs_database_is_quarantined_with_its_wal(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    other = sqlite3.connect(path)
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("CREATE TABLE recipes (name TEXT)")
    other.execute("INSERT INTO recipes VALUES ('far breton')")
    other.commit()
    # Keep the connection open so its WAL and shared-memory files exist on disk.
    assert (tmp_path / "journal.db-wal").exists()
    async with open_or_quarantine(path) as journal:
        assert journal.quarantined is not None
        assert "not an Écrin journal" in journal.quarantined.reason
    other.close()
    [moved] = set_aside(tmp_path)
    assert moved.name + "-wal" in names(tmp_path)
    kept = sqlite3.connect(moved)
    assert kept.execute("SELECT name FROM recipes").fetchall() == [("far breton",)]
    kept.close()
    assert verify_journal(path).ok


async def test_two_quarantines_in_the_same_second_keep_both_files(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    for n in range(2):
        path.write_bytes(b"not a journal %d" % n * 100)
        async with open_or_quarantine(path, verify_on_open=False) as journal:
            assert journal.quarantined is not None
        path.unlink()
    kept = sorted(p.read_bytes()[:16] for p in set_aside(tmp_path))
    assert kept == [b"not a journal 0n", b"not a journal 1n"]


async def test_appending_to_a_closed_journal_is_a_journal_error(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    async with journal:
        pass
    with pytest.raises(JournalError, match="not open"):
        await journal.append(sample_events(1))


# -- commands ----------------------------------------------------------------------------------
def run_verify(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = journal_verify_main(path, out, err)
    return code, out.getvalue(), err.getvalue()


async def test_verify_command_exit_codes(journal_100: Path, tmp_path: Path) -> None:
    assert run_verify(journal_100) == (
        0,
        f"{journal_100}: intact, 100 rows; its anchor holds (row 100)\n",
        "",
    )
    tamper(journal_100, "UPDATE events SET payload = replace(payload, 'panel', 'x') WHERE seq = 57")
    assert run_verify(journal_100) == (
        1,
        f"{journal_100}: row 57: hash mismatch (payload edited)\n",
        "",
    )
    code, out, err = run_verify(tmp_path / "missing.db")
    assert (code, out) == (2, "")
    assert err == f"ecrin journal verify: {tmp_path / 'missing.db'}: no such file\n"
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(4096))
    code, out, err = run_verify(junk)
    assert (code, out) == (2, "")
    assert "not an SQLite database" in err
    assert err.count("\n") == 1


async def test_tail_command_text_and_json(journal_100: Path, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert journal_tail_main(journal_100, 3, out, err, as_json=False) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].split() == [
        "98",
        (T0 + timedelta(seconds=97)).isoformat(),
        "CameraAvailability",
        "camera=cam1",
        "state=online",
    ]
    assert "state=armed_away" in lines[1]
    assert 'reason="silence for 99 s"' in lines[2]
    out = io.StringIO()
    assert journal_tail_main(journal_100, 2, out, err, as_json=True) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["seq"] for r in rows] == [99, 100]
    assert rows[1]["event"] == sample_events(1, start=99)[0].to_dict()
    assert err.getvalue() == ""
    err = io.StringIO()
    assert journal_tail_main(tmp_path / "nope.db", 5, io.StringIO(), err, as_json=False) == 2
    assert "no such file" in err.getvalue()


async def test_tail_marks_life_safety_rows(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    await make_journal(path, [sample_events(2)])
    out = io.StringIO()
    journal_tail_main(path, 2, out, io.StringIO(), as_json=False)
    first, second = out.getvalue().splitlines()
    assert "LIFE-SAFETY" not in first
    assert "panel_zone=0" in first  # a zero is a real zone number, not a blank
    assert "restore=false" in first
    assert "user=" not in first  # None says nothing
    assert "AlarmSignal LIFE-SAFETY" in second
    assert "kind=holdup" in second
    assert "zone=counter" in second


def test_canonical_payload_is_sorted_compact_ascii() -> None:
    event = PanelState(time=T0, device="vitrine", state="disarmed", text="Désarmé")
    text = canonical_payload(event)
    assert text.isascii()
    assert " " not in text
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["text"] == "Désarmé"


_ENCODED: list[str] = []


class CountedSignal(AlarmSignal):
    """An alarm signal that notes each time its journal text is made."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        _ENCODED.append(self.device)
        return AlarmSignal.to_dict(self)


def test_a_life_safety_events_text_is_made_once() -> None:
    """The recorder makes a hold-up's text as it arrives; the escalation engine asks
    again on the hold-up's path and must not pay for the encoding twice."""
    made = _ENCODED
    made.clear()
    holdup = CountedSignal(time=T0, device="caisse", kind=AlarmKind.HOLDUP, zone="counter")
    twin = CountedSignal(time=T0, device="caisse", kind=AlarmKind.HOLDUP, zone="counter")
    first = canonical_payload(holdup)
    assert canonical_payload(holdup) is first
    assert made == ["caisse"]
    assert canonical_payload(twin) == first  # an equal event, another object: its own
    assert made == ["caisse", "caisse"]
    burglary = CountedSignal(time=T0, device="vitrine", kind=AlarmKind.BURGLARY)
    assert canonical_payload(burglary) == canonical_payload(burglary)
    assert made[2:] == ["vitrine", "vitrine"]  # ordinary events are not kept
    assert json.loads(first)["type"] == "CountedSignal"


# -- the seal index ------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(-50, 100), st.booleans(), st.integers(0, 2_000)),
        min_size=1,
        max_size=300,
    ),
    horizon=st.integers(1, 40),
)
def test_seal_index_agrees_with_a_scan_of_the_rows(
    steps: list[tuple[int, bool, int]], horizon: int
) -> None:
    """``_RowTimes.last_before`` gives what reading the rows back would: the highest
    seq, within the horizon and at or above ``lowest``, of a row before the time."""
    from hub.journal import _RowTimes

    index = _RowTimes(horizon)
    rows: list[int] = []  # times by seq - 1
    clock = 1_000
    for drift, query, probe in steps:
        clock += drift  # rows come nearly, not strictly, in time order
        rows.append(clock)
        seq = len(rows)
        index.add(seq, clock)
        if query:
            lowest = max(1, seq - horizon + 1)  # as Journal.seal asks it
            micros = clock - 1_000 + probe
            expected = max(
                (s for s in range(lowest, seq + 1) if rows[s - 1] < micros), default=None
            )
            assert index.last_before(micros, lowest) == expected


# -- joining an append, and batches of any size ------------------------------------------


async def test_events_given_by_join_share_the_transaction_and_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    batch = sample_events(10)
    late = [
        AlarmSignal(time=T0 + timedelta(seconds=99), kind=AlarmKind.HOLDUP, device="bridge"),
        AlarmSignal(time=T0 + timedelta(seconds=98), kind=AlarmKind.DURESS, device="keypad"),
    ]
    calls: list[int] = []

    def join() -> list[tuple[Event, str | None]]:
        calls.append(1)
        return [(late[0], canonical_payload(late[0])), (late[1], None)]

    async with Journal(path) as journal:
        seqs = await journal.append(batch, join=join)
        assert seqs == list(range(1, 13))
        assert journal.last_seq == 12
        assert await journal.append(sample_events(3, 10)) == [13, 14, 15]
    assert calls == [1]
    assert [e.event() for e in read_entries(path)][10:12] == late
    assert verify_journal(path).ok


async def test_a_failed_append_writes_nothing_of_what_joined(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    async with Journal(path, busy_timeout=0.05) as journal:
        holdup = AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="bridge")
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(JournalError):
                await journal.append(sample_events(2), join=lambda: [(holdup, None)])
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert await journal.append([holdup]) == [1]
    assert [e.event() for e in read_entries(path)] == [holdup]
    assert verify_journal(path).ok


@pytest.mark.parametrize("size", [1, 2, 3, 7, 255, 256, 257, 511])
async def test_a_batch_of_any_size_is_chained_whole(tmp_path: Path, size: int) -> None:
    path = tmp_path / "journal.db"
    async with Journal(path) as journal:
        assert await journal.append(sample_events(size)) == list(range(1, size + 1))
        assert await journal.append(sample_events(1, size)) == [size + 1]
    assert [e.event() for e in read_entries(path)] == sample_events(size + 1)
    assert verify_journal(path).ok
