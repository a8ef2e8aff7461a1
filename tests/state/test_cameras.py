"""Cameras in the state registry: how the whole camera, its roles and its recording
switch combine into its state and ``covering``; motion and detections; outages (what
the escalation rule asks); the camera view features are handed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from hub.cameras import CameraStatus, CameraView, covering
from hub.events import (
    CameraAvailability,
    CameraDetection,
    CameraMotion,
    CameraRecording,
    Event,
    LinkLost,
)
from hub.state import CameraAttributes, State, StateRegistry

T0 = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
CAM = "cam-counter"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def avail(state: str, role: str = "", t: float = 0, reason: str = "") -> CameraAvailability:
    return CameraAvailability(time=at(t), camera=CAM, state=state, role=role, reason=reason)


def rec(recording: bool, t: float = 0) -> CameraRecording:
    return CameraRecording(time=at(t), camera=CAM, recording=recording)


def camera(registry: StateRegistry, name: str = CAM) -> State:
    found = registry.get(f"camera:{name}")
    assert found is not None
    return found


def attrs(registry: StateRegistry, name: str = CAM) -> CameraAttributes:
    found = camera(registry, name).attributes
    assert isinstance(found, CameraAttributes)
    return found


def test_a_configured_camera_is_unknown_and_not_covering_until_heard_from() -> None:
    registry = StateRegistry(cameras=[CAM, "cam-door"])
    unknown = camera(registry)
    assert (unknown.state, unknown.last_changed, unknown.last_updated) == ("unknown", None, None)
    assert unknown.attributes == CameraAttributes()
    assert attrs(registry).covering is False
    assert registry.camera_status(CAM) == CameraStatus(CAM, "unknown", False, None, None)
    # A camera nobody configured nor heard of: unknown too, never online by default.
    assert registry.camera_status("cam-nowhere") == CameraStatus("cam-nowhere")


# Each case: the reports, in order, then the camera's state, covering and recording.
COMBINATIONS = [
    pytest.param([avail("online")], ("online", True, None), id="whole-online"),
    pytest.param([avail("offline")], ("offline", False, None), id="whole-offline"),
    pytest.param([avail("disabled")], ("disabled", False, None), id="whole-disabled"),
    pytest.param([avail("unknown")], ("unknown", False, None), id="whole-unknown"),
    pytest.param([avail("online", "record")], ("online", True, True), id="record-role-online"),
    pytest.param([avail("online", "detect")], ("online", True, None), id="detect-role-online"),
    pytest.param(
        [avail("online", "detect"), avail("offline", "record")],
        ("online", False, False),
        id="detect-online-record-offline",
    ),
    pytest.param(
        [avail("online"), avail("offline", "record")],
        ("online", False, False),
        id="whole-online-record-offline",
    ),
    pytest.param(
        [avail("online"), avail("disabled", "record")],
        ("online", False, False),
        id="whole-online-record-disabled",
    ),
    pytest.param(
        [avail("online"), avail("unknown", "record")],
        ("online", True, None),
        id="record-role-unknown-is-not-known-off",
    ),
    pytest.param(
        [avail("online"), avail("offline", "detect")],
        ("online", True, None),
        id="detect-offline-still-covers",
    ),
    pytest.param(
        [avail("online", "record"), avail("online", "detect"), avail("offline")],
        ("offline", False, True),
        id="whole-offline-wins-over-stale-roles",
    ),
    pytest.param(
        [avail("online", "record"), avail("unknown")],
        ("unknown", False, True),
        id="whole-unknown-wins-over-stale-roles",
    ),
    pytest.param(
        [avail("offline"), avail("online", "record")],
        ("offline", False, True),
        id="a-role-back-is-not-the-camera-back",
    ),
    pytest.param(
        [avail("offline"), avail("online")], ("online", True, None), id="whole-camera-back"
    ),
    pytest.param(
        [avail("offline", "detect"), avail("disabled", "record")],
        ("offline", False, False),
        id="roles-only-offline-before-disabled",
    ),
    pytest.param(
        [avail("disabled", "detect"), avail("unknown", "record")],
        ("unknown", False, None),
        id="roles-only-unknown-before-disabled",
    ),
    pytest.param(
        [avail("disabled", "detect"), avail("disabled", "record")],
        ("disabled", False, False),
        id="roles-only-all-disabled",
    ),
    pytest.param([avail("online"), rec(False)], ("online", False, False), id="switched-off"),
    pytest.param(
        [avail("online"), rec(False), rec(True)], ("online", True, True), id="switched-on-again"
    ),
    pytest.param(
        [avail("online"), avail("offline", "record"), rec(True)],
        ("online", False, False),
        id="switch-on-but-record-role-offline",
    ),
    pytest.param(
        [avail("online", "record"), rec(False)],
        ("online", False, False),
        id="record-role-online-but-switched-off",
    ),
    pytest.param([rec(True)], ("unknown", False, True), id="switch-alone-is-not-online"),
    pytest.param([avail("ON")], ("unknown", False, None), id="a-word-outside-the-states"),
    pytest.param(
        [avail("online"), avail("ON")], ("unknown", False, None), id="never-online-by-mistake"
    ),
]


@pytest.mark.parametrize(("reports", "expected"), COMBINATIONS)
def test_roles_whole_camera_and_recording_combine(
    reports: list[Event], expected: tuple[str, bool, bool | None]
) -> None:
    registry = StateRegistry(cameras=[CAM])
    for i, report in enumerate(reports):
        registry.apply(dataclasses.replace(report, time=at(i)))
    state = camera(registry)
    found = attrs(registry)
    assert (state.state, found.covering, found.recording) == expected
    assert found.covering == covering(state.state, found.recording)
    assert registry.camera_status(CAM) == CameraStatus(
        CAM, expected[0], expected[1], expected[2], state.last_changed
    )


def test_roles_are_kept_sorted_with_the_last_reason_and_the_times() -> None:
    registry = StateRegistry(cameras=[CAM])
    registry.apply(avail("online", "record", t=1))
    registry.apply(avail("online", t=2))
    registry.apply(avail("offline", t=3, reason="NVR last will"))
    state = camera(registry)
    assert (state.state, state.last_changed, state.last_updated) == ("offline", at(3), at(3))
    assert attrs(registry).roles == (("", "offline"), ("record", "online"))
    assert attrs(registry).reason == "NVR last will"
    registry.apply(avail("online", t=4))
    assert attrs(registry).reason == ""
    assert registry.camera_status(CAM).since == at(4)


def test_motion_is_an_attribute_and_a_repeat_changes_nothing() -> None:
    registry = StateRegistry(cameras=[CAM])
    registry.apply(avail("online", t=1))
    feed = registry.listen()
    registry.apply(CameraMotion(time=at(2), camera=CAM, active=True))
    registry.apply(CameraMotion(time=at(3), camera=CAM, active=True))
    state = camera(registry)
    assert (state.state, state.last_changed, state.last_updated) == ("online", at(1), at(2))
    assert attrs(registry).motion is True
    registry.apply(CameraMotion(time=at(4), camera=CAM, active=False))
    assert attrs(registry).motion is False
    assert feed.pending() == 2
    feed.close()
    # Motion says nothing of availability: a camera heard of only by its motion is not
    # online.
    registry.apply(CameraMotion(time=at(5), camera="cam-door", active=True))
    assert registry.camera_status("cam-door").state == "unknown"
    assert registry.camera_status("cam-door").covering is False


def test_the_last_detection_is_kept_small() -> None:
    registry = StateRegistry(cameras=[CAM])
    registry.apply(avail("online", t=1))
    for t, phase in ((2, "new"), (3, "update"), (4, "end")):
        registry.apply(
            CameraDetection(
                time=at(t),
                camera=CAM,
                detection="1718-abc",
                label="person",
                phase=phase,
                zones=("counter",),
                camera_zones=("comptoir_gauche",),
                score=0.87,
            )
        )
    found = attrs(registry)
    assert (found.detection, found.detection_zones, found.detected_at) == (
        "person",
        ("counter",),
        at(4),
    )
    assert camera(registry).state == "online"
    assert camera(registry).to_dict()["attributes"]["detected_at"] == at(4).isoformat()


# -- outages: the report that made a camera stop covering -----------------------------------
def test_an_outage_begins_at_the_first_down_report_and_ends_when_it_covers() -> None:
    registry = StateRegistry(cameras=[CAM])
    up = avail("online", t=1)
    registry.apply(up)
    assert registry.outage_began(up) is False
    down = avail("offline", t=2, reason="NVR last will")
    registry.apply(down)
    assert registry.outage_began(down) is True
    again = avail("offline", t=3)
    registry.apply(again)  # a repeat within the outage
    assert registry.outage_began(again) is False
    assert registry.outage_began(down) is True  # still the one that began it
    registry.apply(avail("online", t=4))
    assert registry.outage_began(down) is False  # over
    second = avail("unknown", t=5, reason="broker lost")
    registry.apply(second)
    assert registry.outage_began(second) is True


def test_an_outage_needs_a_down_report_and_a_camera_that_does_not_cover() -> None:
    registry = StateRegistry(cameras=[CAM])
    registry.apply(avail("online", t=1))
    detect = avail("offline", "detect", t=2)
    registry.apply(detect)
    assert registry.outage_began(detect) is False  # it still records: it covers
    record = avail("offline", "record", t=3)
    registry.apply(record)
    assert registry.outage_began(record) is True
    registry.apply(avail("online", "record", t=4))
    off = rec(False, t=5)
    registry.apply(off)
    assert registry.outage_began(off) is True
    registry.apply(rec(True, t=6))
    assert registry.outage_began(off) is False
    # A report that the camera is online, though it does not cover (the whole camera is
    # down), begins nothing; the whole camera's report began the outage.
    whole = avail("disabled", t=7)
    registry.apply(whole)
    role = avail("online", "detect", t=8)
    registry.apply(role)
    assert (registry.outage_began(whole), registry.outage_began(role)) == (True, False)
    assert registry.outage_began(LinkLost(time=at(9), device=CAM)) is False


def test_a_first_report_of_a_camera_down_begins_an_outage() -> None:
    # Never heard of in this run (at start, or restored from the journal): the first
    # down report begins one, so the hub reports a camera still down after a restart.
    restored = StateRegistry(cameras=[CAM])
    restored.apply(avail("offline", t=1))
    live = StateRegistry(cameras=[CAM])
    live.merge(restored)
    assert live.camera_status(CAM).state == "offline"
    down = avail("offline", t=2)
    assert restored.outage_began(avail("offline", t=1)) is True
    assert live.outage_began(avail("offline", t=1)) is False  # outages are not merged
    live.apply(down)
    assert live.outage_began(down) is True


def test_the_recording_switch_is_restored_with_its_camera() -> None:
    restored = StateRegistry(cameras=[CAM])
    restored.apply(avail("online", t=1))
    restored.apply(rec(False, t=2))
    live = StateRegistry(cameras=[CAM])
    live.merge(restored)
    assert attrs(live) == attrs(restored)
    # The record role back online does not hide the switch the journal said was off.
    live.apply(avail("online", "record", t=3))
    assert (attrs(live).recording, attrs(live).covering) == (False, False)


def test_the_registry_is_a_camera_view() -> None:
    view: CameraView = StateRegistry()
    assert view.camera_status(CAM).state == "unknown"


def test_a_camera_status_round_trips_through_json() -> None:
    status = CameraStatus(CAM, "offline", False, True, at(3))
    assert status.to_dict() == {
        "id": CAM,
        "state": "offline",
        "covering": False,
        "recording": True,
        "since": at(3).isoformat(),
    }
    assert CameraStatus.from_dict(status.to_dict()) == status
    assert CameraStatus.from_dict(CameraStatus(CAM).to_dict()) == CameraStatus(CAM)
    with pytest.raises(ValueError, match="not a camera status"):
        CameraStatus.from_dict({"state": "online"})
