"""The bridge firmware on the real MicroPython interpreter, its UART on a pty.

The test stands where the hub stands: it speaks to the board with the codec, and
drives the board's pins through the host's ``machine`` stand-in. No assertion is on
time: each waits for a frame, with a timeout only to fail rather than hang.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plugins.bridge import codec
from tests.bridge.firmware import BOARD, FirmwareProcess

HOLDUP_PIN, INPUT_PIN, LOOP_PIN = 2, 3, 26  # inputs 0, 1, 2 of boards/pico.json
FAST: dict[str, Any] = {**copy.deepcopy(BOARD), "heartbeat_ms": 300, "retry_ms": 100}


@pytest.fixture
def board(tmp_path: Path) -> Iterator[FirmwareProcess]:
    firmware = FirmwareProcess(tmp_path / "board", FAST)
    yield firmware
    firmware.close()


def of_type(frame_type: int) -> Any:
    return lambda frame: frame.type == frame_type


def test_the_board_says_hello_at_start_and_answers_the_hubs(board: FirmwareProcess) -> None:
    first = board.expect(lambda frame: True)
    assert first.type == codec.HELLO
    hello = codec.parse_hello(first.payload)
    assert (hello.name, hello.inputs, hello.outputs) == ("pico", 4, 2)
    assert hello.heartbeat_ms == 300
    assert hello.capabilities & codec.CAP_WATCHDOG
    board.hello()
    again = board.expect(of_type(codec.HELLO))
    assert codec.parse_hello(again.payload).boot_id == hello.boot_id


def test_a_hub_of_a_newer_protocol_is_refused_in_words(board: FirmwareProcess) -> None:
    board.expect(of_type(codec.HELLO))  # bytes sent before the board starts are lost
    buf = bytearray(codec.MAX_PAYLOAD)
    n = codec.pack_hello(buf, 0, codec.Hello(max_version=3, min_version=2))
    board.send(codec.HELLO, bytes(buf[:n]))
    error = codec.parse_error(board.expect(of_type(codec.ERROR)).payload)
    assert error.code == codec.ERR_VERSION
    assert "speaks protocol version 1 at most" in error.message()


def test_heartbeats_carry_every_input(board: FirmwareProcess) -> None:
    board.expect(of_type(codec.INPUT))  # input 1's state at start
    beats = [board.expect(of_type(codec.HEARTBEAT)) for _ in range(3)]
    assert [b.seq for b in beats] == sorted(b.seq for b in beats)
    state = codec.parse_heartbeat(beats[-1].payload)
    # Input 1 is a contact closed at rest (inverted); the host's pins start open.
    assert state.states == bytes([codec.NORMAL, codec.ALARM, codec.NORMAL, codec.NORMAL])
    assert (state.pending, state.rx_errors, state.outputs) == (0, 0, 0)


def test_an_input_change_is_debounced_and_reported_once(tmp_path: Path) -> None:
    slow = {**FAST, "debounce_ms": 400}
    board = FirmwareProcess(tmp_path / "board", slow)
    try:
        # Input 1 is a contact closed at rest, found open at start: reported.
        change = codec.parse_change(board.expect(of_type(codec.INPUT)).payload)
        assert (change.input, change.state) == (1, codec.ALARM)
        # A bounce: closed, open, closed again within a few loop turns, well inside the
        # debounce time; then it stays closed.
        for level in (0, 1, 0, 1, 0):
            board.pin(INPUT_PIN, level)
        change = codec.parse_change(board.expect(of_type(codec.INPUT)).payload)
        assert (change.input, change.state) == (1, codec.NORMAL)
        beat = board.expect(of_type(codec.HEARTBEAT))
        assert codec.parse_heartbeat(beat.payload).states[1] == codec.NORMAL
        board.expect(of_type(codec.HEARTBEAT))
        assert [
            codec.parse_change(f.payload).state for f in board.received if f.type == codec.INPUT
        ] == [codec.ALARM, codec.NORMAL]
    finally:
        board.close()


def test_a_holdup_is_sent_again_with_its_seq_until_acknowledged(board: FirmwareProcess) -> None:
    """The board starts before the hub: the hold-up waits, the hub comes, acknowledges."""
    board.expect(of_type(codec.HEARTBEAT))
    board.pin(HOLDUP_PIN, 0)
    copies = [board.expect(of_type(codec.HOLDUP)) for _ in range(3)]
    assert len({(c.seq, c.payload) for c in copies}) == 1
    change = codec.parse_change(copies[0].payload)
    assert (change.input, change.state) == (0, codec.ALARM)
    board.hello()  # the hub arrives late
    board.expect(of_type(codec.HELLO))
    again = board.expect(of_type(codec.HOLDUP))
    assert (again.seq, again.payload) == (copies[0].seq, copies[0].payload)
    board.ack(again)
    while codec.parse_heartbeat(board.expect(of_type(codec.HEARTBEAT)).payload).pending:
        pass
    after = len(board.received)
    for _ in range(3):
        board.expect(of_type(codec.HEARTBEAT))
    assert not [f for f in board.received[after:] if f.type == codec.HOLDUP]


def test_a_cut_or_shorted_loop_is_tamper_and_its_restore_too(board: FirmwareProcess) -> None:
    board.expect(of_type(codec.HEARTBEAT))
    seen = []
    for reading, state in ((65535, codec.CUT), (0, codec.SHORT), (32768, codec.NORMAL)):
        board.adc(LOOP_PIN, reading)
        frame = board.expect(
            lambda f, s=state: f.type == codec.TAMPER and codec.parse_change(f.payload).state == s
        )
        board.ack(frame)
        seen.append(codec.parse_change(frame.payload).input)
    assert seen == [2, 2, 2]
    board.adc(LOOP_PIN, 45000)  # the loop's contact opens: a hold-up, not a tamper
    holdup = codec.parse_change(board.expect(of_type(codec.HOLDUP)).payload)
    assert (holdup.input, holdup.state) == (2, codec.ALARM)


def test_garbage_on_the_line_is_skipped_and_counted(board: FirmwareProcess) -> None:
    board.expect(of_type(codec.HEARTBEAT))
    board.write(b"\xff\x13 line noise \x00\x02\x01\x00" + bytes(range(1, 200)) + b"\x00")
    board.send(codec.REQUEST_STATE)
    beat = codec.parse_heartbeat(board.expect(of_type(codec.HEARTBEAT)).payload)
    while beat.rx_errors < 3:  # a periodic heartbeat may have crossed our request
        beat = codec.parse_heartbeat(board.expect(of_type(codec.HEARTBEAT)).payload)
    assert beat.rx_errors == 3  # noise (bad COBS), a short frame, an oversize run


def test_commands_are_applied_acknowledged_or_refused(board: FirmwareProcess) -> None:
    board.expect(of_type(codec.HEARTBEAT))
    seq = board.send(codec.SET_OUTPUT, bytes([0, 1, 0, 0]))
    ack = board.expect(of_type(codec.ACK))
    assert codec.parse_ack(ack.payload) == (codec.SET_OUTPUT, seq)
    assert board.read_stdout_line("out 15 1") == "out 15 1"  # after "out 15 0" at start
    beat = board.expect(of_type(codec.HEARTBEAT))
    assert codec.parse_heartbeat(beat.payload).outputs == 0b01
    board.send(codec.SET_OUTPUT, bytes([0, 1, 0, 0]), seq=seq)  # its ack was lost
    assert codec.parse_ack(board.expect(of_type(codec.ACK)).payload) == (codec.SET_OUTPUT, seq)

    board.send(codec.SET_OUTPUT, bytes([7, 1, 0, 0]))
    assert codec.parse_error(board.expect(of_type(codec.ERROR)).payload).code == (
        codec.ERR_NO_SUCH_OUTPUT
    )
    modes = bytes([codec.ROLE_HOLDUP | codec.MODE_SUPERVISED, 1, 1, 1])  # pin 2: no ADC
    board.send(codec.CONFIGURE, b"\x00\x00\x00\x00\x00\x00\x04" + modes)
    refused = codec.parse_error(board.expect(of_type(codec.ERROR)).payload)
    assert (refused.code, refused.detail) == (codec.ERR_BAD_CONFIG, 0)
    board.send(0x7E)
    assert codec.parse_error(board.expect(of_type(codec.ERROR)).payload).code == (
        codec.ERR_UNKNOWN_TYPE
    )
    board.send(codec.SET_OUTPUT, b"\x00")
    assert codec.parse_error(board.expect(of_type(codec.ERROR)).payload).code == (
        codec.ERR_BAD_PAYLOAD
    )
    seq = board.send(codec.CONFIGURE, b"\x00\x00\x00\x00\x00\x00\x04" + bytes([0, 1, 1, 1]))
    assert codec.parse_ack(board.expect(of_type(codec.ACK)).payload) == (codec.CONFIGURE, seq)
    beat = board.expect(of_type(codec.HEARTBEAT))
    assert codec.parse_heartbeat(beat.payload).states[0] == codec.DISABLED


def test_the_watchdog_is_fed(board: FirmwareProcess) -> None:
    board.expect(of_type(codec.HEARTBEAT))
    board.command("wdt")
    first = int(board.read_stdout_line("wdt").split()[1])
    board.expect(of_type(codec.HEARTBEAT))
    board.command("wdt")
    assert int(board.read_stdout_line("wdt").split()[1]) > first > 0


def test_the_heap_does_not_grow_over_100000_loop_turns(tmp_path: Path) -> None:
    """The loop runs under ``micropython.heap_lock()``: one allocation and it fails.

    A hold-up is pending (no hub acknowledges it) and heartbeats are due every 50 ms,
    so the turns send, retransmit and scan, as a board waiting for its hub does.
    """
    board = FirmwareProcess(
        tmp_path / "board",
        {**FAST, "heartbeat_ms": 50, "retry_ms": 20},
        args=("--turns", "100000"),
        idle_ms=0,
    )
    try:
        board.pin(HOLDUP_PIN, 0)
        line = board.read_stdout_line("turns", timeout=120)
        assert board.process.wait(timeout=30) == 0, board.stderr_so_far()
        fields = line.split()
        report = dict(zip(fields[::2], map(int, fields[1::2]), strict=True))
        assert report["turns"] == 100000
        assert report["heap_after"] == report["heap_before"]
        assert any(f.type == codec.HOLDUP for f in board.frames(timeout=1))
    finally:
        board.close()
