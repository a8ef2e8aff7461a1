"""The ``home_assistant:`` section: off unless asked for, every mistake at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import ConfigError, load_config
from hub.homeassistant import HomeAssistantSettings, default_node_id, home_assistant_of
from hub.plugins import PluginManager
from tests.homeassistant.support import load, plugin_manager, settings_of, write_shop


def section_line(path: Path) -> int:
    """The line the appended ``home_assistant:`` section starts on."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith("home_assistant:"))


def issues(path: Path) -> list[str]:
    manager = plugin_manager()
    with pytest.raises(ConfigError) as caught:
        load_config(path, manager.device_types(), manager.config_sections())
    return [str(i) for i in caught.value.issues]


def test_discovery_is_off_unless_asked_for(tmp_path: Path) -> None:
    config = load(write_shop(tmp_path, home_assistant=""))
    assert settings_of(config) == HomeAssistantSettings(discovery=False)
    assert settings_of(config).node_id_for(config) == "ecrin-tours"  # the MQTT client id


def test_the_section_read_back(tmp_path: Path) -> None:
    path = write_shop(
        tmp_path,
        "home_assistant:\n  discovery: true\n  prefix: ha/discovery\n  node_id: Tours_1\n",
    )
    config = load(path)
    assert settings_of(config) == HomeAssistantSettings(True, "ha/discovery", "Tours_1")
    assert settings_of(config).node_id_for(config) == "Tours_1"


def test_the_section_is_the_plugins(tmp_path: Path) -> None:
    """Without the plugin, the key is nobody's: an error, never silently ignored."""
    path = write_shop(tmp_path, escalation=False)
    with pytest.raises(ConfigError) as caught:
        load_config(path, plugin_manager().device_types(), ())
    (problem,) = [str(i) for i in caught.value.issues]
    assert problem.startswith(f"{path}:{section_line(path)}:1: home_assistant: unknown key")
    # And read without it, the configuration has no such section at all.
    path = write_shop(tmp_path, "", escalation=False)
    config = load_config(path, plugin_manager().device_types(), ())
    assert home_assistant_of(config) is None


def test_every_mistake_at_its_line(tmp_path: Path) -> None:
    path = write_shop(
        tmp_path,
        "home_assistant:\n"
        "  discovery: yes please\n"
        "  prefix: homeassistant/#\n"
        "  node_id: bijouterie marchal\n"
        "  retain: true\n",
    )
    n = section_line(path)
    assert issues(path) == [
        f"{path}:{n + 1}:14: home_assistant.discovery: expected true or false, got a string"
        " ('yes please')",
        f"{path}:{n + 2}:11: home_assistant.prefix: a topic prefix cannot hold '+', '#' or NUL"
        " (they are MQTT wildcards)",
        f"{path}:{n + 3}:12: home_assistant.node_id: 'bijouterie marchal' is not a valid node"
        " id: use 1 to 64 letters, digits, '_' or '-' (Home Assistant's rule)",
        f"{path}:{n + 4}:3: home_assistant.retain: unknown key (known: discovery, prefix, node_id)",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("home_assistant: [discovery]", "home_assistant: expected a mapping, got a list"),
        ("home_assistant: {prefix: /ha}", "cannot begin or end with '/', nor hold '//'"),
        ("home_assistant: {prefix: ha//x}", "cannot begin or end with '/', nor hold '//'"),
        ("home_assistant: {prefix: $SYS}", "a topic starting with '$' is reserved"),
        ("home_assistant: {prefix: ''}", "home_assistant.prefix: must not be empty"),
        ("home_assistant: {node_id: 12}", "home_assistant.node_id: expected a string"),
        ("home_assistant: {node_id: é}", "'é' is not a valid node id"),
    ],
)
def test_refused(tmp_path: Path, text: str, reason: str) -> None:
    path = write_shop(tmp_path, text + "\n")
    (problem,) = issues(path)
    assert problem.startswith(f"{path}:{section_line(path)}:")
    assert reason in problem


def test_the_default_node_id_is_stable_and_valid() -> None:
    assert default_node_id("ecrin-tours", "Bijouterie Marchal") == "ecrin-tours"
    assert default_node_id("ecrin.tours:1", "x") == "ecrin_tours_1"
    assert default_node_id(None, "Bijouterie Marchal") == "ecrin-bijouterie-marchal"
    assert default_node_id(None, "L'Écrin d'Or & Fils") == "ecrin-l-ecrin-d-or-fils"
    assert default_node_id("", "Horlogerie") == "ecrin-horlogerie"
    assert default_node_id(None, "時計店") == "ecrin"
    assert len(default_node_id(None, "x" * 200)) == 64
    # The same inputs give the same id, run after run.
    assert default_node_id(None, "Bijouterie Marchal") == default_node_id(
        None, "Bijouterie Marchal"
    )


def test_without_a_client_id_the_shop_names_the_node(tmp_path: Path) -> None:
    path = write_shop(tmp_path)
    path.write_text(path.read_text().replace("  client_id: ecrin-tours\n", ""))
    config = load(path)
    assert settings_of(config).node_id_for(config) == "ecrin-bijouterie-marchal"


def test_the_plugin_comes_through_its_entry_point() -> None:
    manager = PluginManager(allow=frozenset({"homeassistant"}))
    manager.load_entry_points()
    assert not manager.errors
    assert "home_assistant" in [s.key for s in manager.config_sections()]
