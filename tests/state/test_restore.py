"""The registry restored from a real journal written by a real hub run, and the hub
that starts again on it; ``ecrin status`` on the same journal."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.app import Hub
from hub.cli import main
from hub.config import Config, load_config
from hub.events import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraDetection,
    CameraMotion,
    CameraRecording,
    Event,
    HubStarted,
    LinkLost,
    PanelState,
)
from hub.journal import Journal, JournalError
from hub.state import CameraAttributes, StateRegistry, restore_from_journal
from hub.testing import EventRecorder
from tests.test_hub import fast, manager, write_shop


def registry_for(config: Config) -> StateRegistry:
    return StateRegistry(
        zone_maps={d.id: d.zone_map for d in config.devices},
        cameras=[c.id for c in config.cameras],
    )


async def run_once(config: Config) -> StateRegistry:
    """Run the demo devices until a hold-up and a camera came, and a few events of our
    own; return the live registry once the hub has stopped."""
    pm = manager()
    async with Hub(config, pm, backoff=fast) as hub:
        rec = EventRecorder()
        hub.bus.subscribe(AlarmSignal, rec.handle)
        hub.bus.subscribe(CameraAvailability, rec.handle)
        hub.bus.subscribe(LinkLost, rec.handle)
        hub.bus.subscribe(CameraDetection, rec.handle)
        hub.emit(PanelState(device="vault", partition=2, state="armed_away", ready=False))
        hub.emit(LinkLost(device="vault", reason="silence for 90 s"))
        hub.emit(AlarmSignal(kind=AlarmKind.BURGLARY, device="vault", zone="entree", panel_zone=7))
        # A camera of every kind of report (not configured: heard of all the same).
        hub.emit(CameraAvailability(camera="cam-nvr", state="online"))
        hub.emit(CameraAvailability(camera="cam-nvr", state="online", role="record"))
        hub.emit(CameraRecording(camera="cam-nvr", recording=False))
        hub.emit(CameraMotion(camera="cam-nvr", active=True))
        hub.emit(
            CameraDetection(
                camera="cam-nvr", detection="d1", label="person", phase="new", zones=("entree",)
            )
        )
        hub.emit(CameraAvailability(camera="cam-nvr", state="offline", reason="NVR last will"))
        await rec.wait_for(AlarmSignal, lambda e: e.kind is AlarmKind.HOLDUP)
        await rec.wait_for(CameraAvailability)
        await rec.wait_for(LinkLost)
        await rec.wait_for(CameraDetection)
        await hub.recorder.flush()  # type: ignore[union-attr]
        await hub.bus.drain()
    return hub.state


async def test_a_restored_registry_equals_the_live_one(tmp_path: Path) -> None:
    config = load_config(
        write_shop(tmp_path), manager().device_types(), manager().config_sections()
    )
    live = await run_once(config)
    assert live.get("partition:vault:2").state == "armed_away"  # type: ignore[union-attr]
    assert live.get("link:vault").state == "down"  # type: ignore[union-attr]
    # Heard from (the simulated camera goes on and off line: either, never unknown).
    assert live.get("camera:cam").state in ("online", "offline")  # type: ignore[union-attr]
    nvr = live.get("camera:cam-nvr")
    assert nvr is not None
    assert (nvr.state, nvr.attributes) == (
        "offline",
        CameraAttributes(
            covering=False,
            recording=False,
            motion=True,
            roles=(("", "offline"), ("record", "online")),
            reason="NVR last will",
            detection="person",
            detection_zones=("entree",),
            detected_at=nvr.attributes.detected_at,  # type: ignore[union-attr]
        ),
    )
    restored = registry_for(config)
    result = restore_from_journal(restored, config.journal.path)
    assert result.rows > 0
    assert result.skipped == 0
    assert restored.states() == live.states()


async def test_a_hub_starts_again_with_the_state_it_had(tmp_path: Path) -> None:
    config = load_config(
        write_shop(tmp_path), manager().device_types(), manager().config_sections()
    )
    live = await run_once(config)
    async with Hub(config, manager(), backoff=fast) as hub:
        # The restore runs beside the start-up (a hold-up never waits for it).
        await asyncio.wait_for(hub.state_restored.wait(), 30)
        partition = hub.state.get("partition:vault:2")
        link = hub.state.get("link:vault")
        entree = hub.state.get("zone:entree")
        nvr = hub.state.get("camera:cam-nvr")
        # The recording switch came back with the camera: the record role alone does
        # not say the camera records again.
        hub.emit(CameraAvailability(camera="cam-nvr", state="online"))
        await hub.recorder.flush()  # type: ignore[union-attr]
        await hub.bus.drain()
        back = hub.state.camera_status("cam-nvr")
    assert (back.state, back.recording, back.covering) == ("online", False, False)
    assert partition == live.get("partition:vault:2")
    assert link == live.get("link:vault")
    assert nvr == live.get("camera:cam-nvr")
    assert nvr is not None
    assert nvr.attributes.recording is False  # type: ignore[union-attr]
    assert entree is not None
    assert (entree.state, entree.attributes.kind) == ("alarm", "burglary")  # type: ignore[union-attr]


def test_a_fresh_registry_knows_nothing_but_its_cameras(tmp_path: Path) -> None:
    config = load_config(
        write_shop(tmp_path), manager().device_types(), manager().config_sections()
    )
    registry = registry_for(config)
    assert [(s.entity_id, s.state) for s in registry.states()] == [("camera:cam", "unknown")]
    with pytest.raises(JournalError):
        restore_from_journal(registry, tmp_path / "none.db")


# -- ecrin status -------------------------------------------------------------------------------
async def test_ecrin_status_prints_the_restored_state(tmp_path: Path) -> None:
    shop = write_shop(tmp_path)
    config = load_config(shop, manager().device_types(), manager().config_sections())
    live = await run_once(config)
    out, err = io.StringIO(), io.StringIO()
    assert main(["status", "-c", str(shop), "--json"], out, err) == 0, err.getvalue()
    document = json.loads(out.getvalue())
    assert document == {"entities": [s.to_dict() for s in live.states()]}
    out = io.StringIO()
    assert main(["status", "-c", str(shop)], out, err) == 0
    lines = out.getvalue().splitlines()
    assert any(
        line.startswith("link:vault") and " down " in line and 'reason="silence for 90 s"' in line
        for line in lines
    ), lines
    (nvr,) = [line for line in lines if line.startswith("camera:cam-nvr ")]
    assert " offline " in nvr
    assert (
        "covering=False recording=False motion=True roles=camera:offline,record:online"
        ' reason="NVR last will" detection=person detection_zones=entree detected_at='
    ) in nvr
    assert lines[-1].startswith(f"{config.journal.path}: ")


def test_ecrin_status_exit_codes(tmp_path: Path) -> None:
    shop = write_shop(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    # No journal yet: the command cannot run.
    assert main(["status", "-c", str(shop)], out, err) == 2
    assert "no such file" in err.getvalue()
    # Not a journal: invalid input.
    sqlite3.connect(tmp_path / "journal.db").execute("CREATE TABLE x (y)").connection.commit()
    err = io.StringIO()
    assert main(["status", "-c", str(shop)], out, err) == 1
    assert "not an Écrin journal" in err.getvalue()
    # A configuration with an error: invalid input, FILE:LINE:COLUMN.
    bad = tmp_path / "bad.yaml"
    bad.write_text(shop.read_text().replace("timezone: Europe/Paris", "timezone: Mars/Olympus"))
    err = io.StringIO()
    assert main(["status", "-c", str(bad)], out, err) == 1
    assert err.getvalue().startswith(f"{bad}:")
    # No configuration file: cannot run.
    assert main(["status", "-c", str(tmp_path / "none.yaml")], out, io.StringIO()) == 2


async def test_ecrin_status_as_a_process(tmp_path: Path) -> None:
    shop = write_shop(tmp_path)
    config = load_config(shop, manager().device_types(), manager().config_sections())
    await run_once(config)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hub.cli", "status", "-c", str(shop), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"ECRIN_LOAD_PLUGINS": "sim", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    ids = [e["entity_id"] for e in json.loads(done.stdout)["entities"]]
    assert "partition:vault:2" in ids
    assert "camera:cam" in ids


async def test_a_merge_keeps_what_was_heard_live_and_takes_the_rest() -> None:
    from datetime import UTC, datetime, timedelta

    from hub.events import LinkRestored

    t0 = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    restored = StateRegistry(cameras=["cam"])
    restored.apply(LinkLost(time=t0, device="bridge", reason="silence"))
    restored.apply(PanelState(time=t0, device="vault", state="armed_away"))
    restored.apply(CameraAvailability(time=t0, camera="cam", state="online"))
    live = StateRegistry(cameras=["cam", "cam2"])
    feed = live.listen()
    live.apply(LinkRestored(time=t0 + timedelta(seconds=5), device="bridge"))
    live.merge(restored)
    assert live.get("link:bridge").state == "up"  # type: ignore[union-attr]
    assert live.get("partition:vault:1").state == "armed_away"  # type: ignore[union-attr]
    assert live.get("camera:cam").state == "online"  # type: ignore[union-attr]
    assert live.get("camera:cam2").state == "unknown"  # type: ignore[union-attr]
    assert live.armed("vault", 1) is True
    feed.close()
    assert "partition:vault:1" in [c.entity_id async for c in feed]


@dataclass(frozen=True, slots=True, kw_only=True)
class Retired(Event):
    """An event of a plugin that is later uninstalled."""

    device: str


async def test_rows_of_unknown_types_are_skipped_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hub.events

    path = tmp_path / "journal.db"
    async with Journal(path) as journal:
        await journal.append(
            [
                Retired(device="old"),
                LinkLost(device="bridge", reason="silence"),
                HubStarted(site="Bijouterie"),
            ]
        )
    monkeypatch.delitem(hub.events._REGISTRY, "Retired")
    registry = StateRegistry()
    result = restore_from_journal(registry, path)
    assert (result.rows, result.applied, result.skipped, result.last_seq) == (3, 1, 1, 3)
    assert [s.entity_id for s in registry.states()] == ["device:bridge", "link:bridge"]
