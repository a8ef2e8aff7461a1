"""The open-files limit is raised at start as far as the hard limit allows."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs prlimit")

SHOW = (
    "import logging, resource, sys\n"
    "logging.basicConfig(stream=sys.stderr, level='INFO')\n"
    "from hub.descriptors import raise_open_files_limit\n"
    "print(*raise_open_files_limit(), *resource.getrlimit(resource.RLIMIT_NOFILE))\n"
)


def run_limited(nofile: str) -> tuple[list[int], str]:
    done = subprocess.run(
        ["prlimit", f"--nofile={nofile}", "--", sys.executable, "-c", SHOW],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [int(n) for n in done.stdout.split()], done.stderr


def test_the_soft_limit_is_raised_to_the_hard_limit_and_logged() -> None:
    numbers, log = run_limited("1024:4096")
    assert numbers == [4096, 4096, 4096, 4096]
    assert len(log.splitlines()) == 1


def test_a_soft_limit_already_at_the_hard_limit_stays() -> None:
    numbers, _ = run_limited("1024:1024")
    assert numbers == [1024, 1024, 1024, 1024]
