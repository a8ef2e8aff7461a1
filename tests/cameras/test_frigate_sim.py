"""The Frigate simulator says what Frigate says: the documented payloads' keys and
types, the documented topics, retained as Frigate retains them."""

from __future__ import annotations

import json
from typing import Any

from hub.sdk import MemorySession, Message
from plugins.cameras.frigate import FrigateSimulator, SimCamera
from tests.cameras.conftest import frigate_payload


def kind(value: Any) -> str:
    """A JSON value's kind (integers and floats are one: numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def fits(documented: dict[str, Any], simulated: dict[str, Any]) -> list[str]:
    """The keys where the simulated object differs from the documented one: a key
    missing or added, or a value of another kind (a null fits any kind: Frigate's
    examples show a null where it may put a value, and the reverse)."""
    wrong = sorted(set(documented) ^ set(simulated))
    for key in set(documented) & set(simulated):
        a, b = kind(documented[key]), kind(simulated[key])
        if a != b and "null" not in (a, b):
            wrong.append(key)
    return wrong


def published(session: MemorySession, topic: str) -> list[Message]:
    return [m for m in session.published if m.topic == topic]


async def test_start_publishes_the_states_then_available_last() -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["front_door"], version=(0, 16))
    await sim.start()
    topics = [m.topic for m in session.published]
    assert topics[-1] == "frigate/available"
    assert {
        "frigate/front_door/enabled/state",
        "frigate/front_door/recordings/state",
        "frigate/front_door/detect/state",
        "frigate/front_door/motion",
    } <= set(topics)
    retained = set(session._retained)
    assert "frigate/front_door/recordings/state" in retained
    assert "frigate/available" in retained
    assert "frigate/front_door/motion" not in retained  # Frigate never retains it


async def test_versions_decide_what_is_published() -> None:
    old, new = MemorySession(), MemorySession()
    await FrigateSimulator(old, ["a"], version=(0, 14)).start()
    sim = FrigateSimulator(new, ["a"], version=(0, 17))
    await sim.start()
    await sim.report_status()
    old_sim = FrigateSimulator(old, ["a"], version=(0, 14))
    await old_sim.report_status()
    assert not published(old, "frigate/a/enabled/state")
    assert not [m for m in old.published if "/status/" in m.topic]
    assert [m.payload for m in published(new, "frigate/a/status/record")] == [b"online"]
    assert "frigate/a/status/record" not in new._retained


async def test_the_will_is_frigates() -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["a"], prefix="nvr")
    assert sim.will == Message("nvr/available", b"offline", retain=True, qos=1)
    await sim.start()
    await sim.die()
    assert session._retained["nvr/available"].payload == b"offline"


async def test_a_camera_turned_off_reports_its_roles_disabled() -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, [SimCamera("a", roles=("detect", "record", "audio"))])
    await sim.set_enabled("a", False)
    assert [(m.topic, m.payload) for m in session.published if "/status/" in m.topic] == [
        ("frigate/a/status/detect", b"disabled"),
        ("frigate/a/status/record", b"disabled"),
        ("frigate/a/status/audio", b"disabled"),
    ]


async def test_tracked_objects_have_the_documented_shape() -> None:
    documented = frigate_payload("events-update-5e68fab.json")
    session = MemorySession()
    sim = FrigateSimulator(session, ["front_door"], seed=3, clock=lambda: 1607123955.475377)
    ident = await sim.track("front_door", zones=["driveway"])
    await sim.update(ident, zones=["yard"])
    await sim.end(ident)
    messages = [json.loads(m.payload) for m in published(session, "frigate/events")]
    assert [m["type"] for m in messages] == ["new", "update", "end"]
    for message in messages:
        assert set(message) == {"type", "before", "after"}
        assert fits(documented["after"], message["after"]) == []
        assert fits(documented["before"], message["before"]) == []
    update, end = messages[1], messages[2]
    assert update["before"]["current_zones"] == ["driveway"]
    assert update["after"]["current_zones"] == ["yard"]
    assert update["after"]["entered_zones"] == ["driveway", "yard"]
    assert end["after"]["end_time"] is not None
    assert ident.startswith("1607123955.475377-")
    assert len(ident.split("-")[1]) == 6


async def test_review_items_have_the_documented_shape() -> None:
    documented = frigate_payload("reviews-update-5e68fab.json")
    session = MemorySession()
    sim = FrigateSimulator(session, ["front_cam"], seed=3)
    ident = await sim.review("front_cam", ["person"], severity="detection")
    await sim.update_review(ident, objects=["car"], zones=["front_yard"], severity="alert")
    await sim.end_review(ident)
    messages = [json.loads(m.payload) for m in published(session, "frigate/reviews")]
    assert [m["type"] for m in messages] == ["new", "update", "end"]
    for message in messages:
        assert fits(documented["after"], message["after"]) == []
        assert fits(documented["after"]["data"], message["after"]["data"]) == []
    assert messages[1]["before"]["severity"] == "detection"
    assert messages[1]["after"]["severity"] == "alert"
    assert messages[1]["after"]["data"]["objects"] == ["person", "car"]


async def test_the_same_seed_and_clock_replay_the_same_ids() -> None:
    ids = []
    for _ in range(2):
        sim = FrigateSimulator(MemorySession(), ["a"], seed=11, clock=lambda: 1700000000.0)
        ids.append([await sim.track("a"), await sim.review("a")])
    assert ids[0] == ids[1]
