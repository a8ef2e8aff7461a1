"""The Home Assistant plugin: contributes the ``home_assistant:`` section of the shop file.

The discovery itself is a feature of the hub (``hub.homeassistant``), started by the
hub when it has a message session, because it reads the state registry, which no
plugin is given. What belongs to a plugin is the configuration key: the feature owns
its section, and a shop that disables this plugin (``plugins: {disable:
[homeassistant]}``) gets no discovery at all, and an error if its file still holds the
section.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.homeassistant.config import CONFIG_SECTIONS
from hub.sdk import ConfigSection, hookimpl

__all__ = ["register_config_sections"]


@hookimpl
def register_config_sections(register: Callable[[ConfigSection], None]) -> None:
    """Contribute ``home_assistant:`` to the shop file."""
    for section in CONFIG_SECTIONS:
        register(section)
