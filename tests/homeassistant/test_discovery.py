"""The discovery plan, pure: every entity kind, its topics, config and state payloads,
ids valid by Home Assistant's rules, and which configs found on the broker are kept."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.events import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraRecording,
    Event,
    LinkLost,
    LinkRestored,
    PanelState,
)
from hub.homeassistant import Discovery, Entity, Kind
from hub.state import StateRegistry
from tests.homeassistant.support import discovery_of, load, write_shop

T0 = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
#: Home Assistant's rule for the node id and object id levels of a discovery topic.
HA_ID = re.compile(r"[a-zA-Z0-9_-]+")


@pytest.fixture
def plan(tmp_path: Path) -> Discovery:
    return discovery_of(load(write_shop(tmp_path)))


def registry_after(*events: Event) -> StateRegistry:
    registry = StateRegistry(cameras=["cam-comptoir"])
    for event in events:
        registry.apply(event)
    return registry


def config(plan: Discovery, entity: Entity) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(plan.config(entity))
    return data


def states(plan: Discovery, source: str, registry: StateRegistry) -> dict[str, bytes]:
    entity = plan.entity_for(source)
    assert entity is not None
    return dict(plan.state(entity, registry.get(source)))


def all_entities(plan: Discovery) -> list[Entity]:
    dynamic = [plan.entity_for("partition:centrale:1"), plan.entity_for("partition:centrale:0")]
    dynamic.append(plan.entity_for("link:centrale"))
    return [*plan.entities(), *(e for e in dynamic if e is not None)]


def test_the_configured_entities(plan: Discovery) -> None:
    assert [(e.kind, e.object_id, e.source, e.name) for e in plan.entities()] == [
        (Kind.HOLDUP, "holdup_comptoir", "zone:comptoir", "Hold-up Comptoir de vente"),
        (Kind.HOLDUP, "holdup_vitrine", "zone:vitrine", "Hold-up Vitrine rue"),
        (Kind.CAMERA, "camera_cam-comptoir", "camera:cam-comptoir", "cam-comptoir coverage"),
    ]


def test_partitions_and_links_of_configured_devices_only(plan: Discovery) -> None:
    partition = plan.entity_for("partition:centrale:1")
    whole = plan.entity_for("partition:centrale:0")
    link = plan.entity_for("link:centrale")
    assert partition == Entity(
        Kind.PARTITION, "partition_centrale_1", "partition:centrale:1", "centrale partition 1",
        "centrale",
    )  # fmt: skip
    assert whole is not None
    assert whole.name == "centrale panel"
    assert link == Entity(Kind.LINK, "link_centrale", "link:centrale", "centrale link", "centrale")
    assert plan.entity_for("link:cam-comptoir") is not None  # a camera's link too
    # Nothing else of the registry: not zones as such, not escalations, not devices.
    for source in (
        "partition:gone:1",
        "link:gone",
        "zone:gone",
        "camera:gone",
        "panel_zone:centrale:1",
        "device:centrale",
        "escalation:esc-1",
        "partition:centrale:x",
    ):
        assert plan.entity_for(source) is None, source


def test_ids_and_topics_follow_home_assistants_rules(plan: Discovery) -> None:
    entities = all_entities(plan)
    unique_ids = [config(plan, e)["unique_id"] for e in entities]
    assert len(set(unique_ids)) == len(entities)
    assert len({plan.config_topic(e) for e in entities}) == len(entities)
    for entity in entities:
        prefix, component, node, object_id, last = plan.config_topic(entity).split("/")
        assert (prefix, node, last) == ("homeassistant", "ecrin-tours", "config")
        assert component == entity.component in ("binary_sensor", "sensor")
        assert HA_ID.fullmatch(node)
        assert HA_ID.fullmatch(object_id)
        assert config(plan, entity)["unique_id"] == f"ecrin-tours_{object_id}"
        assert plan.state_topic(entity) == f"ecrin/entities/{object_id}/state"


def test_ids_are_stable(tmp_path: Path) -> None:
    """The same configuration gives the same topics and configs, run after run."""
    first = discovery_of(load(write_shop(tmp_path)))
    again = discovery_of(load(write_shop(tmp_path)))
    assert [first.config(e) for e in all_entities(first)] == [
        again.config(e) for e in all_entities(again)
    ]


def test_every_config_is_tied_to_the_hub_and_takes_no_command(plan: Discovery) -> None:
    for entity in all_entities(plan):
        data = config(plan, entity)
        assert data["availability_topic"] == "ecrin/status"
        assert (data["payload_available"], data["payload_not_available"]) == ("online", "offline")
        assert data["device"] == {
            "identifiers": ["ecrin-tours"],
            "name": "Bijouterie Marchal",
            "model": "Écrin",
            "sw_version": "1.2.3",
        }
        assert data["state_topic"] == plan.state_topic(entity)
        assert not [key for key in data if "command" in key]


def test_a_holdup_entity_is_disabled_until_the_shop_turns_it_on(plan: Discovery) -> None:
    holdup = plan.entity_for("zone:comptoir")
    assert holdup is not None
    data = config(plan, holdup)
    assert data["enabled_by_default"] is False
    assert data["device_class"] == "safety"
    assert "json_attributes_topic" not in data  # ON or OFF, nothing more
    for entity in all_entities(plan):
        if entity.kind is not Kind.HOLDUP:
            assert "enabled_by_default" not in config(plan, entity)


def test_the_other_kinds_configs(plan: Discovery) -> None:
    link = config(plan, plan.entity_for("link:centrale"))  # type: ignore[arg-type]
    partition = config(plan, plan.entity_for("partition:centrale:1"))  # type: ignore[arg-type]
    camera = config(plan, plan.entity_for("camera:cam-comptoir"))  # type: ignore[arg-type]
    assert (link["device_class"], link["payload_on"], link["payload_off"]) == (
        "connectivity",
        "ON",
        "OFF",
    )
    assert "device_class" not in partition  # a plain sensor: any panel word
    assert partition["json_attributes_topic"] == "ecrin/entities/partition_centrale_1/attributes"
    assert camera["json_attributes_topic"] == "ecrin/entities/camera_cam-comptoir/attributes"


def test_holdup_states(plan: Discovery) -> None:
    topic = "ecrin/entities/holdup_comptoir/state"
    holdup = AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir")
    burglary = AlarmSignal(time=T0, kind=AlarmKind.BURGLARY, device="centrale", zone="comptoir")
    duress = AlarmSignal(time=T0, kind=AlarmKind.DURESS, device="centrale", zone="comptoir")
    restore = AlarmSignal(
        time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir", restore=True
    )
    assert states(plan, "zone:comptoir", registry_after()) == {topic: b"OFF"}  # never heard of
    assert states(plan, "zone:comptoir", registry_after(holdup)) == {topic: b"ON"}
    assert states(plan, "zone:comptoir", registry_after(duress)) == {topic: b"ON"}
    assert states(plan, "zone:comptoir", registry_after(burglary)) == {topic: b"OFF"}
    assert states(plan, "zone:comptoir", registry_after(holdup, restore)) == {topic: b"OFF"}


@pytest.mark.parametrize(
    ("events", "state", "attributes"),
    [
        ((), b"OFF", {"availability": "unknown", "recording": None}),
        ((CameraAvailability(time=T0, camera="cam-comptoir", state="online"),), b"ON",
         {"availability": "online", "recording": None}),
        ((CameraAvailability(time=T0, camera="cam-comptoir", state="offline"),), b"OFF",
         {"availability": "offline", "recording": None}),
        ((CameraAvailability(time=T0, camera="cam-comptoir", state="disabled"),), b"OFF",
         {"availability": "disabled", "recording": None}),
        ((CameraAvailability(time=T0, camera="cam-comptoir", state="online", role="record"),),
         b"ON", {"availability": "online", "recording": True}),
        ((CameraAvailability(time=T0, camera="cam-comptoir", state="online", role="detect"),
          CameraAvailability(time=T0, camera="cam-comptoir", state="offline", role="record")),
         b"OFF", {"availability": "online", "recording": False}),
        ((CameraAvailability(time=T0, camera="cam-comptoir", state="online"),
          CameraRecording(time=T0, camera="cam-comptoir", recording=False)),
         b"OFF", {"availability": "online", "recording": False}),
    ],
)  # fmt: skip
def test_camera_coverage_states(
    plan: Discovery, events: tuple[Event, ...], state: bytes, attributes: dict[str, Any]
) -> None:
    """Covering means online and recording (unless not reported): never online by
    default, never covering while its recordings stop."""
    found = states(plan, "camera:cam-comptoir", registry_after(*events))
    assert found["ecrin/entities/camera_cam-comptoir/state"] == state
    details = json.loads(found["ecrin/entities/camera_cam-comptoir/attributes"])
    assert details == {**attributes, "zones": ["comptoir", "vitrine"]}


def test_partition_and_link_states(plan: Discovery) -> None:
    armed = PanelState(time=T0, device="centrale", state="armed_away", partition=1, ready=False)
    registry = registry_after(armed, LinkLost(time=T0, device="centrale", reason="silence 90 s"))
    found = states(plan, "partition:centrale:1", registry)
    assert found["ecrin/entities/partition_centrale_1/state"] == b"armed_away"
    assert json.loads(found["ecrin/entities/partition_centrale_1/attributes"]) == {
        "device": "centrale",
        "partition": 1,
        "armed": True,
        "alarm": False,
        "ready": False,
        "ac_power": None,
        "battery_low": None,
    }
    assert states(plan, "link:centrale", registry) == {
        "ecrin/entities/link_centrale/state": b"OFF"
    }  # and no reason text: it may name a host or a port
    registry.apply(LinkRestored(time=T0, device="centrale"))
    assert states(plan, "link:centrale", registry) == {"ecrin/entities/link_centrale/state": b"ON"}
    # Never heard of: nothing shown (no made-up state).
    assert states(plan, "link:cam-comptoir", registry) == {}
    assert states(plan, "partition:centrale:2", registry) == {}


def test_configs_found_on_the_broker_kept_or_removed(plan: Discovery) -> None:
    node = "homeassistant/{}/ecrin-tours/{}/config"
    kept = [
        node.format("binary_sensor", "holdup_comptoir"),
        node.format("binary_sensor", "camera_cam-comptoir"),
        node.format("sensor", "partition_centrale_3"),  # heard of in an earlier run
        node.format("binary_sensor", "link_centrale"),
    ]
    removed = [
        node.format("binary_sensor", "holdup_reserve"),  # a zone no longer configured
        node.format("binary_sensor", "camera_cam-gone"),
        node.format("sensor", "partition_gone_1"),
        node.format("sensor", "partition_centrale_x"),
        node.format("binary_sensor", "link_gone"),
        node.format("sensor", "zone_comptoir"),  # a kind this hub does not publish
    ]
    for topic in kept:
        assert plan.keeps(topic), topic
    for topic in removed:
        assert not plan.keeps(topic), topic
    assert plan.leftovers(node.format("binary_sensor", "holdup_reserve")) == (
        node.format("binary_sensor", "holdup_reserve"),
        "ecrin/entities/holdup_reserve/state",
        "ecrin/entities/holdup_reserve/attributes",
    )
    # The same object under another component: only that config goes, the state stays.
    assert plan.leftovers(node.format("sensor", "holdup_comptoir")) == (
        node.format("sensor", "holdup_comptoir"),
    )
    # Another node's, or not a config: never touched.
    for topic in (
        "homeassistant/binary_sensor/other-hub/holdup_reserve/config",
        "homeassistant/binary_sensor/holdup_reserve/config",
        "elsewhere/binary_sensor/ecrin-tours/holdup_reserve/config",
    ):
        assert not plan.keeps(topic)
        assert plan.leftovers(topic) == ()
