"""Home Assistant MQTT discovery: the hub's entities shown in a shop's Home Assistant.

Opt-in (``home_assistant: {discovery: true}``). A feature: it reads the state
registry's change feed and publishes through the hub's message session; the core
never imports it, the composition root (``hub.app``) starts it with
``home_assistant_publisher``, and the ``homeassistant`` plugin contributes its
configuration section. Its modules:

* ``config``: the ``home_assistant:`` section;
* ``discovery``: the entities, topics and payloads (pure);
* ``publisher``: the task that publishes them and removes what is no longer
  configured.

See docs/home-assistant.md.
"""

from __future__ import annotations

import importlib.metadata

import hub
from hub.config import Config
from hub.homeassistant.config import (
    CONFIG_SECTIONS,
    HomeAssistantSettings,
    default_node_id,
    home_assistant_of,
)
from hub.homeassistant.discovery import Discovery, Entity, Kind
from hub.homeassistant.publisher import DiscoveryPublisher, PublisherStats
from hub.messages import MessageSession
from hub.state import StateRegistry

__all__ = [
    "CONFIG_SECTIONS",
    "Discovery",
    "DiscoveryPublisher",
    "Entity",
    "HomeAssistantSettings",
    "Kind",
    "PublisherStats",
    "default_node_id",
    "home_assistant_of",
    "home_assistant_publisher",
    "hub_version",
]


def hub_version() -> str:
    """The installed package's version (the source tree's when not installed)."""
    try:
        return importlib.metadata.version("ecrin")
    except importlib.metadata.PackageNotFoundError:
        return hub.__version__


def home_assistant_publisher(
    config: Config, session: MessageSession | None, registry: StateRegistry
) -> DiscoveryPublisher | None:
    """The publisher the hub runs (enter it with ``async with``), or None.

    None when the hub has no message session, or when no loaded plugin contributes the
    ``home_assistant`` section. With discovery off, the publisher only removes what an
    earlier run with discovery on left on the broker.
    """
    settings = home_assistant_of(config)
    if settings is None or session is None:
        return None
    discovery = Discovery.from_config(config, settings, hub_version())
    return DiscoveryPublisher(discovery, session, registry, enabled=settings.discovery)
