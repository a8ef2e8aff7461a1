"""The line splitter shared by the panel decoders."""

from __future__ import annotations

import pytest

from plugins.panels.framing import Line, LineSplitter, Overflow


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
