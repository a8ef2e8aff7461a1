"""``ecrin decode``: offline decoding of captures, JSON out, rejects on stderr."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.cli import main
from plugins.panels import DEVICE_TYPES
from plugins.panels.ad2 import encode_ad2_keypad, encode_ad2_lrr
from plugins.panels.contact_id import encode_contact_id
from plugins.panels.decode_cli import PROTOCOLS, decode_main
from plugins.panels.dsc_it100 import encode_it100
from plugins.panels.sia_dc09 import encode_dc09

REPO = Path(__file__).resolve().parents[2]
OLD = datetime(2020, 1, 1, 12, 0, tzinfo=UTC)  # far outside any live window


def run(protocol: str, data: bytes) -> tuple[int, list[dict[str, object]], list[str]]:
    out, err = io.StringIO(), io.StringIO()
    code = decode_main(protocol, io.BytesIO(data), out, err)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    return code, events, err.getvalue().splitlines()


CAPTURES = {
    "contact-id": (
        b"noise\r\n" + encode_contact_id("1234", 1, 122, 1, 3).encode() + b"\r\n"
        b"1234181131010159\r\n" + encode_contact_id("1234", 3, 122, 1, 3).encode(),
        [("holdup", False), ("holdup", True)],
        ["no Contact ID message in line", "bad checksum"],
    ),
    "dsc-it100": (
        encode_it100("601", "1003") + b"6011005FF\r\n" + encode_it100("999") + encode_it100("625"),
        [("burglary", False), ("panic", False)],
        ["bad checksum: expected 5D, got FF", "unknown command 999"],
    ),
    "ad2": (
        encode_ad2_keypad() + b"[0010\r\n" + encode_ad2_lrr(12, 1, 1, 121),
        [(None, None), ("duress", False)],
        ["malformed keypad message"],
    ),
    # The Envisalink's TPI: IT-100 frames after the login line the panel prompts for.
    "envisalink": (
        b"Login:\r\n" + encode_it100("505", "1") + encode_it100("625"),
        [(None, None), ("panic", False)],  # the login's answer, then the panic key
        ["command must be 3 digits"],
    ),
    "sia-dc09": (
        encode_dc09("SIA-DCS", 1, "1234", "Nri1/HA01", timestamp=OLD)
        + b"\nFFFF0010garbage\r"
        + encode_dc09("SIA-DCS", 2, "1234", "Nri1/HR01", timestamp=OLD),
        [("holdup", False), ("holdup", True)],
        ["bad CRC"],
    ),
}


@pytest.mark.parametrize("protocol", sorted(CAPTURES))
def test_decode_capture(protocol: str) -> None:
    data, kinds, reasons = CAPTURES[protocol]
    code, events, errors = run(protocol, data)
    assert code == 0
    assert [(e.get("kind"), e.get("restore")) for e in events] == kinds
    assert all(e["device"] == "decode" for e in events)
    assert len(errors) == len(reasons)
    for line, reason in zip(errors, reasons, strict=True):
        assert line.startswith("skipped: ")
        assert reason in line


def test_every_protocol_has_a_capture() -> None:
    assert set(PROTOCOLS) == set(CAPTURES)


def test_every_panel_device_type_can_be_decoded(capsys: pytest.CaptureFixture[str]) -> None:
    """``ecrin plugins`` lists the panel types; ``ecrin decode`` takes each of them."""
    assert set(PROTOCOLS) == set(DEVICE_TYPES)
    with pytest.raises(SystemExit):
        main(["decode", "-h"])
    shown = capsys.readouterr().out
    for name in DEVICE_TYPES:
        assert name in shown


def test_offline_keeps_the_frame_time() -> None:
    _, events, _ = run("sia-dc09", CAPTURES["sia-dc09"][0])
    assert events[0]["time"] == OLD.isoformat()


def test_last_line_without_line_end_is_decoded() -> None:
    _, events, errors = run("dsc-it100", encode_it100("625").rstrip())
    assert [e["kind"] for e in events] == ["panic"]
    assert errors == []


def test_empty_input() -> None:
    assert run("ad2", b"") == (0, [], [])


def test_unknown_protocol_lists_the_known_ones() -> None:
    code, events, errors = run("ademco-685", b"anything")
    assert code == 2
    assert events == []
    assert errors == [
        "unknown protocol 'ademco-685'; known protocols:"
        " contact-id, dsc-it100, envisalink, ad2, sia-dc09"
    ]


def test_module_entry_point(tmp_path: Path) -> None:
    capture = tmp_path / "panel.log"
    capture.write_bytes(CAPTURES["dsc-it100"][0])
    done = subprocess.run(
        [sys.executable, "-m", "plugins.panels.decode_cli", "dsc-it100", str(capture)],
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    kinds = [json.loads(line)["kind"] for line in done.stdout.decode().splitlines()]
    assert kinds == ["burglary", "panic"]
    assert len(done.stderr.decode().splitlines()) == 2


def test_module_entry_point_reads_stdin_and_reports_usage() -> None:
    command = [sys.executable, "-m", "plugins.panels.decode_cli"]
    done = subprocess.run(
        [*command, "contact-id"],
        cwd=REPO,
        input=encode_contact_id("1234", 1, 120, 1, 9).encode() + b"\n",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert json.loads(done.stdout)["kind"] == "panic"
    usage = subprocess.run(command, cwd=REPO, capture_output=True, timeout=60, check=False)
    assert usage.returncode == 2
    assert b"usage: ecrin decode PROTOCOL [FILE]" in usage.stderr
    missing = subprocess.run(
        [*command, "ad2", "/nonexistent/capture.log"],
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert b"cannot read /nonexistent/capture.log" in missing.stderr
