"""Plugin loading through real entry points (a site directory of installed distributions)."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import hookspecs
from hub.hookspecs import HubInfo
from hub.plugins import PluginManager

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(__file__).resolve().parent / "fixtures" / "plugin_site"
INFO = HubInfo(site="Bijouterie", config_path="shop.yaml", devices=("panel",))


@pytest.fixture
def plugin_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Make the fixture distributions importable and visible to importlib.metadata."""
    monkeypatch.syspath_prepend(str(SITE))
    monkeypatch.delenv("ECRIN_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("ECRIN_TRACE_PLUGINS", raising=False)
    importlib.invalidate_caches()
    yield SITE
    for name in (
        "ecrin_goodplug",
        "ecrin_guardplug",
        "ecrin_clashplug",
        "ecrin_brokenplug",
        "ecrin_cmdplug",
        "ecrin_badcmdplug",
    ):
        sys.modules.pop(name, None)


def test_builtin_plugins_load_through_entry_points(plugin_site: Path) -> None:
    manager = PluginManager.from_environment()
    records = {r.name: r for r in manager.records()}
    assert records["sim"].distribution == "ecrin"
    assert records["sim"].module == "plugins.sim"
    assert {"sim-panel", "sim-camera", "mqtt-camera"} <= set(manager.device_types())
    assert records["mqtt-camera"].module == "plugins.cameras.mqtt_camera"


def test_third_party_plugin_has_version_hooks_and_device_types(plugin_site: Path) -> None:
    manager = PluginManager.from_environment()
    good = next(d for d in manager.describe() if d["name"] == "good")
    assert good["version"] == "1.2.3"
    assert good["distribution"] == "ecrin-goodplug"
    assert good["hooks"] == ["hub_started", "hub_stopping", "register_device_types"]
    assert good["essential"] is False


def test_broken_plugin_is_one_error_and_the_others_load(plugin_site: Path) -> None:
    manager = PluginManager.from_environment()
    errors = [e for e in manager.errors if e.plugin == "broken"]
    assert len(errors) == 1
    assert "ecrin_dependency_that_is_not_installed" in errors[0].reason
    assert "good" in {r.name for r in manager.records()}


def test_duplicate_device_type_names_both_plugins(plugin_site: Path) -> None:
    manager = PluginManager.from_environment()
    catalogue = manager.device_types()
    assert "doorbell" in catalogue
    clash = [e for e in manager.errors if "doorbell" in e.reason]
    assert len(clash) == 1
    assert {clash[0].plugin, *re.findall(r"plugin (\w+)", clash[0].reason)} == {"good", "clash"}


#: The guard plugin plays the part of Écrin's own essential plugin (escalation): its
#: distribution is trusted in these tests, as Écrin's own is in production.
TRUSTED = frozenset({"ecrin", "ecrin-guardplug"})


def test_allowlist_loads_only_named_plugins_plus_essential(
    plugin_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECRIN_LOAD_PLUGINS", "good")
    manager = PluginManager.from_environment(trusted=TRUSTED)
    assert {r.name for r in manager.records()} == {"good", "guard", "escalation"}
    assert manager.errors == []  # the broken plugin was not even imported
    assert "ecrin_brokenplug" not in sys.modules


def test_empty_allowlist_loads_only_essential(
    plugin_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECRIN_LOAD_PLUGINS", "")
    manager = PluginManager.from_environment(trusted=TRUSTED)
    assert [r.name for r in manager.records() if r.essential] == ["escalation", "guard"]
    assert "good" not in {r.name for r in manager.records()}


def test_untrusted_plugin_cannot_make_itself_essential(
    plugin_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECRIN_LOAD_PLUGINS", "good")
    manager = PluginManager.from_environment()
    assert "guard" not in {r.name for r in manager.records()}


def test_configuration_cannot_disable_an_essential_plugin(plugin_site: Path) -> None:
    manager = PluginManager.from_environment(disabled=["guard", "good"], trusted=TRUSTED)
    names = {r.name for r in manager.records()}
    assert "guard" in names
    assert "good" not in names
    assert any(e.plugin == "guard" and "essential" in e.reason for e in manager.errors)


def test_notifications_reach_plugins_and_a_failing_one_is_isolated(plugin_site: Path) -> None:
    manager = PluginManager.from_environment(trusted=TRUSTED)
    good = sys.modules["ecrin_goodplug"]
    manager.hub_started(INFO)
    manager.hub_stopping(INFO)
    assert good.STARTED == [INFO]
    assert good.STOPPING == [INFO]
    assert any(e.plugin == "guard" and "hub_started" in e.reason for e in manager.errors)


def test_each_manager_is_independent(plugin_site: Path) -> None:
    first = PluginManager.from_environment(disabled=["good"])
    second = PluginManager.from_environment()
    assert "good" not in {r.name for r in first.records()}
    assert "good" in {r.name for r in second.records()}


def test_tracing_writes_hook_calls(
    plugin_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = tmp_path / "trace.log"
    monkeypatch.setenv("ECRIN_TRACE_PLUGINS", str(trace))
    manager = PluginManager.from_environment()
    manager.device_types()
    assert "register_device_types" in trace.read_text()


def test_ecrin_plugins_command_prints_json(plugin_site: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(SITE), ECRIN_LOAD_PLUGINS="good,sim")
    proc = subprocess.run(
        [sys.executable, "-m", "hub.cli", "plugins"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    listed = {p["name"]: p for p in json.loads(proc.stdout)}
    assert {"good", "sim"} <= set(listed)
    assert "broken" not in listed
    assert listed["sim"]["device_types"] == ["sim-camera", "sim-panel"]
    assert listed["sim"]["essential"] is False
    assert listed["good"]["version"] == "1.2.3"
    assert listed["good"]["hooks"] == ["hub_started", "hub_stopping", "register_device_types"]
    assert proc.returncode == 0, proc.stderr


def test_every_hook_is_documented() -> None:
    """Each hookspec has a section in docs/plugins.md naming it and each parameter."""
    doc = (ROOT / "docs" / "plugins.md").read_text()
    specs = [
        (name, fn)
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "ecrin_spec")
    ]
    assert specs, "no hookspecs found"
    for name, fn in specs:
        assert f"### `{name}(" in doc, f"hook {name} is not documented in docs/plugins.md"
        section = doc.split(f"### `{name}(", 1)[1].split("\n### ", 1)[0]
        for param in inspect.signature(fn).parameters:
            assert f"`{param}`" in section, f"parameter {param} of {name} is not documented"
