"""What a camera's payloads mean, as an installer states it: pure, no I/O, never raising.

A camera or a bridge that speaks MQTT says its availability, its recording and its
motion on topics of its own, in words of its own: ``online``, ``Offline``, ``ON``, a
JSON object ``{"state": "online"}``, ``{"recording": true}``. The ``mqtt-camera``
settings state, for each of the three, the topic, where the value is in the payload
(``value``: a JSON path or a Home Assistant style template, in a small subset) and the
word of each state. This module turns those settings into ``PayloadRule`` values,
reporting each mistake as a ``SettingProblem`` at its key, and reads payloads with
them.

Both languages are deliberately small, and neither runs code:

* a JSON path: ``$`` (the whole JSON payload), then any number of ``.key``,
  ``['key']`` (or ``["key"]``) and ``[index]`` (from 0);
* a template: ``{{ value }}`` (the payload as text) or ``{{ value_json }}`` followed
  by ``.key``, ``['key']`` and ``[index]`` as above, then any number of the filters
  ``lower``, ``upper`` and ``trim`` (``{{ value_json.state | lower }}``).

A value read through JSON keeps its JSON type, and is compared with the words by type
and value: ``on: true`` matches the JSON ``true``, not the string ``"true"``. Without
``value`` (or with ``{{ value }}``) the payload is text, stripped of surrounding
blanks, compared with words that must then be strings.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hub.sdk import SettingProblem

__all__ = [
    "AVAILABILITY",
    "MAX_PAYLOAD",
    "MOTION",
    "RECORDING",
    "Bad",
    "Extraction",
    "Payload",
    "PayloadRule",
    "Problem",
    "RuleSpec",
    "Word",
    "parse_extraction",
    "parse_rule",
    "rule_problems",
    "topic_problem",
]

#: A state's word, as the settings give it.
Word = str | bool | int | float

#: The longest payload read (bytes): a camera's state is a word or a small JSON
#: object, and a huge payload must not cost the hub's loop a long parse.
MAX_PAYLOAD: Final = 65536

#: The longest topic MQTT allows (bytes of UTF-8).
_MAX_TOPIC: Final = 65535

#: The filters of the template subset, each a function of a string.
_FILTERS: Final[dict[str, Callable[[str], str]]] = {
    "lower": str.lower,
    "upper": str.upper,
    "trim": str.strip,
}


class Problem(enum.StrEnum):
    """Why a payload could not be read: the counter it is counted under."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_TEXT = "not_text"
    NOT_JSON = "not_json"
    NOT_FOUND = "not_found"
    WRONG_TYPE = "wrong_type"
    NO_MATCH = "no_match"


@dataclass(frozen=True, slots=True)
class Bad:
    """A payload a rule could not use: the problem, and one line that says it."""

    problem: Problem
    detail: str


def _kind(value: Any) -> str:
    """What a JSON value is, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


#: A string shown in a message: a short word. Anything else (a URL, which may carry
#: credentials, a sentence, a blob) is described by its length only.
_SHOWN = re.compile(r"[\w .+-]{0,32}")


def _show(value: Any) -> str:
    """A short, one-line rendering of a value for a message: a word is shown, other
    text only by its length (a payload may hold what the log must not)."""
    if isinstance(value, str):
        if _SHOWN.fullmatch(value):
            return json.dumps(value, ensure_ascii=False)
        return f"a text of {len(value)} characters"
    if isinstance(value, bool | int | float) or value is None:
        return json.dumps(value)
    return _kind(value)


def _same(value: Any, word: Word) -> bool:
    """Whether a value is a word: the same kind (string, boolean, number) and equal."""
    return _same_kind(value, word) and value == word


#: What ``Payload`` holds before its JSON is read (the JSON ``null`` is None).
_UNREAD: Final = object()


class Payload:
    """One message's payload, read as text or JSON at most once whatever the number
    of rules that read it."""

    __slots__ = ("_json", "_text", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._text: str | Bad | None = None
        self._json: Any = _UNREAD

    def _size(self) -> Bad | None:
        if not self.raw:
            return Bad(Problem.EMPTY, "empty payload (a retained message was cleared?)")
        if len(self.raw) > MAX_PAYLOAD:
            return Bad(
                Problem.TOO_LONG, f"payload of {len(self.raw)} bytes, longer than {MAX_PAYLOAD}"
            )
        return None

    def text(self) -> str | Bad:
        """The payload as text, stripped of surrounding blanks."""
        if self._text is None:
            bad = self._size()
            if bad is not None:
                self._text = bad
            else:
                try:
                    self._text = self.raw.decode("utf-8").strip()
                except UnicodeDecodeError as exc:
                    self._text = Bad(Problem.NOT_TEXT, f"not UTF-8 text (byte {exc.start})")
        return self._text

    def json(self) -> Any:
        """The payload's JSON value, or a ``Bad``."""
        if self._json is _UNREAD:
            bad = self._size()
            if bad is not None:
                self._json = bad
            else:
                try:
                    self._json = json.loads(self.raw)
                except json.JSONDecodeError as exc:
                    self._json = Bad(Problem.NOT_JSON, f"not JSON ({exc.msg} at {exc.pos})")
                except (ValueError, RecursionError) as exc:  # bad encoding, too deep
                    reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
                    self._json = Bad(Problem.NOT_JSON, f"not JSON ({reason})")
        return self._json


