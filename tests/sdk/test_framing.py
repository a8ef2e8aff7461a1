"""The line splitter shared by the panel decoders."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.sdk import Line, LineSplitter, Overflow
from plugins.panels.ad2 import Ad2Decoder
from plugins.panels.dsc_it100 import It100Decoder, encode_it100


def test_splits_at_cr_lf_and_crlf_and_skips_empty_lines() -> None:
    splitter = LineSplitter(64)
    assert splitter.feed(b"one\rtwo\nthree\r\n\r\nfour") == [
        Line(b"one"),
        Line(b"two"),
        Line(b"three"),
    ]
    assert splitter.pending == 4
    assert splitter.finish() == [Line(b"four")]
    assert splitter.finish() == []


def test_line_across_chunks() -> None:
    splitter = LineSplitter(64)
    assert splitter.feed(b"hel") == []
    assert splitter.feed(b"lo\r") == [Line(b"hello")]
    assert splitter.feed(b"\n") == []


def test_overflow_is_reported_once_and_the_tail_kept() -> None:
    splitter = LineSplitter(8)
    first = splitter.feed(b"0123456789")
    assert first == [Overflow(b"01", 8)]
    assert splitter.pending == 8
    assert splitter.feed(b"abcdef") == []  # same over-long line: dropped silently
    assert splitter.pending == 8
    # The tail of the over-long line is marked, so its start is not reported twice.
    assert splitter.feed(b"XY\n") == [Line(b"abcdefXY", after_overflow=True)]
    assert splitter.feed(b"next\n") == [Line(b"next")]


def test_overflow_in_one_chunk_matches_overflow_across_chunks() -> None:
    whole = LineSplitter(8).feed(b"0123456789ABCDEF\nok\n")
    assert whole == [Overflow(b"01234567", 8), Line(b"89ABCDEF", True), Line(b"ok")]
    chunked = LineSplitter(8)
    pieces = chunked.feed(b"0123456789ABCDEF") + chunked.feed(b"\nok\n")
    assert [p for p in pieces if isinstance(p, Line)] == [Line(b"89ABCDEF", True), Line(b"ok")]
    assert sum(isinstance(p, Overflow) for p in pieces) == 1


def test_evidence_is_bounded() -> None:
    (overflow, line) = LineSplitter(4).feed(b"x" * 10_000 + b"\n")
    assert isinstance(overflow, Overflow)
    assert len(overflow.dropped) == 256
    assert line == Line(b"xxxx", True)


def test_max_line_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_line"):
        LineSplitter(0)


def test_a_run_without_a_line_end_counts_one_block_per_max_line_dropped() -> None:
    splitter = LineSplitter(8)
    splitter.feed(b"0123456789")  # 2 bytes dropped: the run's first block
    assert splitter.overflow_blocks == 1
    splitter.feed(b"x" * 6)  # 8 dropped: still the first block
    assert splitter.overflow_blocks == 1
    splitter.feed(b"x")  # the 9th dropped byte starts the second
    assert splitter.overflow_blocks == 2
    splitter.feed(b"\n")  # the run ends
    assert splitter.feed(b"0123456789\n") == [Overflow(b"01", 8), Line(b"23456789", True)]
    assert splitter.overflow_blocks == 3  # a new run: its first block


@given(
    length=st.integers(0, 2000),
    cuts=st.lists(st.integers(0, 2000), max_size=20),
)
def test_blocks_depend_on_the_run_length_not_on_the_chunks(length: int, cuts: list[int]) -> None:
    """Noise with no line end at all (a wrong baud rate can make it) keeps counting:
    every ``max_line`` bytes beyond the longest line is one more block."""
    data = b"\xff" * length
    splitter = LineSplitter(64)
    start = 0
    for cut in [*sorted(set(cuts)), length]:
        splitter.feed(data[start:cut])
        start = max(start, cut)
    assert splitter.overflow_blocks == -(-max(0, length - 64) // 64)


def test_what_counts_as_noise_for_a_protocol_with_a_checksum() -> None:
    decoder = It100Decoder("centrale")
    stats = decoder.stats
    decoder.feed(b"\x00\xff\x1bjunk\r\n")  # bytes no IT-100 line holds
    assert (stats.rejected, stats.noise) == (1, 1)
    decoder.feed(b"a line the panel printed\r\n")  # printable: not noise
    assert (stats.rejected, stats.noise) == (2, 1)
    assert decoder.feed(b"x#~" + encode_it100("625"))  # skipped to find the frame
    assert (stats.rejected, stats.noise) == (3, 2)
    good = encode_it100("601", "1005")
    decoder.feed(good[:-4] + (b"00" if good[-4:-2] != b"00" else b"01") + b"\r\n")
    assert (stats.rejected, stats.bad_checksum, stats.noise) == (4, 1, 2)
    assert stats.line_errors == 3
    # A run too long to be a frame: one reject as evidence, noise per 128 bytes dropped.
    decoder.feed(b"x" * (128 + 300) + b"\r\n")
    assert (stats.rejected, stats.noise) == (5, 2 + 3)


def test_without_a_checksum_every_reject_is_noise() -> None:
    decoder = Ad2Decoder("centrale")
    decoder.feed(b"a line the decoder cannot use\r\n")
    assert (decoder.stats.rejected, decoder.stats.noise) == (1, 1)
