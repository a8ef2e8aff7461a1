"""Plugins add ``ecrin`` sub-commands (``register_commands``); the core CLI imports none."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import plugins.panels
import plugins.sim
from hub.cli import CORE_COMMANDS, build_parser
from hub.commands import Command, CommandContext
from hub.hookspecs import hookimpl
from hub.plugins import PluginManager

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(__file__).resolve().parent / "fixtures" / "plugin_site"


def _ecrin(*argv: str, allow: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(SITE), ECRIN_LOAD_PLUGINS=allow)
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def _ok(args: argparse.Namespace, ctx: CommandContext) -> int:
    return 0


class Registers:
    """A plugin object registering the commands it is given."""

    def __init__(self, *commands: Command) -> None:
        self.commands = commands

    @hookimpl
    def register_commands(self, register: Callable[[Command], None]) -> None:
        for command in self.commands:
            register(command)


def test_ecrin_help_lists_plugin_commands_and_a_failing_plugin_is_reported() -> None:
    proc = _ecrin("--help", allow="cmd,badcmd,panels,sim")
    assert proc.returncode == 0, proc.stderr
    for name in ("greet", "decode", "demo", "run", "check-config"):
        assert name in proc.stdout
    assert "greet someone (a test plugin's command)" in proc.stdout
    assert "plugin badcmd: register_commands failed: the command table is broken" in proc.stderr
    assert proc.stderr.count("register_commands failed") == 1


def test_a_plugin_command_runs_beside_a_broken_one() -> None:
    proc = _ecrin("greet", "Lucie", allow="cmd,badcmd")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "bonjour Lucie\n"
    assert proc.stderr.count("register_commands failed") == 1


def test_without_the_panels_plugin_there_is_no_decode_command() -> None:
    """``decode`` comes from the panels plugin, not from the core command line."""
    proc = _ecrin("decode", "contact-id", allow="sim")
    assert proc.returncode == 2
    assert "invalid choice: 'decode'" in proc.stderr


def test_the_demo_finds_its_panel_simulator_in_the_catalogue(tmp_path: Path) -> None:
    """The sim plugin's demo plays a DSC panel with the simulator the panels plugin
    declares on its device type (``DeviceType.simulator``), never by importing it:
    without the panels plugin, the demo says so and cannot run."""
    proc = _ecrin("demo", "--duration", "1", "--keep", str(tmp_path / "d"), allow="sim")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no plugin provides a simulated dsc-it100 panel" in proc.stderr


def test_the_built_in_commands_come_from_their_plugins() -> None:
    manager = PluginManager()
    manager.register(plugins.panels, "panels")
    manager.register(plugins.sim, "sim")
    commands = manager.commands(reserved=CORE_COMMANDS)
    assert sorted(commands) == ["decode", "demo"]
    assert not manager.errors
    help_text = build_parser(commands).format_help()
    assert "decode raw panel bytes into events" in help_text
    assert "run a demo shop with simulated devices" in help_text


def test_a_clash_is_reported_against_the_plugin_and_the_rest_count() -> None:
    manager = PluginManager()
    manager.register(Registers(Command("hello", "says hello", _ok)), "first")
    manager.register(
        Registers(Command("bye", "says bye", _ok), Command("hello", "again", _ok)), "second"
    )
    manager.register(Registers(Command("run", "takes a core name", _ok)), "third")
    manager.register(Registers("not a command"), "fourth")  # type: ignore[arg-type]
    commands = manager.commands(reserved=CORE_COMMANDS)
    assert sorted(commands) == ["hello"]
    assert commands["hello"].help == "says hello"
    reasons = {e.plugin: e.reason for e in manager.errors}
    assert reasons == {
        "second": "register_commands failed: command 'hello' is already registered by plugin first",
        "third": "register_commands failed: command 'run' is a built-in command",
        "fourth": "register_commands failed: expected a Command, got str",
    }


def test_a_plugin_command_gets_its_arguments_and_the_streams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(SITE))
    monkeypatch.setenv("ECRIN_LOAD_PLUGINS", "cmd")
    from hub.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        assert main(["greet", "Marc"], out, err) == 0
    finally:
        sys.modules.pop("ecrin_cmdplug", None)
    assert out.getvalue() == "bonjour Marc\n"
