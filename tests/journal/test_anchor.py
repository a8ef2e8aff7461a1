"""The journal's chain anchored outside its file: an emptied, deleted, older or other
journal is set aside at start, the fresh journal says so first, and ``ecrin journal
verify`` does not call it intact."""

from __future__ import annotations

import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.app import Hub
from hub.events import CameraAvailability, Event
from hub.journal import (
    Journal,
    JournalQuarantined,
    chain_hash,
    journal_verify_main,
    open_or_quarantine,
    read_entries,
    verify_journal,
)
from hub.testing import EventRecorder
from tests.escalation.conftest import load, plugin_manager, write_config

T0 = datetime(2024, 12, 24, 17, 30, tzinfo=UTC)
ECRIN = [sys.executable, "-m", "hub.cli"]
ENV = dict(os.environ, ECRIN_LOAD_PLUGINS="sim,panels", PYTHONUNBUFFERED="1")

SHOP = """\
site:
  name: Bijouterie Ancre
  address: 5 rue de la Paix, 75002 Paris
  departement: "75"
  timezone: Europe/Paris
zones:
  - {id: comptoir, name: Comptoir, risk: high}
devices:
  - id: panel
    type: sim-panel
    settings: {interval: 0.1, holdup_zone: 1}
    zones: {1: {zone: comptoir, type: holdup}}
journal:
  path: journal.db
"""


def events(n: int, start: int = 0) -> list[Event]:
    return [
        CameraAvailability(time=T0 + timedelta(seconds=i), camera=f"cam{i % 3}", state="online")
        for i in range(start, start + n)
    ]


