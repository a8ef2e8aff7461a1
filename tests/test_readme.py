"""The README's commands work as written: a newcomer's first steps must not fail."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ECRIN = ".venv/bin/ecrin"


def try_it_commands() -> list[list[str]]:
    """The first shell block of "## Using it", one command a line, comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using it", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the README's 'Using it' section has a shell block"
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line]


def test_the_try_it_block_runs_as_written(tmp_path: Path) -> None:
    commands = try_it_commands()
    assert [c[1] for c in commands][:2] == ["demo", "journal"]  # the demo, then its journal
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECRIN_")}
    for argv in commands:
        assert argv[0] == ECRIN, argv
        done = subprocess.run(
            [sys.executable, "-m", "hub.cli", *argv[1:]],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,  # the README's relative paths, kept out of the checkout
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{shlex.join(argv)}:\n{done.stdout}\n{done.stderr}"
        if argv[1:3] == ["journal", "verify"]:
            assert "intact" in done.stdout
        if argv[1] == "demo":
            assert "ESCALATION created" in done.stdout
