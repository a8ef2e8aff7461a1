"""The escalation plugin: Écrin's built-in escalation rules and configuration. Essential.

The hub starts the escalation engine itself (``hub.app.Hub``), because the path of a
hold-up must not depend on anything a plugin manager forgives: a plugin that fails to
import or a hook that raises is only logged. What belongs to plugins is *which
signals escalate*: this plugin registers the built-in rules through the same hook a
third-party plugin uses to add its own (a fog cannon that fired, a safe's seismic
detector...). It is essential, so neither ``plugins.disable`` nor
``ECRIN_LOAD_PLUGINS`` can remove it; should it be missing anyway, the engine logs
an error and runs the built-in rules regardless.

It also contributes the feature's sections of the shop file, ``contacts:`` and
``escalation:`` (``hub.escalation.config``), through ``register_config_sections``:
the escalation feature owns its configuration, not the core's loader.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.escalation.config import CONFIG_SECTIONS
from hub.escalation.rules import BUILTIN_RULES
from hub.sdk import ConfigSection, Rule, hookimpl

__all__ = ["ECRIN_ESSENTIAL", "register_config_sections", "register_escalation_rules"]

#: The hold-up escalation cannot be switched off by configuration.
ECRIN_ESSENTIAL = True


@hookimpl
def register_escalation_rules(register: Callable[[Rule], None]) -> None:
    """Register the built-in rules: hold-up, duress and panic; burglary while armed;
    tamper; link lost on a device wired to hold-up buttons; a camera lost in a
    high-risk zone while armed, or during a hold-up."""
    for rule in BUILTIN_RULES:
        register(rule)


@hookimpl
def register_config_sections(register: Callable[[ConfigSection], None]) -> None:
    """Contribute ``contacts:`` and ``escalation:`` to the shop file."""
    for section in CONFIG_SECTIONS:
        register(section)
