"""The mqtt-camera's payload rules: the JSON path and template subsets, the words, and
what a payload says, each extraction style with each bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.sdk import SettingProblem
from plugins.cameras.payload_rules import (
    AVAILABILITY,
    MAX_PAYLOAD,
    MOTION,
    RECORDING,
    Bad,
    Extraction,
    Payload,
    PayloadRule,
    Problem,
    parse_extraction,
    parse_rule,
    topic_problem,
)

# -- the two small languages -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "steps", "filters"),
    [
        ("$", (), ()),
        ("$.recording", ("recording",), ()),
        ("$.camera.status", ("camera", "status"), ()),
        ("$.cameras[0].state", ("cameras", 0, "state"), ()),
        ("$['the state'][12]", ("the state", 12), ()),
        ('$["a.b"]', ("a.b",), ()),
        (r"$['it\'s']", ("it's",), ()),
        ("$.ptz-state.état", ("ptz-state", "état"), ()),
        ("{{ value }}", None, ()),
        ("{{value|trim}}", None, ("trim",)),
        ("{{ value_json }}", (), ()),
        ("{{ value_json.state }}", ("state",), ()),
        ("{{ value_json['state'] | lower }}", ("state",), ("lower",)),
        ("  {{ value_json.a[1].b | trim | upper }} ", ("a", 1, "b"), ("trim", "upper")),
    ],
)
def test_the_supported_subsets_read_into_steps_and_filters(
    text: str, steps: tuple[str | int, ...] | None, filters: tuple[str, ...]
) -> None:
    extraction = parse_extraction(text)
    assert isinstance(extraction, Extraction), extraction
    assert (extraction.steps, extraction.filters, extraction.source) == (steps, filters, text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("recording", "expected a JSON path ($, then .key, ['key'] or [0]) or a template"),
        ("$..rec", 'unexpected "..rec" at character 2'),
        ("$.cameras[*]", 'unexpected "[*]" at character 10'),
        ("$.cameras[-1]", 'unexpected "[-1]" at character 10'),
        ("$.a[?(@.b)]", "is not in the JSON path subset"),
        ("$.", 'unexpected "." at character 2'),
        ("$['open", 'unexpected "[\'open" at character 2'),
        ("{{ value_json.a + 1 }}", 'unexpected " + 1 }}" at character 16'),
        ("{{ value_json.a | int }}", "unknown filter 'int' (known: lower, upper, trim)"),
        ("{{ states('sensor.x') }}", "a template reads value or value_json"),
        ("{{ value_json.__class__ }}", None),
        ("{% if value %}ON{% endif %}", "a template is one {{ ... }} expression"),
        ("{{ value }} and {{ value }}", "a template is one {{ ... }} expression"),
        ("{{ value_json.state }}x", "a template is one {{ ... }} expression"),
    ],
)
def test_anything_outside_the_subsets_is_refused_with_the_reason(
    text: str, reason: str | None
) -> None:
    result = parse_extraction(text)
    if reason is None:  # an attribute is a key of the JSON object, never Python's
        assert isinstance(result, Extraction)
        assert result.extract(Payload(b'{"__class__": "x"}')) == "x"
        assert isinstance(result.extract(Payload(b"{}")), Bad)
        return
    assert isinstance(result, str), result
    assert reason in result


def test_topics_are_names_not_filters() -> None:
    assert topic_problem("cams/vitrine/status") is None
    assert "wildcard" in (topic_problem("cams/+/status") or "")
    assert "wildcard" in (topic_problem("cams/#") or "")
    assert "broker's own" in (topic_problem("$SYS/broker/uptime") or "")
    assert "empty" in (topic_problem("") or "")
    assert "NUL" in (topic_problem("a\x00b") or "")
    assert "65535 bytes" in (topic_problem("é" * 40000) or "")


# -- reading payloads ------------------------------------------------------------------


def rule(spec: Any, **mapping: Any) -> PayloadRule:
    made, problems = parse_rule(spec, mapping)
    assert made is not None, problems
    return made


def read(made: PayloadRule, payload: bytes) -> str | Bad:
    return made.read(Payload(payload))


def test_a_plain_payload_is_text_compared_with_the_words() -> None:
    lwt = rule(AVAILABILITY, topic="tele/cam/LWT", online="Online", offline="Offline")
    assert read(lwt, b"Online") == "online"
    assert read(lwt, b"Offline\n") == "offline"  # surrounding blanks are not the word
    bad = read(lwt, b"online")
    assert isinstance(bad, Bad)
    assert bad.problem is Problem.NO_MATCH
    assert (
        bad.detail == 'the payload is "online", neither online ("Online") nor offline ("Offline")'
    )


def test_the_defaults_are_home_assistants() -> None:
    availability = rule(AVAILABILITY, topic="t")
    assert availability.words == (("online", "online"), ("offline", "offline"))
    assert rule(MOTION, topic="t").words == (("on", "ON"), ("off", "OFF"))
    with_disabled = rule(AVAILABILITY, topic="t", disabled="off-duty")
    assert read(with_disabled, b"off-duty") == "disabled"


def test_a_json_path_keeps_the_json_type() -> None:
    recording = rule(RECORDING, topic="t", value="$.recording", on=True, off=False)
    assert read(recording, b'{"recording": true}') == "on"
    assert read(recording, b'{"recording": false, "motion": true}') == "off"
    wrong = read(recording, b'{"recording": "true"}')
    assert isinstance(wrong, Bad)
    assert wrong.problem is Problem.WRONG_TYPE
    assert wrong.detail == '$.recording is a string ("true"), expected a boolean'
    numbers = rule(RECORDING, topic="t", value="$.rec[0]", on=1, off=0)
    assert read(numbers, b'{"rec": [1.0]}') == "on"
    assert read(numbers, b'{"rec": [0]}') == "off"
    assert isinstance(read(numbers, b'{"rec": [true]}'), Bad)  # a boolean is not a number


def test_a_whole_json_payload_is_read_with_the_root_path() -> None:
    recording = rule(RECORDING, topic="t", value="$", on=True, off=False)
    assert read(recording, b"true") == "on"
    assert read(recording, b" false ") == "off"


def test_a_template_reads_as_home_assistant_writes_it() -> None:
    status = rule(AVAILABILITY, topic="t", value="{{ value_json.state | lower }}", online="online")
    assert read(status, b'{"state": "ONLINE"}') == "online"
    assert read(status, b'{"state": "Offline"}') == "offline"
    plain = rule(MOTION, topic="t", value="{{ value | trim | upper }}")
    assert read(plain, b"  on ") == "on"
    typed = rule(MOTION, topic="t", value="{{ value_json.motion }}", on=True, off=False)
    assert read(typed, b'{"motion": true}') == "on"


@pytest.mark.parametrize(
    ("value", "payload", "problem", "detail"),
    [
        ("$.a", b"", Problem.EMPTY, "empty payload (a retained message was cleared?)"),
        ("$.a", b"{", Problem.NOT_JSON, "not JSON (Expecting property name"),
        ("$.a", b"\xff\xfe{", Problem.NOT_JSON, "not JSON ("),
        ("$.a", b"[" * 50_000, Problem.NOT_JSON, "not JSON (nested too deeply)"),
        ("$.a", b"[]", Problem.NOT_FOUND, "$.a not found: $ is a list, not an object"),
        ("$.a.b", b'{"a": 3}', Problem.NOT_FOUND, "$.a.b not found: $.a is a number"),
        ("$.a[2]", b'{"a": [1]}', Problem.NOT_FOUND, "$.a[2] not found: $.a has 1 items"),
        ("$.a[0]", b'{"a": {}}', Problem.NOT_FOUND, "$.a is an object, not a list"),
        ("$.a", b'{"b": 1}', Problem.NOT_FOUND, '$ has no key "a"'),
        ("$.a", b'{"a": null}', Problem.WRONG_TYPE, "$.a is null (null), expected a string"),
        ("$.a", b'{"a": {"x": 1}}', Problem.WRONG_TYPE, "$.a is an object (an object)"),
        ("$.a", b'{"a": "maybe"}', Problem.NO_MATCH, '$.a is "maybe", neither on ("on")'),
        ("{{ value_json.a | lower }}", b'{"a": 1}', Problem.WRONG_TYPE, "lower needs a string"),
        ("", b"\xff", Problem.NOT_TEXT, "not UTF-8 text (byte 0)"),
        ("", b"x" * (MAX_PAYLOAD + 1), Problem.TOO_LONG, f"longer than {MAX_PAYLOAD}"),
    ],
)
def test_each_bad_payload_is_a_problem_with_a_clear_line(
    value: str, payload: bytes, problem: Problem, detail: str
) -> None:
    mapping: dict[str, Any] = {"topic": "t", "on": "on", "off": "off"}
    if value:
        mapping["value"] = value
    result = read(rule(MOTION, **mapping), payload)
    assert isinstance(result, Bad), result
    assert result.problem is problem
    assert detail in result.detail
    assert "\n" not in result.detail


@pytest.mark.parametrize(
    "payload",
    ["rtsp://admin:hunter2@10.0.0.5/stream", "hunter2 " * 10, '{"password": "hunter2"}'],
)
def test_a_message_shows_a_word_but_no_other_text(payload: str) -> None:
    """A payload may hold what a log must not (a URL with its credentials)."""
    result = read(rule(MOTION, topic="t"), payload.encode())
    assert isinstance(result, Bad)
    assert "hunter2" not in result.detail
    length = len(payload.strip())
    assert result.detail == (
        f'the payload is a text of {length} characters, neither on ("ON") nor off ("OFF")'
    )
    shown = read(rule(MOTION, topic="t"), b"motion-1")
    assert isinstance(shown, Bad)
    assert '"motion-1"' in shown.detail


def test_a_payload_is_parsed_once_for_every_rule_that_reads_it() -> None:
    payload = Payload(b'{"online": true, "recording": false}')
    first = payload.json()
    assert payload.json() is first


# -- the rules' settings ---------------------------------------------------------------


def problems(spec: Any, mapping: dict[Any, Any]) -> list[tuple[tuple[Any, ...], str, bool]]:
    made, found = parse_rule(spec, mapping)
    assert (made is None) == bool(found)
    return [(p.path, p.reason, p.at_key) for p in found]


def test_yaml_boolean_keys_stand_for_on_and_off() -> None:
    """YAML 1.1 reads an unquoted ``on:`` key as true: it is still the word of on."""
    made, found = parse_rule(RECORDING, {"topic": "t", "value": "$.r", True: "yes", False: "no"})
    assert found == []
    assert made is not None
    assert made.words == (("on", "yes"), ("off", "no"))
    assert problems(RECORDING, {"topic": "t", True: "A", "on": "B"}) == [
        (("on",), "on is given twice (on and true mean the same)", True)
    ]
    assert problems(AVAILABILITY, {"topic": "t", True: "x"}) == [
        ((True,), "unknown key (known: topic, value, online, offline, disabled)", True)
    ]


def test_every_mistake_of_a_rule_is_reported_at_its_key() -> None:
    found = problems(
        MOTION,
        {"topic": "cams/+/motion", "value": "$..m", "on": "ON", "off": "ON", "colour": 1},
    )
    assert [(path, at_key) for path, _, at_key in found] == [
        (("colour",), True),
        (("topic",), False),
        (("value",), False),
        (("off",), False),
    ]
    assert "wildcard" in found[1][1]
    assert "JSON path subset" in found[2][1]
    assert found[3][1] == 'the same word as on ("ON"): each state needs its own'


def test_a_missing_topic_is_reported_under_its_key() -> None:
    assert problems(AVAILABILITY, {}) == [
        (("topic",), "required: the topic the camera publishes on", False)
    ]
    assert problems(AVAILABILITY, {"topic": 12}) == [
        (("topic",), "expected a topic, got a number", False)
    ]


def test_words_compared_as_text_must_be_strings() -> None:
    """Without ``value``, ``on: ON`` unquoted (YAML's true) can never match: refused."""
    (only,) = problems(MOTION, {"topic": "t", "on": True, "off": "OFF"})
    assert only[0] == ("on",)
    assert "write the word in quotes" in only[1]
    assert problems(MOTION, {"topic": "t", "value": "$.m", "on": True, "off": False}) == []


@pytest.mark.parametrize(
    ("mapping", "reason"),
    [
        ({"on": ""}, "an empty word cannot be told from a cleared retained message"),
        ({"on": None}, "expected a word (a string, a number, true or false), got nothing"),
        ({"on": ["ON", "1"]}, "expected a word (a string, a number, true or false), got a list"),
        ({"value": 3}, "expected a JSON path or a template, got a number"),
        ({"value": "{{ value | lower }}", "on": "On"}, "never matches: the template's lower"),
        ({"value": "{{ value | upper }}"}, None),
        ({"value": "{{ value | lower }}"}, 'the default word "ON" never matches'),
        ({"on": 1.0, "off": 1, "value": "$.x"}, "the same word as on (1)"),
        ({"on": True, "off": 1, "value": "$.x"}, None),  # a boolean is not the number 1
    ],
)
def test_words_are_checked(mapping: dict[str, Any], reason: str | None) -> None:
    found = problems(MOTION, {"topic": "t", **mapping})
    if reason is None:
        assert found == []
    else:
        assert any(reason in text for _, text, _ in found), found


# -- never raising ---------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
words = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
paths = st.one_of(
    st.text(max_size=20),
    st.lists(
        st.one_of(
            st.text(max_size=4).map(lambda k: f"[{json.dumps(k)}]"),
            st.sampled_from(
                [".a", ".state", "[0]", "[1]", "..", "[*]", "['x']", " | lower", "}}", "{{"]
            ),
        ),
        max_size=5,
    ).map(lambda parts: "$" + "".join(parts)),
    st.sampled_from(["{{ value_json", "{{ value"]).flatmap(
        lambda head: st.text(max_size=12).map(lambda tail: head + tail + " }}")
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    mapping=st.dictionaries(
        st.sampled_from(["topic", "value", "on", "off", "online", "offline", "x", True, False]),
        st.one_of(words, paths, json_values),
        max_size=6,
    ),
    spec=st.sampled_from([AVAILABILITY, RECORDING, MOTION]),
)
def test_checking_a_rule_never_raises(mapping: dict[Any, Any], spec: Any) -> None:
    made, found = parse_rule(spec, mapping)
    assert (made is None) == bool(found)
    assert all(isinstance(p, SettingProblem) and p.path for p in found)


@settings(max_examples=300, deadline=None)
@given(
    value=paths,
    payload=st.one_of(st.binary(max_size=64), json_values.map(lambda v: json.dumps(v).encode())),
    on=words,
    off=words,
)
def test_reading_a_payload_never_raises(value: str, payload: bytes, on: Any, off: Any) -> None:
    made, _found = parse_rule(MOTION, {"topic": "t", "value": value, "on": on, "off": off})
    if made is None:
        return
    result = made.read(Payload(payload))
    assert result in ("on", "off") or isinstance(result, Bad)
