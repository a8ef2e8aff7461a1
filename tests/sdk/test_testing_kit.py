"""The test kit (``hub.testing``): its helpers, and its fixtures as an outside plugin's
tests get them, through the ``pytest11`` entry point in a pytest run of their own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import TracebackType

import pytest

from hub.sdk import AlarmKind, AlarmSignal, DeviceContext, DeviceType, LinkLost, Setting
from hub.testing import EventRecorder, build_device, running, wait_until


def _signal(zone: str) -> AlarmSignal:
    return AlarmSignal(kind=AlarmKind.HOLDUP, device="box", zone=zone)


async def test_the_recorder_waits_for_what_it_expects_and_says_what_came_instead() -> None:
    recorder = EventRecorder()
    recorder.emit(_signal("a"))
    await recorder.handle(_signal("b"))
    assert [s.zone for s in await recorder.wait_for(AlarmSignal, count=2)] == ["a", "b"]
    assert recorder.of_type(AlarmSignal, lambda s: s.zone == "b") == [recorder.events[1]]
    with pytest.raises(AssertionError, match=r"expected 1 LinkLost within 0.05 s; got \['Al"):
        await recorder.wait_for(LinkLost, timeout=0.05)
    counter = [0]
    recorder.emit(_signal("c"))
    counter[0] = 1
    await recorder.wait_until(lambda: counter[0] == 1, timeout=1)
    await wait_until(lambda: len(recorder.events) == 3, timeout=1)
    with pytest.raises(TimeoutError):
        await wait_until(lambda: False, timeout=0.05)


class Quits:
    """A device whose run() returns at once: the hub would take it for a lost link."""

    def __init__(self, ctx: DeviceContext) -> None:
        self.ctx = ctx

    async def __aenter__(self) -> Quits:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def run(self) -> None:
        return None


async def test_build_device_validates_as_the_hub_and_running_wants_run_to_last() -> None:
    quits = DeviceType("quits", Quits, {"speed": Setting(int, default=1, minimum=1)})
    recorder = EventRecorder()
    with pytest.raises(ValueError, match=r"settings\.speed: 0 is below the minimum 1"):
        build_device(quits, {"speed": 0}, recorder.emit)
    device = build_device(quits, {}, recorder.emit, device_id="q")
    assert device.ctx.settings == {"speed": 1}
    assert device.ctx.device_id == "q"

    async def run_briefly() -> None:
        async with running(device):
            for _ in range(3):  # let run() start, and return
                await asyncio.sleep(0)

    with pytest.raises(AssertionError, match=r"run\(\) must run until it is cancelled"):
        await run_briefly()


OUTSIDE_PLUGIN = '''
"""A tiny outside plugin: each line read is a hold-up on the zone it names."""

from collections.abc import Callable
from dataclasses import dataclass

from hub.sdk import (
    AlarmKind, AlarmSignal, Decoder, DeviceType, Line, LineDecoder, SerialStreamSettings,
    StreamDevice, hookimpl,
)


class EchoDecoder(LineDecoder):
    protocol = "echo"

    def __init__(self, device: str) -> None:
        super().__init__(device, max_line=64)

    def decode_line(self, line: Line) -> list[AlarmSignal]:
        zone = line.data.decode("ascii", "replace").strip()
        return [AlarmSignal(kind=AlarmKind.HOLDUP, device=self.device, zone=zone)]


@dataclass(frozen=True, kw_only=True)
class EchoSettings(SerialStreamSettings):
    pass


class Echo(StreamDevice[EchoSettings]):
    protocol = "echo"
    settings_type = EchoSettings

    def make_decoder(self) -> Decoder:
        return EchoDecoder(self.ctx.device_id)


@hookimpl
def register_device_types(register: Callable[[DeviceType], None]) -> None:
    register(DeviceType("echo", Echo, settings=EchoSettings))
'''

OUTSIDE_TESTS = """
import pytest

import echo_plugin
from hub.sdk import AlarmSignal


@pytest.fixture
def ecrin_plugins():
    return [echo_plugin]


async def test_echo(pty_cable, build_device, running, recorder):
    device = build_device("echo", {"port": pty_cable.path})
    async with running(device):
        await pty_cable.write(b"comptoir\\n")
        (signal,) = await recorder.wait_for(AlarmSignal)
    assert signal.zone == "comptoir"
    assert signal.device == "centrale"


def test_unknown_type(build_device):
    with pytest.raises(LookupError, match="known: echo"):
        build_device("nope", {})
"""

MISSPELLED = '''
from hub.sdk import hookimpl


@hookimpl
def register_device_type(register):
    """Misspelled: pluggy would ignore it without check_pending."""


def test_uses_the_manager(plugin_manager):
    pass


import pytest
import sys


@pytest.fixture
def ecrin_plugins():
    return [sys.modules[__name__]]
'''


def _pytest(directory: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(directory))
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(directory)],
        capture_output=True,
        text=True,
        env=env,
        cwd=directory,
        timeout=120,
        check=False,
    )


def test_an_outside_plugin_tests_itself_with_the_kit_fixtures(tmp_path: Path) -> None:
    """No conftest imports the kit: pytest loads it through the ``pytest11`` entry point."""
    (tmp_path / "echo_plugin.py").write_text(textwrap.dedent(OUTSIDE_PLUGIN))
    (tmp_path / "test_echo.py").write_text(textwrap.dedent(OUTSIDE_TESTS))
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    proc = _pytest(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_the_plugin_manager_fixture_refuses_a_misspelled_hook(tmp_path: Path) -> None:
    (tmp_path / "test_misspelled.py").write_text(textwrap.dedent(MISSPELLED))
    proc = _pytest(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "unknown hook 'register_device_type'" in proc.stdout
