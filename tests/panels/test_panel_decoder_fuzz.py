"""Properties every panel decoder keeps, whatever the link delivers.

Garbage never raises, the buffer stays bounded, chunk boundaries change nothing, and
a good frame after garbage and a line break is still decoded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.decoding import Decoder
from hub.events import Event
from hub.sdk import LineDecoder
from plugins.panels.ad2 import Ad2Decoder, encode_ad2_keypad, encode_ad2_lrr, encode_ad2_rfx
from plugins.panels.contact_id import ContactIdLineDecoder, encode_contact_id
from plugins.panels.dsc_it100 import It100Decoder, encode_it100
from plugins.panels.sia_dc09 import Dc09StreamDecoder, adm_cid_payload, encode_dc09

T0 = datetime(2024, 12, 24, 17, 30, tzinfo=UTC)
KEY = "00112233445566778899AABBCCDDEEFF"


def _dc09() -> LineDecoder:
    return Dc09StreamDecoder("fuzz", keys={"1234": KEY}, now=lambda: T0)


DECODERS: dict[str, tuple[Callable[[], LineDecoder], list[bytes]]] = {
    "contact-id": (
        lambda: ContactIdLineDecoder("fuzz"),
        [
            encode_contact_id("1234", 1, 122, 1, 3).encode() + b"\r\n",
            b"R1 L2 " + encode_contact_id("B2C4", 3, 130, 2, 15).encode() + b"\n",
            encode_contact_id("0001", 1, 401, 0, 7).encode() + b"\r",
        ],
    ),
    "dsc-it100": (
        lambda: It100Decoder("fuzz"),
        [
            encode_it100("601", "1005"),
            encode_it100("625"),
            encode_it100("652", "11"),
            encode_it100("609", "012"),
            encode_it100("500", "000"),
        ],
    ),
    "ad2": (
        lambda: Ad2Decoder("fuzz"),
        [
            encode_ad2_keypad(armed_away=True, ready=False),
            encode_ad2_lrr(8, 1, 1, 123),
            encode_ad2_lrr(12, 1, 1, 121),
            encode_ad2_rfx("0180036", 0x82),
        ],
    ),
    "sia-dc09": (
        _dc09,
        [
            encode_dc09("SIA-DCS", 1, "1234", "Nri1/HA01", timestamp=T0),
            encode_dc09("ADM-CID", 2, "1234", adm_cid_payload(1, 121, 1, 5), timestamp=T0),
            encode_dc09("NULL", 0, "1234", timestamp=T0),
            encode_dc09(
                "SIA-DCS", 3, "1234", "NPA02", key=bytes.fromhex(KEY), timestamp=T0, pad_char="x"
            ),
        ],
    ),
}

NAMES = sorted(DECODERS)
FUZZ = settings(
    max_examples=int(os.environ.get("ECRIN_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("name", NAMES)
def test_decoders_implement_the_hub_interface(name: str) -> None:
    decoder: Decoder = DECODERS[name][0]()  # checked by mypy against hub.decoding.Decoder
    assert decoder.feed(b"") == []
    assert decoder.rejects() == []
    assert decoder.stats.frames == 0


def summary(events: list[Event]) -> list[dict[str, Any]]:
    """Events without the receipt time, which differs between two runs."""
    out = []
    for event in events:
        data = event.to_dict()
        data.pop("time")
        out.append(data)
    return out


def feed_in_chunks(decoder: LineDecoder, data: bytes, cuts: list[int]) -> list[Event]:
    events: list[Event] = []
    start = 0
    for cut in sorted(set(cuts)):
        events.extend(decoder.feed(data[start:cut]))
        start = cut
    events.extend(decoder.feed(data[start:]))
    return events


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(data=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 3000), max_size=20))
def test_garbage_never_raises_and_the_buffer_stays_bounded(
    name: str, data: bytes, cuts: list[int]
) -> None:
    factory, _ = DECODERS[name]
    decoder = factory()
    max_line = decoder._lines.max_line
    start = 0
    events: list[Event] = []
    for cut in [*sorted(set(cuts)), len(data)]:
        events.extend(decoder.feed(data[start:cut]))
        start = max(start, cut)
        assert decoder.pending <= max_line
    events.extend(decoder.finish())
    assert all(isinstance(e, Event) for e in events)
    assert decoder.stats.events == len(events)
    assert decoder.stats.rejected >= len(decoder.rejects())


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(st.data())
def test_chunk_boundaries_change_nothing(name: str, data: st.DataObject) -> None:
    factory, frames = DECODERS[name]
    parts = data.draw(
        st.lists(
            st.one_of(st.sampled_from(frames), st.binary(max_size=40)), min_size=1, max_size=12
        )
    )
    stream = b"".join(parts)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=30))
    whole_decoder, chunked_decoder = factory(), factory()
    whole = list(whole_decoder.feed(stream)) + list(whole_decoder.finish())
    chunked = feed_in_chunks(chunked_decoder, stream, cuts) + list(chunked_decoder.finish())
    assert summary(chunked) == summary(whole)
    assert chunked_decoder.stats.rejected == whole_decoder.stats.rejected
    assert chunked_decoder.stats.noise == whole_decoder.stats.noise


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(st.data())
def test_a_good_frame_after_garbage_and_a_line_break_is_decoded(
    name: str, data: st.DataObject
) -> None:
    factory, frames = DECODERS[name]
    garbage = data.draw(st.binary(max_size=600))
    frame = data.draw(st.sampled_from(frames))
    expected = summary(list(factory().feed(frame)))
    assert expected  # every sample frame decodes on its own
    decoder = factory()
    got = list(decoder.feed(garbage)) + list(decoder.feed(b"\r\n" + frame))
    assert summary(got)[-len(expected) :] == expected


# Noise with no digits, hex letters or frame-start characters: it cannot form a frame
# itself, so the frame glued after it must be found inside the same line.
NOISE = st.text(
    alphabet=st.characters(
        codec="latin-1",
        exclude_characters='0123456789abcdefABCDEF[!"\r\n',
    ),
    max_size=60,
).map(lambda text: text.encode("latin-1"))


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(st.data())
def test_a_good_frame_glued_after_noise_is_decoded(name: str, data: st.DataObject) -> None:
    factory, frames = DECODERS[name]
    noise = data.draw(NOISE)
    frame = data.draw(st.sampled_from(frames))
    expected = summary(list(factory().feed(frame)))
    got = summary(list(factory().feed(noise + frame)))
    # Contact ID keeps the receiver's whole line as evidence; the others keep the frame.
    for event in got:
        if "raw" in event:  # PanelState carries no frame
            assert bytes.fromhex(event.pop("raw")).endswith(frame.strip(b"\r\n"))
    for event in expected:
        event.pop("raw", None)
    assert got == expected