@dataclass(frozen=True, slots=True)
class Extraction:
    """Where the value is in a payload.

    Attributes:
        source: the ``value`` setting as written; empty for the whole payload as text.
        steps: the keys and indexes from the JSON root down to the value; None when
            the value is the payload's text.
        filters: the template's filters, applied in order (they need a string).
    """

    source: str = ""
    steps: tuple[str | int, ...] | None = None
    filters: tuple[str, ...] = ()

    @property
    def text(self) -> bool:
        """The value is the payload's text (its words must be strings)."""
        return self.steps is None

    def _where(self, depth: int) -> str:
        """The path down to ``depth`` steps, in JSON path spelling, for messages."""
        out = "$"
        for step in (self.steps or ())[:depth]:
            out += f"[{step}]" if isinstance(step, int) else f".{step}"
        return out

    def extract(self, payload: Payload) -> Any:
        """The value in ``payload``, or a ``Bad`` saying why there is none."""
        if self.steps is None:
            value: Any = payload.text()
            if isinstance(value, Bad):
                return value
        else:
            value = payload.json()
            if isinstance(value, Bad):
                return value
            for depth, step in enumerate(self.steps):
                if isinstance(step, int):
                    if not isinstance(value, list):
                        return self._missing(depth, f"is {_kind(value)}, not a list")
                    if step >= len(value):
                        return self._missing(depth, f"has {len(value)} items, no [{step}]")
                    value = value[step]
                else:
                    if not isinstance(value, dict):
                        return self._missing(depth, f"is {_kind(value)}, not an object")
                    if step not in value:
                        return self._missing(depth, f"has no key {json.dumps(step)}")
                    value = value[step]
        for name in self.filters:
            if not isinstance(value, str):
                return Bad(
                    Problem.WRONG_TYPE,
                    f"{self.source} filters {_kind(value)} ({_show(value)}): {name} needs a string",
                )
            value = _FILTERS[name](value)
        return value

    def _missing(self, depth: int, why: str) -> Bad:
        return Bad(Problem.NOT_FOUND, f"{self.source} not found: {self._where(depth)} {why}")


# -- the two small languages ------------------------------------------------------------

_PATH_KEY = re.compile(r"[^\W\d][\w-]*")  # a JSON path's dotted key: name, name-2, état
_TEMPLATE_KEY = re.compile(r"[^\W\d]\w*")  # a template's attribute: a Jinja name
_INDEX = re.compile(r"\[\s*(\d+)\s*\]")
_QUOTED = re.compile(r"""\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]""", re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)
_TEMPLATE = re.compile(r"\s*\{\{(.*)\}\}\s*", re.S)
_TEMPLATE_NAME = re.compile(r"\s*(value_json|value)\b")
_FILTER_STEP = re.compile(r"\s*\|\s*(\w+)")
_BLANKS = re.compile(r"\s*")
_PATH_HELP: Final = "$, then .key, ['key'] or [0]"
_TEMPLATE_HELP: Final = (
    "{{ value }} or {{ value_json }} with .key, ['key'] or [0], then | lower, | upper or | trim"
)


def _steps(text: str, start: int, key: re.Pattern[str]) -> tuple[list[str | int], int]:
    """Read ``.key``, ``['key']`` and ``[0]`` from ``start``; stop at anything else."""
    steps: list[str | int] = []
    pos = start
    while pos < len(text):
        if text[pos] == ".":
            name = key.match(text, pos + 1)
            if name is None:
                break
            steps.append(name.group())
            pos = name.end()
            continue
        index = _INDEX.match(text, pos)
        if index is not None:
            steps.append(int(index.group(1)))
            pos = index.end()
            continue
        quoted = _QUOTED.match(text, pos)
        if quoted is None:
            break
        raw = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
        steps.append(_ESCAPE.sub(r"\1", raw))
        pos = quoted.end()
    return steps, pos


def _unexpected(text: str, pos: int) -> str:
    return (
        f"unexpected {json.dumps(text[pos : pos + 10], ensure_ascii=False)} at character {pos + 1}"
    )


