"""Top-level configuration sections that plugins contribute (``register_config_sections``).

The core reads its own sections; every other key belongs to a feature, which reads it
with the core's values in hand and reports its problems in the same list, in the same
``FILE:LINE:COLUMN: key.path: reason`` shape.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import plugins.escalation
import plugins.sim
from hub.config import (
    ConfigError,
    ConfigSection,
    SectionContext,
    check_config_main,
    load_config,
)
from hub.config.contributed import reading_order
from hub.config.fields import Section, as_map
from hub.escalation.config import CONFIG_SECTIONS
from hub.hookspecs import hookimpl
from hub.plugins import PluginManager
from hub.yamlsource import YNode

SITE = """\
site:
  name: Bijouterie Test
  address: 1 rue du Test, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {id: vitrine, name: Vitrine, risk: high}
  - {id: comptoir, name: Comptoir, risk: high}
"""  # 8 lines: snippets appended after it start at line 9


@dataclass(frozen=True)
class SirenSettings:
    delay: int
    zones: tuple[str, ...]
    seen: tuple[str, ...]


def read_sirens(node: YNode | None, ctx: SectionContext) -> SirenSettings | None:
    ymap = as_map(ctx.log, node, "sirens") if node is not None else None
    if ymap is None:
        return None
    section = Section(ctx.log, ymap, "sirens", ("delay",))
    return SirenSettings(
        delay=section.integer("delay", 30, minimum=0, maximum=600),
        zones=tuple(z.id for z in ctx.zones),
        seen=tuple(ctx.sections),
    )


SIRENS = ConfigSection("sirens", read_sirens, summary=lambda config: ["sirens on"])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def issues(path: Path, sections: tuple[ConfigSection, ...]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, {}, sections)
    return [str(i) for i in caught.value.issues]


def test_a_contributed_section_is_read_with_the_core_values_and_typed(tmp_path: Path) -> None:
    path = write(tmp_path, SITE + "sirens: {delay: 45}\n")
    config = load_config(path, {}, (SIRENS, *CONFIG_SECTIONS))
    sirens = config.section("sirens", SirenSettings)
    assert sirens == SirenSettings(45, ("vitrine", "comptoir"), ("contacts", "escalation"))
    # Absent sections (and the reader's "not configured") read back as None.
    assert config.section("escalation", SirenSettings) is None
    assert config.section("nobody-contributes-this", SirenSettings) is None


def test_a_section_of_another_type_is_a_clear_error(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SITE + "sirens: {delay: 45}\n"), {}, (SIRENS,))
    with pytest.raises(TypeError, match="'sirens' holds a SirenSettings, not a str"):
        config.section("sirens", str)


def test_a_contributed_sections_errors_come_with_the_cores_at_their_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE + "http: {port: 0}\nsirens:\n  delay: 900\n  colour: red\n",
    )
    assert issues(path, (SIRENS,)) == [
        f"{path}:9:14: http.port: 0 is below the minimum 1",
        f"{path}:11:10: sirens.delay: 900 is above the maximum 600",
        f"{path}:12:3: sirens.colour: unknown key (known: delay)",
    ]


def test_unknown_top_level_keys_list_the_known_ones_contributed_included(tmp_path: Path) -> None:
    path = write(tmp_path, SITE + "siren: {delay: 45}\n")
    assert issues(path, (SIRENS,)) == [
        f"{path}:9:1: siren: unknown key; did you mean 'sirens'? (known: site, zones,"
        " devices, cameras, sirens, http, mqtt, plugins, journal)"
    ]


def test_the_core_owns_no_escalation_section(tmp_path: Path) -> None:
    """Without the escalation plugin's sections, ``contacts:`` is nobody's key."""
    path = write(tmp_path, SITE + "contacts: []\n")
    (problem,) = issues(path, ())
    assert problem.startswith(f"{path}:9:1: contacts: unknown key")
    assert "(known: site, zones, devices, cameras, http, mqtt, plugins, journal)" in problem
    assert load_config(path, {}, CONFIG_SECTIONS).section("contacts", tuple) == ()


def test_check_config_reports_every_section_at_once_and_their_summaries(tmp_path: Path) -> None:
    path = write(tmp_path, SITE + "sirens: {delay: -1}\nescalation: {ladder: []}\n")
    out, err = io.StringIO(), io.StringIO()
    assert check_config_main(path, {}, out, err, (SIRENS, *CONFIG_SECTIONS)) == 1
    assert err.getvalue().splitlines() == [
        f"{path}:9:17: sirens.delay: -1 is below the minimum 0",
        f"{path}:10:22: escalation.ladder: at least one tier is required",
    ]
    path = write(tmp_path, SITE + "sirens: {delay: 10}\n")
    out, err = io.StringIO(), io.StringIO()
    assert check_config_main(path, {}, out, err, (SIRENS,)) == 0
    assert out.getvalue() == f"{path}: valid: 2 zones, 0 devices, 0 cameras, sirens on\n"


def _reader(node: YNode | None, ctx: SectionContext) -> None:
    return None


def test_sections_are_read_by_key_after_those_they_need() -> None:
    a = ConfigSection("alpha", _reader, after=("zulu",))
    z = ConfigSection("zulu", _reader)
    m = ConfigSection("mike", _reader)
    assert [s.key for s in reading_order([a, m, z])] == ["mike", "zulu", "alpha"]
    with pytest.raises(ValueError, match="'alpha' needs 'zulu', which no loaded plugin"):
        reading_order([a, m])
    loop = ConfigSection("zulu", _reader, after=("alpha",))
    with pytest.raises(ValueError, match="each need another read first"):
        reading_order([a, loop])


def test_a_section_may_not_take_a_core_key(tmp_path: Path) -> None:
    path = write(tmp_path, SITE)
    with pytest.raises(ValueError, match="'zones' is the core's"):
        load_config(path, {}, (ConfigSection("zones", _reader),))


class Contributes:
    """A plugin contributing the sections it is given."""

    def __init__(self, *sections: ConfigSection) -> None:
        self.sections = sections

    @hookimpl
    def register_config_sections(self, register: Callable[[ConfigSection], None]) -> None:
        for section in self.sections:
            register(section)


def test_the_plugin_manager_collects_sections_and_names_the_faulty_plugin() -> None:
    manager = PluginManager()
    manager.register(Contributes(SIRENS), "third")
    manager.register(plugins.escalation, "escalation", essential=True)
    manager.register(plugins.sim, "sim")
    manager.register(Contributes(ConfigSection("sirens", _reader)), "clash")
    manager.register(Contributes(ConfigSection("http", _reader)), "core-key")
    needy = ConfigSection("needy", _reader, after=("missing",))
    manager.register(Contributes(needy), "needy")
    keys = [s.key for s in manager.config_sections()]
    # The essential plugin's first; each fault reported against its plugin, once.
    assert keys[:2] == ["contacts", "escalation"]
    assert sorted(keys) == ["contacts", "escalation", "sirens"]
    reasons = {e.plugin: e.reason for e in manager.errors}
    assert set(reasons) == {"clash", "core-key", "needy"}
    assert "already registered by plugin" in reasons["clash"]
    assert "'http' is the core's" in reasons["core-key"]
    assert "needs missing" in reasons["needy"]


def test_every_command_that_reads_the_shop_file_knows_the_contributed_sections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``check-config`` and ``status`` load the plugins' sections (entry points), so a
    file with ``contacts:`` and ``escalation:`` is valid for both."""
    from hub.cli import main
    from tests.escalation.conftest import write_config

    monkeypatch.delenv("ECRIN_LOAD_PLUGINS", raising=False)
    path = write_config(tmp_path, {})
    out, err = io.StringIO(), io.StringIO()
    assert main(["check-config", str(path)], out, err) == 0, err.getvalue()
    assert "2 escalation tiers" in out.getvalue()
    # No journal yet: the configuration was read, and the command cannot run.
    out, err = io.StringIO(), io.StringIO()
    assert main(["status", "-c", str(path)], out, err) == 2
    assert "no such file" in err.getvalue()
