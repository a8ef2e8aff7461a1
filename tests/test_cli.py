"""The ``ecrin`` command as an installer uses it: real processes, real signals, real files."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.cli import main
from hub.logs import configure_logging
from tests.conftest import write_lock

ROOT = Path(__file__).resolve().parent.parent
ECRIN = [sys.executable, "-m", "hub.cli"]
ENV = dict(os.environ, ECRIN_LOAD_PLUGINS="sim,panels,frigate", PYTHONUNBUFFERED="1")

SHOP = """\
site:
  name: Bijouterie Signal
  address: 5 rue de la Paix, 75002 Paris
  departement: "75"
  timezone: Europe/Paris
zones:
  - {id: comptoir, name: Comptoir, risk: high}
devices:
  - id: panel
    type: sim-panel
    settings: {interval: 0.1, holdup_zone: 1}
    zones: {1: {zone: comptoir, type: holdup}}
mqtt:
  host: 127.0.0.1
  username: hub
  password: !secret mqtt_password
journal:
  path: journal.db
"""


def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    (tmp_path / "secrets.yaml").write_text("mqtt_password: s3cret-Broker-Pass\n")
    return path


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    shutil.copy(ROOT / "config" / "example.yaml", tmp_path / "example.yaml")
    shutil.copy(ROOT / "config" / "secrets.example.yaml", tmp_path / "secrets.yaml")
    out, err = io.StringIO(), io.StringIO()
    assert main(["check-config", str(tmp_path / "example.yaml")], out, err) == 0, err.getvalue()
    assert "valid" in out.getvalue()


def test_check_config_accepts_the_demo() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["check-config", str(ROOT / "config" / "demo.yaml")], out, err) == 0
    assert "valid" in out.getvalue()


def test_check_config_reports_every_error_with_file_line_column(tmp_path: Path) -> None:
    path = shop(tmp_path)
    text = path.read_text().replace("risk: high", "risk: extreme").replace("0.1", "fast")
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    assert main(["check-config", str(path)], out, err) == 1
    lines = err.getvalue().splitlines()
    assert any(line.startswith(f"{path}:7:") and "zones[0].risk" in line for line in lines)
    assert any(line.startswith(f"{path}:11:") and "settings.interval" in line for line in lines)


def test_check_config_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["check-config", str(tmp_path / "nope.yaml")], out, err) != 0
    assert "nope.yaml" in err.getvalue()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_stops_cleanly_on_signal_and_never_logs_secrets(tmp_path: Path, sig: int) -> None:
    path = shop(tmp_path)
    proc = subprocess.Popen(
        [*ECRIN, "--log-level", "debug", "run", "-c", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "running for Bijouterie Signal" in first
        # which broker, never its password
        assert "MQTT broker mqtt://127.0.0.1:1883, user hub, client id" in first
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"stopped ({signal.Signals(sig).name})" in out
    assert "s3cret-Broker-Pass" not in out + err
    assert "MQTT broker: mqtt://127.0.0.1:1883, user hub" in err
    frozen = re.search(r"garbage collector: (\d+) start-up objects set aside", err)
    assert frozen is not None, err
    assert int(frozen.group(1)) > 10_000  # modules, plugins, config: the bulk of the heap
    verify = subprocess.run(
        [*ECRIN, "journal", "verify", "--db", str(tmp_path / "journal.db")],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    tail = subprocess.run(
        [*ECRIN, "journal", "tail", "--db", str(tmp_path / "journal.db"), "-n", "500", "--json"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=False,
    )
    assert '"HubStopping"' in tail.stdout
    assert '"HubStarted"' in tail.stdout


def test_demo_shows_a_holdup_live() -> None:
    """The demo's panel speaks DSC IT-100 on a pty; its hold-up is escalated. Its
    cameras are behind a simulated Frigate on the hub's embedded broker, at a port the
    demo chose."""
    proc = subprocess.run(
        [*ECRIN, "demo", "--duration", "7"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "HOLDUP" in proc.stdout
    assert "comptoir" in proc.stdout
    for camera in ("cam-comptoir", "cam-vitrine"):
        assert re.search(rf"CAMERA online +{camera}$", proc.stdout, re.M), proc.stdout
        assert re.search(rf"RECORDING on +{camera}$", proc.stdout, re.M), proc.stdout
    assert re.search(r"DETECTION new +person on cam-comptoir in comptoir$", proc.stdout, re.M)
    assert "MQTT broker the embedded broker on 127.0.0.1:" in proc.stdout
    assert "127.0.0.1:18830" not in proc.stdout  # moved to a free port
    created = next(line for line in proc.stdout.splitlines() if "ESCALATION created" in line)
    assert ", tier 0, " in created  # numbered from 0, as in the API and the webhooks
    assert "Referent page: http://127.0.0.1:" in proc.stdout


def test_log_redaction_hides_secrets_in_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    redactor = configure_logging(level="debug", stream=stream)
    redactor.update({"hunter2-broker"})
    log = logging.getLogger("ecrin.test")
    log.info("connecting with password hunter2-broker")
    log.warning("password %s rejected", "hunter2-broker")
    try:
        raise ValueError("bad password hunter2-broker")
    except ValueError:
        log.exception("login failed")
    text = stream.getvalue()
    assert "hunter2-broker" not in text
    assert text.count("***") >= 3
    assert len(text.splitlines()) >= 3


def test_decode_prints_json_lines_and_reports_garbage(tmp_path: Path) -> None:
    from plugins.panels.contact_id import encode_contact_id

    good = encode_contact_id("1234", 1, 122, 1, 5)
    capture = tmp_path / "capture.txt"
    capture.write_bytes(b"garbage line\n" + good.encode() + b"\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["decode", "contact-id", str(capture)], out, err) == 0
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["kind"], e["restore"]) for e in events] == [("holdup", False)]
    assert err.getvalue().strip()


def test_decode_missing_file_and_unknown_protocol(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["decode", "contact-id", str(tmp_path / "none.bin")], out, err) == 2
    assert "none.bin" in err.getvalue()
    capture = tmp_path / "empty.bin"
    capture.write_bytes(b"")
    assert main(["decode", "x-10", str(capture)], out, err) == 2


def test_token_new_prints_a_token_and_its_hash() -> None:
    import hashlib

    out = io.StringIO()
    assert main(["token", "new", "referent-37"], out, io.StringIO()) == 0
    text = out.getvalue()
    token = next(w for w in text.split() if w.startswith("ecrin_"))
    assert f"token_sha256: {hashlib.sha256(token.encode()).hexdigest()}" in text


def notify_socket(tmp_path: Path) -> socket.socket:
    """A service manager's notification socket (what systemd passes in NOTIFY_SOCKET)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(30)
    return sock


