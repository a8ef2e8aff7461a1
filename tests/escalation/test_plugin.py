"""The essential escalation plugin, and rules added by a third-party plugin."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

import plugins.escalation
from hub.escalation.rules import BUILTIN_RULES
from hub.events import AlarmKind, AlarmSignal, Event
from hub.hookspecs import hookimpl
from hub.plugins import PluginManager
from hub.rules import Match, Priority, Rule, RuleContext
from tests.escalation.conftest import Receiver, engine_for, load, write_config
from tests.escalation.support import alarm


def _fog(event: Event, ctx: RuleContext) -> Match | None:
    if isinstance(event, AlarmSignal) and event.code == "fog" and not event.restore:
        return Match("fog_cannon", Priority.ALARM, event.device, event.zone)
    return None


class FogPlugin:
    """A third-party plugin that escalates its fog cannon firing."""

    @hookimpl
    def register_escalation_rules(self, register: Callable[[Rule], None]) -> None:
        register(Rule("acme-fog-cannon", (AlarmSignal,), _fog))


class ClashPlugin:
    @hookimpl
    def register_escalation_rules(self, register: Callable[[Rule], None]) -> None:
        register(Rule("life-safety", (AlarmSignal,), _fog))


def test_the_plugin_is_essential_and_registers_the_builtin_rules() -> None:
    assert plugins.escalation.ECRIN_ESSENTIAL is True
    manager = PluginManager()
    manager.register(FogPlugin(), "acme")
    manager.register(plugins.escalation, "escalation", essential=True)
    manager.register(ClashPlugin(), "clash")
    rules = manager.escalation_rules()
    # The built-in rules first, whatever the registration order; a clash is reported.
    assert [r.name for r in rules] == [r.name for r in BUILTIN_RULES] + ["acme-fog-cannon"]
    (error,) = manager.errors
    assert error.plugin == "clash"
    assert "already registered by plugin escalation" in error.reason


async def test_a_plugin_rule_escalates(tmp_path: Path, receivers: dict[str, Receiver]) -> None:
    manager = PluginManager()
    manager.register(plugins.escalation, "escalation", essential=True)
    manager.register(FogPlugin(), "acme")
    config = load(write_config(tmp_path, {n: r.url for n, r in receivers.items()}))
    fired = AlarmSignal(kind=AlarmKind.OTHER, device="centrale", zone="vitrine", code="fog")
    async with engine_for(config, plugins=manager) as running:
        await running.handle(fired)
        (request,) = await receivers["referent-37"].wait_for()
    assert (request.data["kind"], request.data["priority"]) == ("fog_cannon", "alarm")


async def test_without_the_plugin_the_builtin_rules_still_run(
    tmp_path: Path, receivers: dict[str, Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    config = load(write_config(tmp_path, {n: r.url for n, r in receivers.items()}))
    with caplog.at_level(logging.ERROR, logger="hub.escalation.engine"):
        async with engine_for(config, plugins=PluginManager()) as running:
            await running.handle(alarm())
            (request,) = await receivers["referent-37"].wait_for()
    assert request.data["kind"] == "holdup"
    assert any(r.levelno == logging.ERROR for r in caplog.records)