def _parse_path(text: str) -> Extraction | str:
    if not text.startswith("$"):
        return f"a JSON path starts with $ ({_PATH_HELP})"
    steps, pos = _steps(text, 1, _PATH_KEY)
    if pos != len(text):
        return (
            f"{json.dumps(text, ensure_ascii=False)} is not in the JSON path subset"
            f" ({_PATH_HELP}): {_unexpected(text, pos)}"
        )
    return Extraction(text, tuple(steps))


def _parse_template(text: str) -> Extraction | str:
    whole = _TEMPLATE.fullmatch(text)
    if whole is None or "{{" in whole.group(1) or "{%" in text:
        return f"a template is one {{{{ ... }}}} expression ({_TEMPLATE_HELP})"
    body = whole.group(1)
    offset = whole.start(1)
    name = _TEMPLATE_NAME.match(body)
    if name is None:
        return f"a template reads value or value_json ({_TEMPLATE_HELP})"
    pos = name.end()
    steps: list[str | int] | None = None
    if name.group(1) == "value_json":
        steps, pos = _steps(body, pos, _TEMPLATE_KEY)
    filters: list[str] = []
    while True:
        step = _FILTER_STEP.match(body, pos)
        if step is None:
            break
        if step.group(1) not in _FILTERS:
            return f"unknown filter {step.group(1)!r} (known: {', '.join(_FILTERS)})"
        filters.append(step.group(1))
        pos = step.end()
    rest = _BLANKS.match(body, pos)
    if rest is None or rest.end() != len(body):
        return f"not in the template subset ({_TEMPLATE_HELP}): {_unexpected(text, offset + pos)}"
    return Extraction(text, tuple(steps) if steps is not None else None, tuple(filters))


def parse_extraction(text: str) -> Extraction | str:
    """The extraction a ``value`` setting states, or why it is refused.

    ``$...`` is a JSON path, ``{{ ... }}`` a template; anything else is refused.
    """
    stripped = text.strip()
    if stripped.startswith("$"):
        return _parse_path(stripped)
    if stripped.startswith("{{") or "{%" in stripped:
        return _parse_template(text)
    return f"expected a JSON path ({_PATH_HELP}) or a template ({_TEMPLATE_HELP})"


def topic_problem(topic: str) -> str | None:
    """Why a string cannot be a topic a camera publishes on, or None."""
    if not topic:
        return "a topic cannot be empty"
    if "+" in topic or "#" in topic:
        return (
            f"{json.dumps(topic, ensure_ascii=False)} has a wildcard (+ or #): name the one"
            " topic the camera publishes on"
        )
    if topic.startswith("$"):
        return "topics starting with $ are the broker's own ($SYS...), not a camera's"
    if "\x00" in topic:
        return "a topic cannot hold a NUL character"
    if len(topic.encode("utf-8")) > _MAX_TOPIC:
        return f"a topic is at most {_MAX_TOPIC} bytes"
    return None


# -- rules -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What one kind of rule takes: its name, and its states with their default words.

    Attributes:
        what: ``availability``, ``recording`` or ``motion``.
        states: each state and its default word (None: the state is optional and off
            unless a word is given).
    """

    what: str
    states: tuple[tuple[str, Word | None], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys its mapping takes."""
        return ("topic", "value", *(state for state, _ in self.states))


#: Availability: Home Assistant's defaults (``online``/``offline``), and ``disabled``
#: only when the camera has a word for it.
AVAILABILITY: Final = RuleSpec(
    "availability", (("online", "online"), ("offline", "offline"), ("disabled", None))
)
#: Recording and motion: Home Assistant's binary sensor defaults, ``ON`` and ``OFF``.
RECORDING: Final = RuleSpec("recording", (("on", "ON"), ("off", "OFF")))
MOTION: Final = RuleSpec("motion", (("on", "ON"), ("off", "OFF")))


@dataclass(frozen=True, slots=True)
class PayloadRule:
    """One kind of state a camera reports: where, and in which words.

    Attributes:
        what: ``availability``, ``recording`` or ``motion``.
        topic: the topic it is published on.
        extraction: where the value is in the payload.
        words: each state and its word, e.g. ``(("on", True), ("off", False))``.
    """

    what: str
    topic: str
    extraction: Extraction
    words: tuple[tuple[str, Word], ...]

    def read(self, payload: Payload) -> str | Bad:
        """The state a payload says, or a ``Bad``."""
        value = self.extraction.extract(payload)
        if isinstance(value, Bad):
            return value
        for state, word in self.words:
            if _same(value, word):
                return state
        where = self.extraction.source or "the payload"
        said = " nor ".join(f"{state} ({_show(word)})" for state, word in self.words)
        if not any(_same_kind(value, word) for _, word in self.words):
            kinds = sorted({_kind(word) for _, word in self.words})
            return Bad(
                Problem.WRONG_TYPE,
                f"{where} is {_kind(value)} ({_show(value)}), expected {' or '.join(kinds)}",
            )
        return Bad(Problem.NO_MATCH, f"{where} is {_show(value)}, neither {said}")


