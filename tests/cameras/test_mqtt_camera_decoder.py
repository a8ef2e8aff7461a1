"""The mqtt-camera's decoder: messages in, camera events out, bad payloads counted and
skipped, never raising, never an online camera made of garbage."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.sdk import CameraAvailability, CameraMotion, CameraRecording, Event, Message
from plugins.cameras.mqtt_camera import MqttCameraDecoder, MqttCameraSettings, camera_rules
from plugins.cameras.payload_rules import Problem


def decoder(**settings: Any) -> MqttCameraDecoder:
    return MqttCameraDecoder("cam-vitrine", camera_rules(MqttCameraSettings(**settings)))


def lwt_camera() -> MqttCameraDecoder:
    return decoder(
        availability={"topic": "cams/vitrine/status", "online": "online", "offline": "offline"},
        recording={"topic": "cams/vitrine/state", "value": "$.recording", "on": True, "off": False},
        motion={"topic": "cams/vitrine/motion", "on": "ON", "off": "OFF"},
    )


def states(events: Any) -> list[Any]:
    out: list[Any] = []
    for event in events:
        if isinstance(event, CameraAvailability):
            out.append(event.state)
        elif isinstance(event, CameraRecording):
            out.append(("recording", event.recording))
        elif isinstance(event, CameraMotion):
            out.append(("motion", event.active))
    return out


def test_each_topic_says_its_state() -> None:
    camera = lwt_camera()
    assert camera.topics == ("cams/vitrine/motion", "cams/vitrine/state", "cams/vitrine/status")
    (online,) = camera.decode(Message("cams/vitrine/status", b"online", retain=True))
    assert online == CameraAvailability(camera="cam-vitrine", state="online", time=online.time)
    (recording,) = camera.decode(Message("cams/vitrine/state", b'{"recording": true, "fps": 5}'))
    assert recording == CameraRecording(camera="cam-vitrine", recording=True, time=recording.time)
    (motion,) = camera.decode(Message("cams/vitrine/motion", b"ON"))
    assert motion == CameraMotion(camera="cam-vitrine", active=True, time=motion.time)
    assert states(camera.decode(Message("cams/vitrine/status", b"offline"))) == ["offline"]
    assert (camera.stats.frames, camera.stats.events, camera.stats.rejected) == (4, 4, 0)


def test_one_json_status_can_carry_every_state() -> None:
    camera = decoder(
        availability={"topic": "cam/json", "value": "$.online", "online": True, "offline": False},
        recording={"topic": "cam/json", "value": "$.rec", "on": True, "off": False},
        motion={"topic": "cam/json", "value": "{{ value_json.motion }}", "on": 1, "off": 0},
    )
    assert camera.topics == ("cam/json",)
    events = camera.decode(Message("cam/json", b'{"online": true, "rec": false, "motion": 1}'))
    assert states(events) == ["online", ("recording", False), ("motion", True)]
    # One part unreadable: the others still count, the bad one is counted.
    events = camera.decode(Message("cam/json", b'{"online": false, "rec": "?", "motion": 0}'))
    assert states(events) == ["offline", ("motion", False)]
    assert camera.problems == {Problem.WRONG_TYPE: 1}
    (bad,) = camera.rejects()
    assert (bad.what, bad.topic, bad.problem) == ("recording", "cam/json", Problem.WRONG_TYPE)


def test_a_state_heard_again_is_not_emitted_again() -> None:
    camera = lwt_camera()
    feed = [b"online", b"online", b"offline", b"offline", b"online"]
    emitted = [states(camera.decode(Message("cams/vitrine/status", p))) for p in feed]
    assert emitted == [["online"], [], ["offline"], [], ["online"]]
    assert camera.repeats == 2
    camera.forget()
    assert camera.availability is None
    assert states(camera.decode(Message("cams/vitrine/status", b"online"))) == ["online"]


def test_a_bad_payload_is_counted_and_skipped_and_never_online() -> None:
    camera = lwt_camera()
    bad = [
        Message("cams/vitrine/status", b"Online"),  # the wrong case
        Message("cams/vitrine/status", b""),  # a retained message cleared
        Message("cams/vitrine/status", b"\xc3\x28"),  # not UTF-8
        Message("cams/vitrine/state", b"{recording: true}", retain=True),  # not JSON
        Message("cams/vitrine/state", b'{"rec": true}'),  # no such key
        Message("cams/vitrine/state", b'{"recording": "on"}'),  # a string, not a boolean
    ]
    for message in bad:
        assert camera.decode(message) == []
    assert camera.availability is None  # never heard: unknown
    assert camera.stats.rejected == 6
    assert camera.problems == {
        Problem.NO_MATCH: 1,
        Problem.EMPTY: 1,
        Problem.NOT_TEXT: 1,
        Problem.NOT_JSON: 1,
        Problem.NOT_FOUND: 1,
        Problem.WRONG_TYPE: 1,
    }
    rejects = camera.rejects()
    assert [r.retained for r in rejects] == [False, False, False, True, False, False]
    assert camera.rejects() == []  # returned once
    # The next good message still gets through.
    assert states(camera.decode(Message("cams/vitrine/status", b"online"))) == ["online"]


def test_a_topic_no_rule_reads_is_ignored_not_rejected() -> None:
    camera = lwt_camera()
    assert camera.decode(Message("cams/vitrine/status/extra", b"online")) == []
    assert camera.decode(Message("cams/caisse/status", b"online")) == []
    assert (camera.ignored, camera.stats.rejected) == (2, 0)


def test_pending_rejects_are_bounded() -> None:
    camera = lwt_camera()
    for _ in range(1000):
        camera.decode(Message("cams/vitrine/status", b"?"))
    assert len(camera.rejects()) == 100
    assert camera.stats.rejected == 1000


garbage = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [b"Online", b"ONLINE", b"on line", b"1", b"true", b'{"state": "online"}', b"", b"\x00"]
    ),
)


@settings(max_examples=300, deadline=None)
@given(payloads=st.lists(st.tuples(st.sampled_from(["status", "state", "motion", "x"]), garbage)))
def test_garbage_never_raises_never_makes_a_camera_online_and_a_good_message_still_counts(
    payloads: list[tuple[str, bytes]],
) -> None:
    camera = lwt_camera()
    events: list[Event] = []
    for leaf, payload in payloads:
        events += camera.decode(Message(f"cams/vitrine/{leaf}", payload))
    online = [e for e in events if isinstance(e, CameraAvailability) and e.state == "online"]
    said_online = any(
        leaf == "status" and payload.strip() == b"online" for leaf, payload in payloads
    )
    assert bool(online) <= said_online
    assert all(
        e.state in ("online", "offline") for e in events if isinstance(e, CameraAvailability)
    )
    camera.decode(Message("cams/vitrine/status", b"offline"))
    assert camera.availability == "offline"
