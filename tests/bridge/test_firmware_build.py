"""The firmware's build check: every file the board runs compiles with ``mpy-cross``
(of the MicroPython release the firmware targets) and imports under MicroPython.

A firmware file that used a construct only CPython has would fail on the board, at
its first start in a shop; this check fails it in CI instead. The last tests prove
the check can fail: a file with such a construct is refused by it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.bridge.micropython import CODEC, FIRMWARE, run_micropython, stage_codec, tool

#: What the board runs: the firmware's modules and the codec. The host stand-in
#: (host/machine.py) is checked too: it runs on MicroPython in the tests.
BOARD_FILES = [*sorted(FIRMWARE.glob("*.py")), CODEC, FIRMWARE / "host" / "machine.py"]


def compile_for_board(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Compile ``source`` to ``.mpy`` with mpy-cross, as a board's build does."""
    return subprocess.run(
        [tool("mpy-cross"), "-o", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def check_imports(module: str, directory: Path) -> subprocess.CompletedProcess[str]:
    """Import ``module`` from ``directory`` under MicroPython (a module whose import
    starts the board, main.py, is compiled only)."""
    script = directory / "check_import.py"
    script.write_text(f"import {module}\nprint('ok')\n")
    return run_micropython(script, directory)


def test_mpy_cross_is_the_release_the_firmware_targets() -> None:
    version = subprocess.run(
        [tool("mpy-cross"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert "MicroPython v1.28" in version


@pytest.mark.parametrize("source", BOARD_FILES, ids=lambda p: p.name)
def test_every_board_file_compiles_with_mpy_cross(source: Path, tmp_path: Path) -> None:
    result = compile_for_board(source, tmp_path / (source.stem + ".mpy"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / (source.stem + ".mpy")).stat().st_size > 0


@pytest.mark.parametrize("module", ["bridge_codec", "inputs", "outbox", "bridge"])
def test_every_board_module_imports_under_micropython(module: str, tmp_path: Path) -> None:
    for source in FIRMWARE.glob("*.py"):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    (tmp_path / "machine.py").write_bytes((FIRMWARE / "host" / "machine.py").read_bytes())
    stage_codec(tmp_path)
    result = check_imports(module, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_cpython_only_syntax_fails_the_build(tmp_path: Path) -> None:
    source = tmp_path / "bad_syntax.py"
    source.write_text(
        "def kind(state):\n    match state:\n        case 0:\n            return 'normal'\n"
    )
    result = compile_for_board(source, tmp_path / "bad_syntax.mpy")
    assert result.returncode != 0
    assert "SyntaxError" in result.stderr


def test_a_cpython_only_module_fails_the_build(tmp_path: Path) -> None:
    source = tmp_path / "bad_import.py"
    source.write_text(
        "from dataclasses import dataclass\n\n@dataclass\nclass State:\n    level: int = 0\n"
    )
    assert compile_for_board(source, tmp_path / "bad_import.mpy").returncode == 0
    result = check_imports("bad_import", tmp_path)
    assert result.returncode != 0
    assert "ImportError" in result.stderr + result.stdout