def _same_kind(value: Any, word: Word) -> bool:
    """Whether a value is of a word's kind: string, boolean or number (not a boolean)."""
    if isinstance(word, bool) or isinstance(value, bool):
        return isinstance(word, bool) and isinstance(value, bool)
    if isinstance(word, str):
        return isinstance(value, str)
    return isinstance(value, int | float)


def _key_name(key: Hashable, spec: RuleSpec) -> str | None:
    """The key a mapping entry stands for. YAML 1.1 reads an unquoted ``on`` and
    ``off`` as true and false, so a boolean key is ``on`` or ``off`` where those are
    states."""
    if isinstance(key, bool) and "on" in spec.keys:
        return "on" if key else "off"
    if isinstance(key, str) and key in spec.keys:
        return key
    return None


def _word_problem(word: Any, extraction: Extraction) -> str | None:
    if not isinstance(word, str | bool | int | float):
        got = "nothing (null)" if word is None else _kind(word)
        return f"expected a word (a string, a number, true or false), got {got}"
    if extraction.text and not isinstance(word, str):
        return (
            f"got {_kind(word)} ({_show(word)}): without value, the payload is compared as"
            " text, so write the word in quotes (YAML reads an unquoted ON, OFF, yes, no,"
            " true or false as a boolean)"
        )
    if isinstance(word, str):
        if not word:
            return "an empty word cannot be told from a cleared retained message"
        for name in extraction.filters:
            if name in ("lower", "upper") and _FILTERS[name](word) != word:
                return f"never matches: the template's {name} filter gives {name}-case text"
    return None


def parse_rule(
    spec: RuleSpec, value: Mapping[Any, Any]
) -> tuple[PayloadRule | None, list[SettingProblem]]:
    """Read one rule's mapping (``{topic: ..., value: ..., on: ..., off: ...}``).

    Returns:
        The rule (None when anything is wrong) and every problem found, each with the
        path to its key as the mapping holds it, so that the configuration loader
        reports it at its line and column.
    """
    problems: list[SettingProblem] = []
    given: dict[str, tuple[Hashable, Any]] = {}
    for key, item in value.items():
        name = _key_name(key, spec)
        if name is None:
            known = ", ".join(spec.keys)
            problems.append(SettingProblem((key,), f"unknown key (known: {known})", at_key=True))
        elif name in given:
            problems.append(
                SettingProblem(
                    (key,), f"{name} is given twice (on and true mean the same)", at_key=True
                )
            )
        else:
            given[name] = (key, item)

    topic: str | None = None
    if "topic" not in given:
        problems.append(SettingProblem(("topic",), "required: the topic the camera publishes on"))
    else:
        key, item = given["topic"]
        reason = (
            topic_problem(item) if isinstance(item, str) else f"expected a topic, got {_kind(item)}"
        )
        if reason is not None:
            problems.append(SettingProblem((key,), reason))
        else:
            topic = item

    extraction: Extraction | None = Extraction()
    if "value" in given:
        key, item = given["value"]
        parsed = (
            parse_extraction(item)
            if isinstance(item, str)
            else f"expected a JSON path or a template, got {_kind(item)}"
        )
        if isinstance(parsed, str):
            problems.append(SettingProblem((key,), parsed))
            extraction = None
        else:
            extraction = parsed

    # With a refused value, words are checked as JSON ones: their type only.
    probe = extraction if extraction is not None else Extraction("$", ())
    words: list[tuple[str, Word]] = []
    for state, default in spec.states:
        key, word = given.get(state, (state, default))
        if word is None and state not in given:
            continue  # an optional state the camera has no word for
        reason = _word_problem(word, probe)
        if reason is None:
            twin = next((s for s, w in words if _same(word, w)), None)
            if twin is not None:
                reason = f"the same word as {twin} ({_show(word)}): each state needs its own"
        if reason is not None:
            if state not in given:
                reason = f"the default word {_show(word)} {reason}; give {state}: its word"
            problems.append(SettingProblem((key,), reason))
            continue
        words.append((state, word))

    if problems or topic is None or extraction is None:
        return None, problems
    return PayloadRule(spec.what, topic, extraction, tuple(words)), []


def rule_problems(spec: RuleSpec) -> Callable[[Any], Sequence[SettingProblem]]:
    """The settings check of one rule's mapping: every problem, each at its key."""

    def check(value: Mapping[Any, Any]) -> Sequence[SettingProblem]:
        return parse_rule(spec, value)[1]

    return check
