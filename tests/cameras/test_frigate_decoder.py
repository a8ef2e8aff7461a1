"""The Frigate decoder as a pure function: Frigate's recorded payloads in, camera
events out; availability derived as docs/frigate.md says; bad input counted, never
raised (hypothesis)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.sdk import (
    CameraAvailability,
    CameraDetection,
    CameraMotion,
    CameraRecording,
    Event,
    Message,
)
from plugins.cameras.frigate_decoder import (
    BROKER_LOST,
    NVR_LAST_WILL,
    FrigateDecoder,
    frigate_topics,
)
from tests.cameras.conftest import frigate_payload


def decoder(name: str = "front_door", **kw: Any) -> FrigateDecoder:
    kw.setdefault("zone_map", {"driveway": "entree", "yard": "vitrine"})
    kw.setdefault("zones", ("entree", "vitrine", "comptoir"))
    return FrigateDecoder("cam-1", name, **kw)


def msg(topic: str, payload: bytes | str | Any, *, retain: bool = False) -> Message:
    if isinstance(payload, str):
        raw = payload.encode()
    elif isinstance(payload, bytes):
        raw = payload
    else:
        raw = json.dumps(payload).encode()
    return Message(topic, raw, retain=retain)


def availability(events: list[Event] | tuple[Event, ...]) -> list[tuple[str, str, str]]:
    return [(e.role, e.state, e.reason) for e in events if isinstance(e, CameraAvailability)]


def feed(dec: FrigateDecoder, *messages: Message) -> list[Event]:
    out: list[Event] = []
    for m in messages:
        out += dec.decode(m)
    return out


def online(dec: FrigateDecoder, camera: str = "front_door") -> list[Event]:
    """Frigate connecting, as its topics.json says: states retained, then available."""
    return feed(
        dec,
        msg(f"frigate/{camera}/enabled/state", "ON", retain=True),
        msg(f"frigate/{camera}/recordings/state", "ON", retain=True),
        msg(f"frigate/{camera}/detect/state", "ON", retain=True),
        msg(f"frigate/{camera}/motion", "OFF"),
        msg("frigate/available", "online", retain=True),
    )


# -- the recorded plain-text topics ----------------------------------------------------------


def test_every_recorded_topic_is_read_without_a_reject() -> None:
    dec = decoder(status_topics="yes")
    for item in frigate_payload("topics.json")["messages"]:
        dec.decode(msg(item["topic"], item["payload"], retain=item["retain"]))
    assert dec.stats.rejected == 0
    assert dec.stale == 0
    assert dec.stats.frames == len(frigate_payload("topics.json")["messages"])


def test_the_topics_subscribe_available_last() -> None:
    topics = frigate_topics("frigate", "front_door", "both")
    assert topics[-1] == "frigate/available"
    assert "frigate/front_door/status/+" in topics
    assert {"frigate/events", "frigate/reviews"} <= set(topics)
    assert "frigate/reviews" not in frigate_topics("frigate", "front_door", "events")
    assert "frigate/events" not in frigate_topics("frigate", "front_door", "reviews")


# -- availability -------------------------------------------------------------------------------


def test_nothing_is_said_before_the_nvr_is_heard() -> None:
    dec = decoder()
    events = feed(
        dec,
        msg("frigate/front_door/enabled/state", "ON", retain=True),
        msg("frigate/front_door/detect/state", "ON", retain=True),
    )
    assert availability(events) == []
    assert dec.view.enabled is True


def test_before_017_online_once_the_nvr_is_available_and_the_camera_enabled() -> None:
    dec = decoder()
    events = online(dec)
    assert availability(events) == [("", "online", "")]
    assert [e.recording for e in events if isinstance(e, CameraRecording)] == [True]
    assert [e.active for e in events if isinstance(e, CameraMotion)] == [False]


def test_frigate_before_016_publishes_no_enabled_state_and_is_online() -> None:
    dec = decoder()
    events = feed(dec, msg("frigate/available", "online", retain=True))
    assert availability(events) == [("", "online", "")]


def test_the_nvr_last_will_is_offline_at_once() -> None:
    dec = decoder()
    online(dec)
    events = feed(dec, msg("frigate/available", "offline", retain=True))
    assert availability(events) == [("", "offline", NVR_LAST_WILL)]


def test_a_retained_will_at_start_is_offline_at_once() -> None:
    dec = decoder()
    events = feed(
        dec,
        msg("frigate/front_door/enabled/state", "ON", retain=True),
        msg("frigate/available", "offline", retain=True),
    )
    assert availability(events) == [("", "offline", NVR_LAST_WILL)]


def test_a_camera_turned_off_at_frigate_is_disabled() -> None:
    dec = decoder()
    online(dec)
    events = feed(dec, msg("frigate/front_door/enabled/state", "OFF", retain=True))
    assert availability(events) == [("", "disabled", "")]
    events = feed(dec, msg("frigate/front_door/enabled/state", "ON", retain=True))
    assert availability(events) == [("", "online", "")]


def test_a_state_is_said_once_however_often_frigate_repeats_it() -> None:
    dec = decoder(status_topics="yes")
    online(dec)
    first = feed(dec, msg("frigate/front_door/status/detect", "online"))
    again = feed(dec, *[msg("frigate/front_door/status/detect", "online")] * 5)
    assert availability(first) == [("detect", "online", ""), ("", "online", "")]
    assert again == []


def test_017_roles_decide_and_are_reported_each() -> None:
    dec = decoder(status_topics="yes")
    assert availability(online(dec)) == []  # no role has reported yet: still unknown
    events = feed(
        dec,
        msg("frigate/front_door/status/detect", "online"),
        msg("frigate/front_door/status/record", "online"),
    )
    assert availability(events) == [
        ("detect", "online", ""),
        ("", "online", ""),
        ("record", "online", ""),
    ]
    events = feed(
        dec,
        msg("frigate/front_door/status/detect", "offline"),
        msg("frigate/front_door/status/record", "offline"),
    )
    assert availability(events) == [
        ("detect", "offline", ""),
        ("record", "offline", ""),
        ("", "offline", "no role online (detect offline, record offline)"),
    ]


def test_017_every_role_disabled_is_disabled() -> None:
    dec = decoder(status_topics="yes")
    online(dec)
    events = feed(
        dec,
        msg("frigate/front_door/status/detect", "disabled"),
        msg("frigate/front_door/status/record", "disabled"),
    )
    assert availability(events) == [
        ("detect", "disabled", ""),
        ("", "disabled", ""),
        ("record", "disabled", ""),
    ]


def test_auto_uses_the_roles_once_one_is_heard() -> None:
    dec = decoder(status_topics="auto")
    assert availability(online(dec)) == [("", "online", "")]
    events = feed(dec, msg("frigate/front_door/status/record", "offline"))
    assert availability(events) == [
        ("record", "offline", ""),
        ("", "offline", "no role online (record offline)"),
    ]


def test_no_ignores_the_status_topics() -> None:
    dec = decoder(status_topics="no")
    online(dec)
    assert feed(dec, msg("frigate/front_door/status/record", "offline")) == []
    assert dec.stats.rejected == 0


def test_the_last_will_takes_the_roles_offline_and_they_must_report_again() -> None:
    dec = decoder(status_topics="yes")
    online(dec)
    feed(dec, msg("frigate/front_door/status/record", "online"))
    events = feed(dec, msg("frigate/available", "offline", retain=True))
    assert availability(events) == [
        ("", "offline", NVR_LAST_WILL),
        ("record", "offline", NVR_LAST_WILL),
    ]
    # A status that comes after the will (out of order) does not revive the camera.
    assert availability(feed(dec, msg("frigate/front_door/status/record", "online"))) == []
    # The NVR is back: nothing until a role reports again.
    assert availability(feed(dec, msg("frigate/available", "online", retain=True))) == []
    events = feed(dec, msg("frigate/front_door/status/record", "online"))
    assert availability(events) == [("record", "online", ""), ("", "online", "")]


def test_broker_lost_makes_what_was_said_unknown_then_news_again() -> None:
    dec = decoder(status_topics="yes")
    online(dec)
    feed(dec, msg("frigate/front_door/status/record", "online"))
    events = dec.lost()
    assert availability(events) == [
        ("", "unknown", BROKER_LOST),
        ("record", "unknown", BROKER_LOST),
    ]
    assert dec.lost() == []  # said once
    # The broker is back and hands the retained states over again: reported afresh.
    events = online(dec)
    assert [e.recording for e in events if isinstance(e, CameraRecording)] == [True]
    events = feed(dec, msg("frigate/front_door/status/record", "online"))
    assert availability(events) == [("record", "online", ""), ("", "online", "")]


def test_broker_lost_says_nothing_of_a_camera_never_heard() -> None:
    assert decoder().lost() == []


def test_recording_is_said_when_it_changes() -> None:
    dec = decoder()
    events = feed(
        dec,
        msg("frigate/front_door/recordings/state", "ON", retain=True),
        msg("frigate/front_door/recordings/state", "ON", retain=True),
        msg("frigate/front_door/recordings/state", "OFF", retain=True),
    )
    assert [e.recording for e in events if isinstance(e, CameraRecording)] == [True, False]


def test_detect_state_is_kept_not_an_event() -> None:
    dec = decoder()
    assert feed(dec, msg("frigate/front_door/detect/state", "OFF", retain=True)) == []
    assert dec.view.detect is False


def test_another_camera_prefix_is_honoured() -> None:
    dec = FrigateDecoder("cam-1", "porte", prefix="nvr/magasin")
    events = feed(dec, msg("nvr/magasin/available", "online"))
    assert availability(events) == [("", "online", "")]
    assert events[0].camera == "cam-1"  # type: ignore[attr-defined]


# -- detections: events ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["events-update-0065693.json", "events-update-5e68fab.json", "events-update-be35a90.json"],
)
def test_recorded_event_updates_become_detections(name: str) -> None:
    dec = decoder()
    (detection,) = dec.decode(msg("frigate/events", frigate_payload(name)))
    assert isinstance(detection, CameraDetection)
    assert detection.camera == "cam-1"
    assert detection.detection == "1607123955.475377-mxklsc"
    assert detection.label == "person"
    assert detection.phase == "update"
    assert detection.camera_zones == ("yard", "driveway")
    assert detection.zones == ("vitrine", "entree")
    assert detection.score == pytest.approx(0.958984375)  # top_score: the best so far
    assert dec.stats.rejected == 0


def test_a_new_event_and_its_end() -> None:
    """``new`` and ``end`` made from the documented ``update`` as Frigate's page
    describes them (README of the data)."""
    update = frigate_payload("events-update-5e68fab.json")
    new = dict(update, type="new")
    end = copy.deepcopy(update)
    end["type"] = "end"
    end["after"]["end_time"] = 1607123970.0
    end["after"]["current_zones"] = []
    dec = decoder()
    (first,) = dec.decode(msg("frigate/events", new))
    (last,) = dec.decode(msg("frigate/events", end))
    assert isinstance(first, CameraDetection)
    assert isinstance(last, CameraDetection)
    assert (first.phase, last.phase) == ("new", "end")
    # At its end, an object is placed in every zone it entered.
    assert last.camera_zones == ("yard", "driveway")


def test_a_detection_in_no_mapped_zone_is_in_the_camera_zones() -> None:
    payload = frigate_payload("events-update-5e68fab.json")
    payload["after"]["current_zones"] = ["garden"]
    (detection,) = decoder().decode(msg("frigate/events", payload))
    assert isinstance(detection, CameraDetection)
    assert detection.zones == ("entree", "vitrine", "comptoir")
    assert detection.camera_zones == ("garden",)


def test_other_cameras_are_ignored_silently() -> None:
    dec = decoder(name="back_yard")
    assert dec.decode(msg("frigate/events", frigate_payload("events-update-5e68fab.json"))) == []
    assert (dec.other, dec.stats.rejected, dec.stale) == (1, 0, 0)


def test_a_false_positive_is_no_detection() -> None:
    payload = frigate_payload("events-update-5e68fab.json")
    payload["after"]["false_positive"] = True
    dec = decoder()
    assert dec.decode(msg("frigate/events", payload)) == []
    assert dec.stats.rejected == 0


# -- detections: reviews ------------------------------------------------------------------


def test_the_recorded_review_becomes_a_detection() -> None:
    dec = decoder(name="front_cam", zone_map={"front_yard": "vitrine"})
    (detection,) = dec.decode(
        msg("frigate/reviews", frigate_payload("reviews-update-5e68fab.json"))
    )
    assert isinstance(detection, CameraDetection)
    assert detection.detection == "1718987129.308396-fqk5ka"
    assert detection.label == "person,car"
    assert detection.phase == "update"
    assert detection.camera_zones == ("front_yard",)
    assert detection.zones == ("vitrine",)
    assert detection.score is None


# -- stale retained messages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("frigate/events", frigate_payload("events-update-5e68fab.json")),
        ("frigate/reviews", frigate_payload("reviews-update-5e68fab.json")),
        ("frigate/front_door/motion", "ON"),
        ("frigate/front_door/status/record", "online"),
    ],
)
def test_retained_happenings_are_stale_never_news(topic: str, payload: Any) -> None:
    dec = decoder(status_topics="yes")
    online(dec)
    assert dec.decode(msg(topic, payload, retain=True)) == []
    assert dec.stale == 1
    assert dec.stats.rejected == 0


def test_a_retained_event_of_a_camera_no_longer_configured_is_stale() -> None:
    dec = decoder(name="comptoir")
    payload = frigate_payload("events-update-5e68fab.json")  # front_door: not configured
    assert dec.decode(msg("frigate/events", payload, retain=True)) == []
    assert dec.stale == 1
    assert "front_door" in dec.stale_about


def test_a_stale_status_never_makes_a_camera_online() -> None:
    dec = decoder(status_topics="yes")
    online(dec)
    assert (
        availability(feed(dec, msg("frigate/front_door/status/detect", "online", retain=True)))
        == []
    )


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "payload", "why"),
    [
        ("frigate/available", "maybe", "unknown word"),
        ("frigate/available", b"\xff\xfe", "not UTF-8"),
        ("frigate/front_door/enabled/state", "on", "unknown word"),
        ("frigate/front_door/recordings/state", "1", "unknown word"),
        ("frigate/front_door/motion", "", "unknown word"),
        ("frigate/front_door/status/record", "up", "unknown word"),
        ("frigate/front_door/status/zoom", "online", "unknown role"),
        ("frigate/front_door/snapshots/state", "ON", "not a topic the hub reads"),
        ("frigate/back_yard/motion", "ON", "not a topic of Frigate camera"),
        ("frigate/events", "{not json", "not JSON"),
        ("frigate/events", b"\xff", "not JSON"),
        ("frigate/events", [1, 2], "not a JSON object"),
        ("frigate/events", {"type": "begin", "after": {}}, "type is"),
        ("frigate/events", {"type": "new", "after": []}, "no 'after' object"),
        ("frigate/events", {"type": "new", "after": {"camera": 7}}, "after.camera"),
        ("frigate/events", {"type": "new", "after": {"camera": "front_door"}}, "after.id"),
        (
            "frigate/events",
            {"type": "new", "after": {"camera": "front_door", "id": "x", "label": None}},
            "after.label",
        ),
        (
            "frigate/events",
            {
                "type": "new",
                "after": {"camera": "front_door", "id": "x", "label": "person", "top_score": "hi"},
            },
            "after.top_score",
        ),
        (
            "frigate/events",
            {
                "type": "new",
                "after": {
                    "camera": "front_door",
                    "id": "x",
                    "label": "person",
                    "current_zones": "a",
                },
            },
            "current_zones",
        ),
        ("frigate/reviews", {"type": "new", "after": {"camera": "front_door", "id": "r"}}, "data"),
        (
            "frigate/reviews",
            {"type": "new", "after": {"camera": "front_door", "id": "r", "data": {"objects": [1]}}},
            "objects",
        ),
    ],
)
def test_bad_input_is_counted_with_its_reason_never_raised(
    topic: str, payload: Any, why: str
) -> None:
    dec = decoder()
    online(dec)
    assert dec.decode(msg(topic, payload)) == []
    assert dec.stats.rejected == 1
    assert why in dec.stats.last_rejects[-1].reason
    # and the next good message is read as if nothing happened
    (motion,) = dec.decode(msg("frigate/front_door/motion", "ON"))
    assert isinstance(motion, CameraMotion)
    assert motion.active is True


def test_a_bad_word_never_makes_a_camera_online() -> None:
    dec = decoder()
    events = feed(dec, msg("frigate/available", "ONLINE"), msg("frigate/available", "1"))
    assert availability(events) == []
    assert dec.stats.rejected == 2


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_objects = st.fixed_dictionaries(
    {"type": st.sampled_from(["new", "update", "end", "x"]) | _json},
    optional={
        "after": st.fixed_dictionaries(
            {},
            optional={
                "camera": st.sampled_from(["front_door", "other"]) | _json,
                "id": _json,
                "label": _json,
                "score": _json,
                "top_score": _json,
                "current_zones": _json,
                "entered_zones": _json,
                "false_positive": _json,
                "data": st.fixed_dictionaries(
                    {}, optional={"objects": _json, "zones": _json, "audio": _json}
                )
                | _json,
            },
        )
        | _json,
    },
)
_topics = st.sampled_from(
    [
        "frigate/available",
        "frigate/events",
        "frigate/reviews",
        "frigate/front_door/enabled/state",
        "frigate/front_door/recordings/state",
        "frigate/front_door/detect/state",
        "frigate/front_door/motion",
        "frigate/front_door/status/detect",
        "frigate/front_door/status/record",
        "frigate/front_door/status/other",
        "frigate/front_door/else",
        "elsewhere/available",
    ]
)
_payloads = (
    st.binary(max_size=64)
    | st.sampled_from([b"ON", b"OFF", b"online", b"offline", b"disabled"])
    | _objects.map(lambda o: json.dumps(o).encode())
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_topics, _payloads, st.booleans()), max_size=12))
def test_fuzz_never_raises_and_online_needs_a_real_online(
    messages: list[tuple[str, bytes, bool]],
) -> None:
    dec = decoder(status_topics="auto")
    events: list[Event] = []
    for topic, payload, retain in messages:
        events += dec.decode(Message(topic, payload, retain=retain))
    assert dec.stats.frames == len(messages)
    said_online = any(
        isinstance(e, CameraAvailability) and e.role == "" and e.state == "online" for e in events
    )
    if said_online:
        assert any(t == "frigate/available" and p == b"online" for t, p, _r in messages)
    # a valid message after the garbage is still decoded
    (motion,) = dec.decode(Message("frigate/front_door/motion", b"ON"))
    assert isinstance(motion, CameraMotion)
