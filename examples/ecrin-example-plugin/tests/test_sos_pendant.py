"""The SOS pendant: its decoder as a pure function, its device on a message session,
with Écrin's test kit (recorder, message_session, build_device, running)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from hub.sdk import AlarmKind, AlarmSignal, Message
from hub.testing import EventRecorder, MemorySession

from ecrin_sos_pendant import PROTOCOL, SosPendantDecoder


def message(payload: Any, *, retain: bool = False) -> Message:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Message("pendants/bijoutier", raw, retain=retain)


# -- the decoder: a message in, events out -------------------------------------------------


def test_a_press_and_its_clear() -> None:
    decoder = SosPendantDecoder("pendant")
    (pressed,) = decoder.decode(message({"action": "sos", "linkquality": 87}))
    (cleared,) = decoder.decode(message({"action": "clear"}))
    assert isinstance(pressed, AlarmSignal)
    assert isinstance(cleared, AlarmSignal)
    assert (pressed.kind, pressed.restore, pressed.device) == (AlarmKind.HOLDUP, False, "pendant")
    assert (cleared.kind, cleared.restore) == (AlarmKind.HOLDUP, True)
    assert pressed.protocol == PROTOCOL


def test_tamper_and_battery() -> None:
    decoder = SosPendantDecoder("pendant")
    events = decoder.decode(message({"tamper": True, "battery_low": True}))
    assert [(e.kind, e.restore) for e in events if isinstance(e, AlarmSignal)] == [
        (AlarmKind.TAMPER, False),
        (AlarmKind.TROUBLE, False),
    ]


def test_a_retained_sos_is_stale_not_a_new_holdup() -> None:
    decoder = SosPendantDecoder("pendant")
    assert decoder.decode(message({"action": "sos"}, retain=True)) == []
    assert decoder.stale == 1


@pytest.mark.parametrize("payload", [b"", b"not json", b"[1, 2]", b'"sos"', b"\xff\xfe"])
def test_bad_payloads_are_counted_never_raised(payload: bytes) -> None:
    decoder = SosPendantDecoder("pendant")
    assert decoder.decode(message(payload)) == []
    assert decoder.stats.rejected == 1
    (pressed,) = decoder.decode(message({"action": "sos"}))  # the next one still counts
    assert isinstance(pressed, AlarmSignal)


def test_random_bytes_never_raise() -> None:
    decoder = SosPendantDecoder("pendant")
    rng = random.Random(7)
    for _ in range(2000):
        decoder.decode(message(rng.randbytes(rng.randrange(64))))
    assert decoder.stats.frames == 2000


# -- the device, on a session, as the hub runs it ---------------------------------------


async def test_a_press_reaches_the_hub(
    build_device: Callable[..., Any],
    running: Callable[[Any], Any],
    recorder: EventRecorder,
    message_session: MemorySession,
) -> None:
    device = build_device(PROTOCOL, {"name": "bijoutier"}, "pendant", messages=message_session)
    async with running(device):
        await message_session.publish("pendants/bijoutier", b'{"action": "sos"}')
        await message_session.publish("pendants/someone-else", b'{"action": "sos"}')
        (signal,) = await recorder.wait_for(AlarmSignal)
    assert (signal.kind, signal.device) == (AlarmKind.HOLDUP, "pendant")
    assert len(recorder.of_type(AlarmSignal)) == 1  # the other pendant's topic is not ours
    # Unsubscribed on exit: a later press goes nowhere.
    await message_session.publish("pendants/bijoutier", b'{"action": "sos"}')
    assert len(recorder.of_type(AlarmSignal)) == 1


async def test_a_retained_state_on_subscription_raises_no_holdup(
    build_device: Callable[..., Any],
    running: Callable[[Any], Any],
    recorder: EventRecorder,
    message_session: MemorySession,
) -> None:
    await message_session.publish("pendants/pendant", b'{"action": "sos"}', retain=True)
    device = build_device(PROTOCOL, {}, "pendant", messages=message_session)
    async with running(device):
        await message_session.publish("pendants/pendant", b'{"tamper": true}')
        (tamper,) = await recorder.wait_for(AlarmSignal)
    assert tamper.kind is AlarmKind.TAMPER
    assert device.decoder.stale == 1


def test_without_a_session_the_device_says_why(build_device: Callable[..., Any]) -> None:
    with pytest.raises(OSError, match="MQTT broker"):
        build_device(PROTOCOL, {}, "pendant")


def test_settings_are_checked_as_the_shop_file_is(build_device: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match=r"settings\.prefix"):
        build_device(PROTOCOL, {"prefix": 3}, "pendant", messages=MemorySession())