def verify(db: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    anchor = Path(extra[0]) if extra else None
    code = journal_verify_main(db, out, err, anchor=anchor)
    return code, out.getvalue(), err.getvalue()


async def make_journal(path: Path, *batches: int) -> None:
    """A journal written by the hub's own opener, one open per batch (as restarts)."""
    done = 0
    for n in batches:
        async with open_or_quarantine(path, verify_on_open=False) as journal:
            await journal.append(events(n, done))
        done += n


def first_event(path: Path) -> Event:
    return read_entries(path, 1, 1)[0].event()


def aside(path: Path) -> list[Path]:
    found = path.parent.glob(f"{path.name}.corrupt-*")
    return sorted(p for p in found if not p.name.endswith(("-wal", "-shm")))


# -- ecrin run, as the issue shows it -----------------------------------------------------------
def run_hub_once(directory: Path) -> subprocess.CompletedProcess[str]:
    """``ecrin run`` until it is running, then SIGTERM: a clean start and stop."""
    proc = subprocess.Popen(
        [*ECRIN, "run", "-c", str(directory / "shop.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=directory,
    )
    try:
        assert proc.stdout is not None
        assert "running for" in proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def cli_verify(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ECRIN, "journal", "verify", "--db", str(db)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=False,
    )


def test_an_emptied_journal_is_set_aside_at_start_and_never_verifies_intact(
    tmp_path: Path,
) -> None:
    (tmp_path / "shop.yaml").write_text(SHOP)
    db = tmp_path / "journal.db"
    run_hub_once(tmp_path)
    rows = len(read_entries(db))
    assert rows >= 2  # HubStarted, HubStopping at least
    os.truncate(db, 0)  # truncate -s 0
    emptied = cli_verify(db)
    assert emptied.returncode == 1, emptied.stdout + emptied.stderr
    assert "intact" not in emptied.stdout
    second = run_hub_once(tmp_path)
    errors = [line for line in second.stderr.splitlines() if "level=error" in line]
    assert any("logger=hub.journal" in line and str(db) in line for line in errors)
    (moved,) = aside(db)
    assert moved.stat().st_size == 0  # the file as found, kept
    notice = first_event(db)
    assert isinstance(notice, JournalQuarantined)
    assert (notice.path, notice.expected_rows) == (str(moved), rows)
    assert cli_verify(db).returncode == 0  # the fresh journal, whose first row says why


# -- in process: older copies, other files, deletion --------------------------------------------
async def test_an_older_copy_of_the_journal_is_set_aside(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    await make_journal(db, 10)
    old = tmp_path / "old.db"
    shutil.copy(db, old)
    await make_journal(db, 10)  # the hub ran on; 20 rows now
    shutil.copy(old, db)  # the older copy put back
    assert verify_journal(db).ok  # on its own, a shorter chain that holds
    code, out, _err = verify(db)
    assert code == 1
    assert "shorter than its anchor: the anchor records 20 rows, the file holds 10" in out
    async with open_or_quarantine(db, verify_on_open=False) as journal:
        notice = journal.quarantined
    assert notice is not None
    (moved,) = aside(db)
    assert moved.read_bytes() == old.read_bytes()
    assert (notice.path, notice.expected_rows) == (str(moved), 20)
    assert first_event(db) == notice
    assert verify(db)[0] == 0


async def test_another_journal_in_its_place_is_set_aside(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    await make_journal(db, 5)
    other = tmp_path / "other" / "journal.db"
    await make_journal(other, 30)  # longer, and sound on its own
    shutil.copy(other, db)
    code, out, _err = verify(db)
    assert code == 1
    assert "not the journal its anchor names" in out
    async with open_or_quarantine(db, verify_on_open=False) as journal:
        assert journal.quarantined is not None
        assert journal.quarantined.expected_rows == 5
    assert len(aside(db)) == 1


async def test_a_rewritten_row_at_the_anchor_is_set_aside(tmp_path: Path) -> None:
    """The whole chain recomputed from an edited row, meta anchor included: the file
    verifies on its own, not against the anchor kept outside it."""
    db = tmp_path / "journal.db"
    await make_journal(db, 8)
    conn = sqlite3.connect(db)
    try:
        conn.execute("DROP TRIGGER events_no_update")
        rows = conn.execute("SELECT seq, payload, prev_hash FROM events ORDER BY seq").fetchall()
        prev = rows[0][2]
        for seq, payload, _link in rows:
            text = payload.replace("online", "offline") if seq == 4 else payload
            digest = chain_hash(prev, seq, text)
            conn.execute(
                "UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (text, prev, digest, seq),
            )
            prev = digest
        conn.execute("UPDATE meta SET value = ? WHERE key = 'last_hash'", (prev,))
        conn.commit()
    finally:
        conn.close()
    assert verify_journal(db).ok
    code, out, _err = verify(db)
    assert (code, out) == (
        1,
        f"{db}: row 8: diverges from its anchor (its hash is not the anchored one:"
        " rewritten, or replaced by another copy)\n",
    )
    async with open_or_quarantine(db, verify_on_open=False) as journal:
        assert journal.quarantined is not None


async def test_a_deleted_journal_is_reported_first_in_the_fresh_one(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    await make_journal(db, 7)
    db.unlink()
    async with open_or_quarantine(db, verify_on_open=False) as journal:
        notice = journal.quarantined
    assert notice is not None
    assert (notice.path, notice.expected_rows) == ("", 7)
    assert first_event(db) == notice


async def test_a_journal_that_grew_past_its_anchor_opens_as_it_is(tmp_path: Path) -> None:
    """An anchor is a lower bound: rows written after it (the hub was killed before the
    next anchor write) are not a problem."""
    db = tmp_path / "journal.db"
    await make_journal(db, 3)
    anchor_text = (tmp_path / "journal.db.anchor").read_text()
    await make_journal(db, 4)
    (tmp_path / "journal.db.anchor").write_text(anchor_text)  # as if never rewritten
    async with open_or_quarantine(db, verify_on_open=False) as journal:
        assert journal.quarantined is None
        assert journal.last_seq == 7
    assert aside(db) == []


async def test_the_anchor_file_follows_the_journal_and_is_private(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with Journal(db, verify_on_open=False) as journal:
        await journal.append(events(3))
        head = journal.head
    code, out, _err = verify(db)
    assert (code, out) == (0, f"{db}: intact, 3 rows; its anchor holds (row 3)\n")
    assert head.seq == 3
    assert (tmp_path / "journal.db.anchor").stat().st_mode & 0o777 == 0o600
    assert read_entries(db, 3, 3)[0].hash == head.hash


def test_verify_with_an_anchor_file_named(tmp_path: Path) -> None:
    code, out, err = verify(tmp_path / "journal.db", str(tmp_path / "missing.anchor"))
    assert (code, out) == (2, "")
    assert "missing.anchor: no such anchor file" in err
    bad = tmp_path / "bad.anchor"
    bad.write_text("{not json")
    code, out, err = verify(tmp_path / "journal.db", str(bad))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1


# -- the outbox's anchor ------------------------------------------------------------------------
async def test_journal_and_anchor_file_replaced_together_fail_the_outbox_anchor(
    tmp_path: Path,
) -> None:
    """The outbox records the journal's head with each escalation change; a journal put
    back together with its anchor file from an older copy is still set aside."""
    config = load(write_config(tmp_path, {}, journal="journal.db"))
    db = config.journal.path
    async with Hub(config, plugin_manager(), serve_http=False):
        pass
    saved = tmp_path / "saved"
    saved.mkdir()
    for name in ("journal.db", "journal.db.anchor"):
        shutil.copy(tmp_path / name, saved / name)
    async with Hub(config, plugin_manager(), serve_http=False) as hub:
        seen = EventRecorder()
        hub.bus.subscribe(CameraAvailability, seen.handle)
        hub.emit(events(1)[0])
        await seen.wait_for(CameraAvailability)  # published: so journaled
    for name in ("journal.db", "journal.db.anchor"):
        shutil.copy(saved / name, tmp_path / name)
    assert verify(db)[0] == 0  # the file and its anchor agree: only the outbox knows
    async with Hub(config, plugin_manager(), serve_http=False) as hub:
        assert hub.journal is not None
        notice = hub.journal.quarantined
    assert notice is not None
    assert "shorter than its anchor" in notice.reason
    assert first_event(db) == notice
    # The outbox's anchor, not updated before a crash, does not set the fresh one aside.
    async with Hub(config, plugin_manager(), serve_http=False) as hub:
        assert hub.journal is not None
        assert hub.journal.quarantined is None
    assert len(aside(db)) == 1


async def test_a_fresh_journal_passes_the_outbox_anchor_of_the_one_it_replaced(
    tmp_path: Path,
) -> None:
    """Killed after the journal was set aside and before the outbox recorded the fresh
    one: the outbox's anchor still names the old journal, which the fresh one's first
    row says it replaced."""
    db = tmp_path / "journal.db"
    async with Journal(db, verify_on_open=False) as journal:
        await journal.append(events(6))
        stale = journal.head
    os.truncate(db, 0)
    async with open_or_quarantine(db, verify_on_open=False, anchors=[stale]) as journal:
        assert journal.quarantined is not None
        assert journal.quarantined.replaced == stale.journal
    async with open_or_quarantine(db, verify_on_open=False, anchors=[stale]) as journal:
        assert journal.quarantined is None
    assert len(aside(db)) == 1
