"""A shop's configuration: one YAML file, validated with every error at once.

``load_config`` reads and checks a file against the device types the plugins provide;
``disabled_plugins`` reads just enough to decide which plugins to load first;
``check_config_main`` is ``ecrin check-config``. Features contribute their own
top-level sections (``ConfigSection``, read back with ``Config.section``). See
``docs/configuration.md``.
"""

from __future__ import annotations

from hub.config.check import check_config_main
from hub.config.contributed import ConfigSection, SectionContext
from hub.config.issues import ConfigError, ConfigIssue
from hub.config.loader import CORE_KEYS, disabled_plugins, known_keys, load_config
from hub.config.model import (
    CameraConfig,
    Config,
    DeviceConfig,
    EmbeddedBroker,
    HttpConfig,
    JournalConfig,
    MqttConfig,
    MqttTls,
    Placement,
    PluginsConfig,
    Risk,
    SecretStr,
    Site,
    Zone,
    default_client_id,
)

__all__ = [
    "CORE_KEYS",
    "CameraConfig",
    "Config",
    "ConfigError",
    "ConfigIssue",
    "ConfigSection",
    "DeviceConfig",
    "EmbeddedBroker",
    "HttpConfig",
    "JournalConfig",
    "MqttConfig",
    "MqttTls",
    "Placement",
    "PluginsConfig",
    "Risk",
    "SecretStr",
    "SectionContext",
    "Site",
    "Zone",
    "check_config_main",
    "default_client_id",
    "disabled_plugins",
    "known_keys",
    "load_config",
]
