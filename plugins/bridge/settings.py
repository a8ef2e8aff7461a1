"""The settings of the ``bridge`` device type, and what each input of the board is.

The board's own file (firmware-bridge/boards/*.json) says which pin each input is on;
the shop file says what each input means for the shop: a hold-up button, a panic
button, an intrusion contact, or nothing. From that the hub builds the ``CONFIGURE``
frame it sends the board after the handshake (firmware-bridge/PROTOCOL.md), and the
kind of each ``AlarmSignal`` it emits. Which shop zone an input is in comes from the
device's ``zones:`` mapping, input number to zone, exactly as a panel's zone numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.sdk import AlarmKind, SerialStreamSettings, SettingProblem, redefault, setting
from plugins.bridge import codec

__all__ = [
    "INPUT_KINDS",
    "BridgeSettings",
    "InputSpec",
    "input_problems",
    "input_specs",
]

#: What an input may be, with the board role it is given and the signal it raises.
#: Hold-up and panic inputs are reliable on the board (kept until acknowledged);
#: intrusion inputs are ordinary (their state rides every heartbeat anyway).
INPUT_KINDS: Mapping[str, tuple[int, AlarmKind | None]] = {
    "holdup": (codec.ROLE_HOLDUP, AlarmKind.HOLDUP),
    "panic": (codec.ROLE_HOLDUP, AlarmKind.PANIC),
    "intrusion": (codec.ROLE_INPUT, AlarmKind.BURGLARY),
    "off": (codec.ROLE_OFF, None),
}

_FLAGS = ("supervised", "inverted")


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One board input as the shop file describes it.

    Attributes:
        index: the input's number on the board (from 0, in the order of its file).
        kind: ``holdup``, ``panic``, ``intrusion`` or ``off``.
        supervised: a loop with end-of-line resistors, read on the ADC: cut and short
            are told from alarm and reported as tamper.
        inverted: a plain contact closed at rest (it opens on alarm).
    """

    index: int
    kind: str
    supervised: bool = False
    inverted: bool = False

    @property
    def mode(self) -> int:
        """The mode byte of ``CONFIGURE``: the role and the flags."""
        role = INPUT_KINDS[self.kind][0]
        if self.supervised:
            role |= codec.MODE_SUPERVISED
        if self.inverted:
            role |= codec.MODE_INVERTED
        return role

    @property
    def signal(self) -> AlarmKind | None:
        """The kind of signal its alarm raises (None: switched off)."""
        return INPUT_KINDS[self.kind][1]


def _index_problem(key: Any) -> str | None:
    if isinstance(key, bool) or not isinstance(key, int):
        return f"an input number is a whole number from 0, got {key!r}"
    if not 0 <= key < codec.MAX_INPUTS:
        return f"an input number goes from 0 to {codec.MAX_INPUTS - 1}, got {key}"
    return None


def _spec(key: int, value: Any) -> tuple[InputSpec | None, list[SettingProblem]]:
    kinds = ", ".join(INPUT_KINDS)
    if isinstance(value, str):
        if value not in INPUT_KINDS:
            return None, [SettingProblem((key,), f"unknown input kind {value!r} (known: {kinds})")]
        return InputSpec(key, value), []
    if not isinstance(value, Mapping):
        return None, [
            SettingProblem(
                (key,), f"an input is a kind ({kinds}) or a mapping with kind, supervised, inverted"
            )
        ]
    problems: list[SettingProblem] = []
    for name in value:
        if name not in ("kind", *_FLAGS):
            problems.append(
                SettingProblem((key, name), "unknown key (known: kind, supervised, inverted)", True)
            )
    kind = value.get("kind")
    if kind is None:
        problems.append(SettingProblem((key, "kind"), f"required: the input's kind ({kinds})"))
    elif kind not in INPUT_KINDS:
        problems.append(
            SettingProblem((key, "kind"), f"unknown input kind {kind!r} (known: {kinds})")
        )
    flags: dict[str, bool] = {}
    for name in _FLAGS:
        flag = value.get(name, False)
        if not isinstance(flag, bool):
            problems.append(SettingProblem((key, name), f"true or false, got {flag!r}"))
        else:
            flags[name] = flag
    if problems:
        return None, problems
    return InputSpec(key, str(kind), **flags), []


def input_problems(value: Any) -> Sequence[SettingProblem]:
    """The ``inputs`` setting's check: each mistake at its own key."""
    if not isinstance(value, Mapping):
        return [SettingProblem((), "a mapping of input number to kind")]
    problems: list[SettingProblem] = []
    for key, entry in value.items():
        reason = _index_problem(key)
        if reason is not None:
            problems.append(SettingProblem((key,), reason, at_key=True))
            continue
        problems.extend(_spec(key, entry)[1])
    return problems


def input_specs(value: Mapping[Any, Any]) -> dict[int, InputSpec]:
    """The ``inputs`` setting as specs by input number (the setting is checked first).

    Raises:
        ValueError: the value has a mistake (only a value that skipped the check can).
    """
    specs: dict[int, InputSpec] = {}
    for key, entry in value.items():
        reason = _index_problem(key)
        spec, problems = _spec(key, entry) if reason is None else (None, [])
        if spec is None:
            raise ValueError(reason or "; ".join(p.reason for p in problems))
        specs[key] = spec
    return specs


@dataclass(frozen=True, kw_only=True)
class BridgeSettings(SerialStreamSettings):
    """A firmware bridge board on a serial line (USB CDC or a UART)."""

    baudrate: int = redefault(SerialStreamSettings, "baudrate", 115200)
    supervision_interval: float = setting(
        0.0,
        minimum=0.0,
        help="seconds without a good frame from the board reported as link lost"
        " (0: three heartbeat periods)",
    )
    heartbeat: float = setting(
        1.0,
        minimum=0.1,
        maximum=60.0,
        help="seconds between two heartbeats of the board (sent to it after the handshake)",
    )
    debounce_ms: int = setting(
        0, minimum=0, maximum=1000, help="debounce of the board's inputs, ms (0: the board's own)"
    )
    retry_ms: int = setting(
        500,
        minimum=50,
        maximum=10000,
        help="how often a hold-up, tamper or command frame not yet acknowledged is sent again, ms",
    )
    inputs: dict[int, Any] = setting(
        {},
        check=input_problems,
        help="input number -> holdup, panic, intrusion or off, or {kind, supervised, inverted};"
        " inputs not listed are off (empty: the board's own roles)",
    )

    @property
    def heartbeat_ms(self) -> int:
        """The heartbeat period as ``CONFIGURE`` carries it."""
        return round(self.heartbeat * 1000)

    def specs(self) -> dict[int, InputSpec]:
        """The inputs by number."""
        return input_specs(self.inputs)
