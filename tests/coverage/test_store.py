"""The coverage file on disk: written from a real journal, read back while written,
private, locked against a rebuild, and ``ecrin coverage rebuild``'s errors."""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.cli import main
from hub.coverage import (
    CoverageBusy,
    CoverageError,
    CoverageLog,
    CoverageWriter,
    coverage_path,
    rebuild,
)
from hub.coverage.model import Interval
from hub.events import CameraAvailability, CameraRecording, Event, HubAlive, HubStopping
from hub.journal import Journal

T0 = datetime(2026, 5, 31, 8, 0, tzinfo=UTC)  # Fête des mères, a Sunday morning
CAMERAS = {"cam-a": ("comptoir",)}
ZONES = ("comptoir",)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def day() -> list[Event]:
    return [
        HubAlive(started=T0, time=at(0)),
        CameraAvailability(camera="cam-a", state="online", time=at(1)),
        CameraRecording(camera="cam-a", recording=True, time=at(2)),
        CameraAvailability(camera="cam-a", state="offline", reason="NVR last will", time=at(30)),
        CameraAvailability(camera="cam-a", state="online", time=at(35)),
        HubAlive(started=T0, time=at(60)),
    ]


async def journal_of(path: Path, *batches: list[Event]) -> Path:
    async with Journal(path) as journal:
        for events in batches:
            await journal.append(events)
    return path


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


async def test_the_file_is_private_and_its_intervals_come_back_clipped_and_filtered(
    tmp_path: Path, umask_000: None
) -> None:
    journal = await journal_of(tmp_path / "journal.db", day())
    path = coverage_path(journal)
    writer = CoverageWriter(path, CAMERAS, ZONES)
    try:
        done = writer.catch_up(journal)
    finally:
        writer.close()
    assert (done.rows, done.events) == (6, 6)
    assert path.stat().st_mode & 0o777 == 0o600
    log = CoverageLog(path)
    assert log.span() == (at(0), at(60))
    assert log.intervals(at(20), at(40), subject="comptoir") == [
        Interval("comptoir", "coverage", "covered", at(20), at(30)),
        Interval("comptoir", "coverage", "gap", at(30), at(35), "camera offline (cam-a)"),
        # still open: it ends at the last moment the hub was known alive, clipped here
        Interval("comptoir", "coverage", "covered", at(35), at(40)),
    ]
    assert log.intervals(at(0), at(60), kind="recording") == [
        Interval("cam-a", "recording", "unknown", at(0), at(2)),
        Interval("cam-a", "recording", "on", at(2), at(60)),
    ]
    assert log.intervals(at(40), at(40)) == []
    assert log.intervals(at(61), at(90)) == []


async def test_a_reader_sees_whole_batches_while_the_writer_goes_on(tmp_path: Path) -> None:
    journal = await journal_of(tmp_path / "journal.db", day())
    path = coverage_path(journal)
    writer = CoverageWriter(path, CAMERAS, ZONES)
    try:
        writer.catch_up(journal)
        before = CoverageLog(path).intervals(at(0), at(999))
        await journal_of(journal, [HubStopping(site="s", time=at(70))])
        assert writer.catch_up(journal).events == 1
        after = CoverageLog(path).intervals(at(0), at(999))
    finally:
        writer.close()
    assert before[-1].end == at(60)
    assert max(i.end for i in after) == at(70)
    # resumed from its cursor: nothing applied twice
    reopened = CoverageWriter(path, CAMERAS, ZONES)
    try:
        assert reopened.catch_up(journal).rows == 0
    finally:
        reopened.close()
    assert CoverageLog(path).intervals(at(0), at(999)) == after


async def test_a_rebuild_is_refused_while_the_hub_writes_the_log(tmp_path: Path) -> None:
    journal = await journal_of(tmp_path / "journal.db", day())
    path = coverage_path(journal)
    writer = CoverageWriter(path, CAMERAS, ZONES)
    try:
        with pytest.raises(CoverageBusy, match="stop the hub first"):
            rebuild(journal, path, CAMERAS, ZONES)
        rebuild(journal, tmp_path / "elsewhere.sqlite", CAMERAS, ZONES)  # -o: allowed
    finally:
        writer.close()
    rebuild(journal, path, CAMERAS, ZONES)
    assert CoverageLog(path).intervals(at(0), at(99)) == CoverageLog(
        tmp_path / "elsewhere.sqlite"
    ).intervals(at(0), at(99))