def messages(sock: socket.socket) -> Iterator[dict[str, str]]:
    while True:
        text = sock.recv(4096).decode()
        yield dict(line.split("=", 1) for line in text.splitlines())


def test_run_tells_the_service_manager_when_it_is_ready_and_when_it_stops(
    tmp_path: Path,
) -> None:
    path = shop(tmp_path)
    with notify_socket(tmp_path) as sock:
        proc = subprocess.Popen(
            [*ECRIN, "run", "-c", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(ENV, NOTIFY_SOCKET=str(tmp_path / "notify")),
            cwd=tmp_path,
        )
        try:
            told = messages(sock)
            assert next(told)["STATUS"].startswith("starting")
            ready = next(told)
            assert ready["READY"] == "1"
            assert ready["STATUS"].startswith("1 of 1 devices running")
            proc.send_signal(signal.SIGTERM)
            stopping = next(told)
            out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
    assert stopping == {"STOPPING": "1", "STATUS": "stopping: SIGTERM"}
    assert proc.returncode == 0, err
    assert "1 of 1 devices running" in out


def test_sigterm_during_start_up_stops_cleanly(tmp_path: Path) -> None:
    """The journal is held by another program, so the start-up waits for it: a SIGTERM
    then lets the start finish and stops the hub in order (exit 0, journal intact)."""
    path = shop(tmp_path)
    journal = tmp_path / "journal.db"
    first = subprocess.run(
        [*ECRIN, "run", "-c", str(path), "--duration", "0.2"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    with notify_socket(tmp_path) as sock:
        with write_lock(journal):
            proc = subprocess.Popen(
                [*ECRIN, "run", "-c", str(path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=dict(ENV, NOTIFY_SOCKET=str(tmp_path / "notify")),
                cwd=tmp_path,
            )
            try:
                told = messages(sock)
                assert next(told)["STATUS"].startswith("starting")
                proc.send_signal(signal.SIGTERM)
                time.sleep(0.5)  # the signal must arrive while the journal is still held
                assert proc.poll() is None, "killed by the signal instead of stopping"
            except BaseException:
                proc.kill()
                raise
        try:
            out, err = proc.communicate(timeout=30)
            stopping = next(told)
        finally:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped (SIGTERM)" in out
    assert "running for" not in out  # never announced as ready
    assert stopping["STOPPING"] == "1"
    verify = subprocess.run(
        [*ECRIN, "journal", "verify", "--db", str(journal)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def exit_code(argv: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    try:
        return main(argv, out, err)
    except SystemExit as exc:  # argparse's own refusals
        return int(exc.code or 0)


@pytest.mark.parametrize(
    "argv",
    [
        ["check-config", "{missing}"],
        ["run", "-c", "{missing}", "--duration", "0"],
        ["demo", "-c", "{missing}", "--duration", "0"],
        ["journal", "verify", "--db", "{missing}"],
        ["journal", "tail", "--db", "{missing}"],
        ["decode", "dsc-it100", "{missing}"],
        ["decode", "x-10", "{empty}"],
        ["no-such-command"],
        ["run"],
    ],
)
def test_a_command_that_cannot_run_exits_2(tmp_path: Path, argv: list[str]) -> None:
    """README, "Exit codes": 2 when the command could not run (a missing file, bad
    usage), whatever the command."""
    (tmp_path / "empty").write_bytes(b"")
    names = {"missing": str(tmp_path / "nope.yaml"), "empty": str(tmp_path / "empty")}
    assert exit_code([arg.format(**names) for arg in argv]) == 2


def test_invalid_input_exits_1_whatever_the_command(tmp_path: Path) -> None:
    """README, "Exit codes": 1 when the input is invalid (a configuration, a journal)."""
    path = shop(tmp_path)
    path.write_text(path.read_text().replace("risk: high", "risk: extreme"))
    assert exit_code(["check-config", str(path)]) == 1
    assert exit_code(["run", "-c", str(path), "--duration", "0"]) == 1
    good = shop(tmp_path)
    assert exit_code(["run", "-c", str(good), "--duration", "0.2"]) == 0
    journal = tmp_path / "journal.db"
    assert exit_code(["journal", "verify", "--db", str(journal)]) == 0
    with sqlite3.connect(journal) as conn:  # an edited row: the chain no longer holds
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        conn.execute("UPDATE events SET payload = '{}' WHERE seq = 2")
    assert exit_code(["journal", "verify", "--db", str(journal)]) == 1
