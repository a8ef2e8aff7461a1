"""Scene preservation: the journal sealed, the recordings kept, evidence-destroying
configuration refused until a referent or an installer releases the scene. And the
hub, which starts the engine before any device."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.app import Hub
from hub.bus import EventBus
from hub.escalation.config import contact_of
from hub.escalation.scene import EvidenceSettings, SceneGuard, SceneLocked
from hub.journal import Journal, read_entries, read_seals
from hub.recorder import Recorder
from hub.testing import wait_until
from tests.escalation.conftest import (
    SITE,
    Receiver,
    engine_for,
    load,
    plugin_manager,
    write_config,
)
from tests.escalation.support import alarm

CAMERAS_SHORTER = SITE.split("cameras:", maxsplit=1)[1].replace(
    "retention_days: 20", "retention_days: 7"
)
CAMERAS_FEWER = (
    "\n".join(
        line
        for line in SITE.split("cameras:", maxsplit=1)[1].splitlines()
        if "cam-vitrine" not in line
    )
    + "\n"
)


def urls(receivers: dict[str, Receiver]) -> dict[str, str | None]:
    return {name: r.url for name, r in receivers.items()}


def test_guard_refuses_only_what_destroys_evidence() -> None:
    before = EvidenceSettings({"cam-a": 30, "cam-b": 20}, "/var/lib/ecrin/journal.db")
    held = SceneGuard(lambda: ["esc-1"])
    assert held.check_config_change(before, before) == []
    longer = EvidenceSettings({"cam-a": 31, "cam-b": 20, "cam-new": 5}, before.journal)
    assert held.check_config_change(before, longer) == []
    worse = EvidenceSettings({"cam-a": 7}, "/tmp/journal.db")
    reasons = held.check_config_change(before, worse)
    assert len(reasons) == 3
    assert reasons[0].startswith("camera cam-a: retention may not go from 30 to 7 days")
    assert reasons[1].startswith("camera cam-b may not be removed")
    assert reasons[2].startswith("the journal may not move")
    assert all("esc-1" in r for r in reasons)
    assert SceneGuard(list).check_config_change(before, worse) == []
    assert EvidenceSettings.from_json(before.to_json()) == before
    assert before.fingerprint != worse.fingerprint


async def test_holdup_seals_the_journal_segment(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = load(write_config(tmp_path, urls(receivers)))
    bus = EventBus()
    async with (
        Journal(config.journal.path) as journal,
        Recorder(journal, bus) as recorder,
        engine_for(config, bus, journal=journal, plugins=plugin_manager()) as running,
    ):
        recorder.emit(alarm(now=True))
        await receivers["referent-37"].wait_for()
        (esc,) = running.list(running.contacts()[0])

        def sealed() -> bool:
            scene = running.scene(esc.id)
            return scene is not None and scene.seal is not None

        await wait_until(sealed)
        scene = running.scene(esc.id)
    await bus.close()
    assert scene is not None
    assert scene.cameras == ("cam-comptoir",)
    (seal,) = read_seals(config.journal.path)
    assert seal.incident == esc.id
    rows = read_entries(config.journal.path)
    holdup_row = next(r for r in rows if r.type == "AlarmSignal")
    # The segment covers the hold-up, and the seal holds the chain hash at its end,
    # with a copy in the outbox (a second file).
    assert seal.first_seq <= holdup_row.seq <= seal.last_seq
    assert rows[seal.last_seq - 1].hash == seal.hash
    assert scene.seal == seal.to_dict()


async def test_evidence_destroying_config_is_refused_until_the_scene_is_released(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    original = load(write_config(tmp_path, urls(receivers)))
    shorter = load(write_config(tmp_path, urls(receivers), cameras="cameras:" + CAMERAS_SHORTER))
    fewer = load(write_config(tmp_path, urls(receivers), cameras="cameras:" + CAMERAS_FEWER))
    moved = load(write_config(tmp_path, urls(receivers), journal="elsewhere.db"))
    referent = contact_of(original, "referent-37")
    assert referent is not None
    async with engine_for(original, plugins=plugin_manager()) as running:
        await running.handle(alarm())
        (esc,) = running.list(referent)
        assert (
            running.check_config_change(EvidenceSettings.of(shorter.cameras, shorter.journal.path))
            != []
        )
    for changed in (shorter, fewer, moved):
        with pytest.raises(SceneLocked) as refused:
            async with engine_for(changed, plugins=plugin_manager()):
                pass
        assert esc.id in str(refused.value)
    # The hub still runs on the configuration it had, and the scene is released there.
    async with engine_for(original, plugins=plugin_manager()) as running:
        await running.release_scene(referent, esc.id)
    async with engine_for(shorter, plugins=plugin_manager()) as running:
        assert running.preserved_scenes() == []


async def test_the_hub_starts_the_engine_before_its_devices(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = load(write_config(tmp_path, urls(receivers)))
    async with Hub(config, plugin_manager()) as hub:
        assert hub.escalation is not None
        hub.emit(alarm(now=True))
        (request,) = await receivers["referent-37"].wait_for()
    assert request.data["kind"] == "holdup"


async def test_a_hub_refused_by_the_scene_guard_does_not_start(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    original = load(write_config(tmp_path, urls(receivers)))
    async with Hub(original, plugin_manager()) as hub:
        hub.emit(alarm(now=True))
        await receivers["referent-37"].wait_for()
    moved = load(write_config(tmp_path, urls(receivers), journal="elsewhere.db"))
    hub = Hub(moved, plugin_manager())
    with pytest.raises(SceneLocked):
        await hub.__aenter__()
    assert hub.recorder is None
    # What was opened before the refusal was closed again: the original starts fine.
    async with Hub(original, plugin_manager()) as again:
        assert again.escalation is not None