async def test_a_log_made_for_other_cameras_is_made_afresh(tmp_path: Path) -> None:
    journal = await journal_of(tmp_path / "journal.db", day())
    path = coverage_path(journal)
    writer = CoverageWriter(path, CAMERAS, ZONES)
    writer.catch_up(journal)
    writer.close()
    moved = {"cam-a": ("vitrine",)}
    writer = CoverageWriter(path, moved, ("comptoir", "vitrine"))
    try:
        assert writer.cursor == 0
        writer.catch_up(journal)
    finally:
        writer.close()
    covered = CoverageLog(path).intervals(at(0), at(60), kind="coverage", subject="vitrine")
    assert [i.state for i in covered] == ["gap", "gap", "covered", "gap", "covered"]
    assert CoverageLog(path).intervals(at(0), at(60), subject="comptoir")[0].cause == (
        "no camera films it"
    )


async def test_a_new_journal_is_followed_from_its_first_row(tmp_path: Path) -> None:
    journal = await journal_of(tmp_path / "journal.db", day())
    path = coverage_path(journal)
    writer = CoverageWriter(path, CAMERAS, ZONES)
    try:
        writer.catch_up(journal)
        journal.unlink()
        later = [HubAlive(started=at(100), time=at(100)), HubStopping(site="s", time=at(110))]
        await journal_of(journal, later)
        assert writer.catch_up(journal).events == 2
    finally:
        writer.close()
    down = CoverageLog(path).intervals(at(0), at(200), subject="comptoir")
    assert [(i.state, i.end) for i in down][-2:] == [("gap", at(100)), ("gap", at(110))]


def test_a_missing_or_foreign_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CoverageError, match="no such file"):
        CoverageLog(tmp_path / "coverage.sqlite").span()
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).executescript("CREATE TABLE meta (key TEXT, value TEXT);")
    with pytest.raises(CoverageError, match="not a coverage log"):
        CoverageLog(other).intervals(at(0), at(1))


SHOP = """\
site:
  name: Bijouterie Registre
  address: 1 place du Marché, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {id: comptoir, name: Comptoir, risk: high}
cameras:
  - id: cam-a
    type: sim-camera
    zones: [comptoir]
    placement: indoor
{coverage}journal:
  path: journal.db
"""


def shop(tmp_path: Path, coverage: str = "") -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP.replace("{coverage}", coverage))
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def only_sim_and_coverage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECRIN_LOAD_PLUGINS", "sim,coverage")


async def test_rebuild_replaces_the_log_and_says_what_it_read(
    tmp_path: Path, only_sim_and_coverage: None
) -> None:
    path = shop(tmp_path)
    await journal_of(tmp_path / "journal.db", day())
    code, out, err = run("coverage", "rebuild", "-c", str(path))
    assert code == 0, err
    assert "rebuilt from 6 journal rows (6 camera and hub events)" in out
    assert CoverageLog(tmp_path / "coverage.sqlite").span() == (at(0), at(60))


def test_rebuild_errors(tmp_path: Path, only_sim_and_coverage: None) -> None:
    code, _, err = run("coverage", "rebuild", "-c", str(tmp_path / "nope.yaml"))
    assert (code, err) == (2, f"{tmp_path / 'nope.yaml'}: no such file\n")
    path = shop(tmp_path)
    code, _, err = run("coverage", "rebuild", "-c", str(path))
    assert code == 2
    assert "no such journal" in err
    bad = shop(tmp_path, "coverage:\n  heartbeat_seconds: 0\n  enable: false\n")
    code, _, err = run("coverage", "rebuild", "-c", str(bad))
    assert code == 1
    assert "shop.yaml:14:22: coverage.heartbeat_seconds: 0 is below the minimum 1" in err
    assert "shop.yaml:15:3: coverage.enable: unknown key; did you mean 'enabled'?" in err


async def test_rebuild_refuses_while_the_hub_runs(
    tmp_path: Path, only_sim_and_coverage: None
) -> None:
    path = shop(tmp_path)
    journal = await journal_of(tmp_path / "journal.db", day())
    writer = CoverageWriter(coverage_path(journal), {"cam-a": ("comptoir",)}, ("comptoir",))
    try:
        code, _, err = run("coverage", "rebuild", "-c", str(path))
    finally:
        writer.close()
    assert code == 2
    assert "the running hub writes it: stop the hub first" in err
