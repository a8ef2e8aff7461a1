"""The codec runs under the real MicroPython interpreter and agrees with CPython.

The same script of test vectors (codec_vectors.py) runs under both interpreters, on
the codec file exactly as the board gets it; their outputs must be identical, and
equal to the known answers in codec_vectors.txt (checked by hand against the
CRC catalogue's check value and the published COBS examples, and asserted below).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bridge.micropython import run_cpython, run_micropython, stage_codec

HERE = Path(__file__).resolve().parent
VECTORS = HERE / "codec_vectors.py"
EXPECTED = (HERE / "codec_vectors.txt").read_text().splitlines()


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("board")
    stage_codec(directory)
    return directory


def _lines(result: object) -> list[str]:
    import subprocess

    assert isinstance(result, subprocess.CompletedProcess)
    assert result.returncode == 0, result.stderr
    return str(result.stdout).splitlines()


def test_micropython_gives_the_known_answers(staged: Path) -> None:
    got = _lines(run_micropython(VECTORS, staged))
    assert got == EXPECTED


def test_cpython_gives_the_same_answers(staged: Path) -> None:
    got = _lines(run_cpython(VECTORS, staged))
    assert got == EXPECTED


def test_the_known_answers_are_the_published_ones() -> None:
    """The vectors file is not merely what the code once printed."""
    answers = dict(line.split(": ", 1) for line in EXPECTED)
    assert answers["crc check"] == "0x29b1"  # CRC-16/CCITT-FALSE's catalogue check value
    assert answers["cobs 00"] == "0101"
    assert answers["cobs 0000"] == "010101"
    assert answers["cobs 11220033"] == "0311220233"
    assert answers["cobs 11223344"] == "0511223344"
    assert answers["cobs 11000000"] == "0211010101"
    assert answers["cobs 254"] == "ff" + bytes(range(1, 255)).hex()
    assert answers["cobs 255"] == "01ff" + bytes(range(1, 255)).hex()
    assert answers["cobs 01ff"] == "ff" + bytes(range(1, 255)).hex() + "02ff"
    assert answers["counters"] == (
        "frames=3 bad_crc=1 bad_cobs=2 short=1 oversize=1 unknown=1 version=1 resyncs=3 skipped=300"
    )


def test_the_codec_allocates_nothing_to_frame_and_decode(staged: Path, tmp_path: Path) -> None:
    """The board's paths (Encoder.encode, the packers, Decoder.push) under a locked heap:
    MicroPython raises MemoryError on any allocation while ``heap_lock`` holds."""
    script = tmp_path / "no_alloc.py"
    script.write_text(
        """
import micropython
import bridge_codec as c

def run(line, decoder, encoder, states):
    micropython.heap_lock()
    try:
        for i in range(len(line)):
            decoder.push(line[i])
        n = c.pack_heartbeat(encoder.payload, 0, 100, 5, 0, 0, states, 4, 1)
        wire = encoder.encode(c.HEARTBEAT, 7, n)
        n = c.pack_change(encoder.payload, 0, 1, c.ALARM, 100, 5)
        wire = encoder.encode(c.HOLDUP, 8, n)
    finally:
        micropython.heap_unlock()
    return len(wire)

line = b"noise" + c.encode_frame(c.SET_OUTPUT, 1, b"\\x00\\x01\\x00\\x00") + b"\\x00\\x07\\x00"
decoder = c.Decoder(c.HUB_TYPES)
print(run(line, decoder, c.Encoder(), bytearray(4)), decoder.frames, decoder.errors)
"""
    )
    result = run_micropython(script, staged)
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.split() == ["17", "1", "2"]
