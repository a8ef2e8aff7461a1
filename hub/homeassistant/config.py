"""The ``home_assistant:`` section: whether the hub shows itself to Home Assistant.

Discovery is opt-in (``discovery: false`` by default): a shop that runs no Home
Assistant gets nothing published, and one that does decides what its screens may show.
The feature owns its section: the ``homeassistant`` plugin contributes it to the loader
(``CONFIG_SECTIONS``, through ``register_config_sections``) and ``home_assistant_of``
reads it back from a loaded ``Config``. Every mistake is reported at its line, with the
rest of the file's, as ``FILE:LINE:COLUMN: home_assistant.key: reason``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from hub.config import Config, ConfigSection, SectionContext
from hub.config.fields import Section, as_map
from hub.yamlsource import YNode

__all__ = [
    "CONFIG_SECTIONS",
    "DEFAULT_PREFIX",
    "HOME_ASSISTANT_KEYS",
    "NODE_ID_PATTERN",
    "SECTION_KEY",
    "HomeAssistantSettings",
    "default_node_id",
    "home_assistant_of",
    "read_home_assistant",
]

SECTION_KEY: Final = "home_assistant"
HOME_ASSISTANT_KEYS: Final = ("discovery", "prefix", "node_id")
#: Home Assistant's own default discovery prefix.
DEFAULT_PREFIX: Final = "homeassistant"
#: What Home Assistant accepts as a node id or an object id in a discovery topic.
NODE_ID_PATTERN: Final = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_NOT_ID: Final = re.compile(r"[^a-zA-Z0-9_-]+")
_NOT_SLUG: Final = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class HomeAssistantSettings:
    """The ``home_assistant:`` section.

    Attributes:
        discovery: publish discovery configs and states (off unless asked for).
        prefix: Home Assistant's discovery prefix (its MQTT integration's setting).
        node_id: the node level of every discovery topic and the stem of every
            ``unique_id``; None: derived from the configuration (``node_id_for``).
    """

    discovery: bool = False
    prefix: str = DEFAULT_PREFIX
    node_id: str | None = None

    def node_id_for(self, config: Config) -> str:
        """The node id in use: the configured one, else ``default_node_id``."""
        if self.node_id is not None:
            return self.node_id
        client_id = config.mqtt.client_id if config.mqtt is not None else None
        return default_node_id(client_id, config.site.name)


def default_node_id(client_id: str | None, site: str) -> str:
    """A node id that stays the same from run to run: the hub's MQTT client id (which
    the broker already requires to be unique and stable), else ``ecrin-`` and the
    shop's name made plain ("Bijouterie Marchal" gives ``ecrin-bijouterie-marchal``).

    Renaming the shop changes the latter, and Home Assistant then sees new entities:
    a shop that may rename itself sets ``node_id``.
    """
    if client_id:
        plain = _NOT_ID.sub("_", client_id).strip("_")[:64]
        if plain:
            return plain
    ascii_name = unicodedata.normalize("NFKD", site).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")
    return f"ecrin-{slug}"[:64].rstrip("-") if slug else "ecrin"


def _prefix_problem(prefix: str) -> str | None:
    """Why a discovery prefix cannot be used, or None."""
    if any(c in prefix for c in "+#\0"):
        return "a topic prefix cannot hold '+', '#' or NUL (they are MQTT wildcards)"
    if prefix.startswith("$"):
        return "a topic starting with '$' is reserved by the broker"
    if any(not level for level in prefix.split("/")):
        return "a topic prefix cannot begin or end with '/', nor hold '//'"
    return None


def read_home_assistant(node: YNode | None, ctx: SectionContext) -> HomeAssistantSettings:
    """``home_assistant:``; the defaults (discovery off) when absent or wrong."""
    defaults = HomeAssistantSettings()
    ymap = as_map(ctx.log, node, SECTION_KEY) if node is not None else None
    if ymap is None:
        return defaults
    section = Section(ctx.log, ymap, SECTION_KEY, HOME_ASSISTANT_KEYS)
    prefix = section.string("prefix", defaults.prefix)
    prefix_node = section.get("prefix")
    problem = _prefix_problem(prefix)
    if problem is not None and prefix_node is not None:
        ctx.log.add(prefix_node, section.at("prefix"), problem)
        prefix = defaults.prefix
    node_id = section.optional_string("node_id")
    node_id_node = section.get("node_id")
    if node_id is not None and node_id_node is not None and not NODE_ID_PATTERN.fullmatch(node_id):
        ctx.log.add(
            node_id_node,
            section.at("node_id"),
            f"{node_id!r} is not a valid node id: use 1 to 64 letters, digits, '_' or '-'"
            " (Home Assistant's rule)",
        )
        node_id = None
    return HomeAssistantSettings(
        discovery=section.boolean("discovery", defaults.discovery),
        prefix=prefix,
        node_id=node_id,
    )


def _summary(config: Config) -> list[str]:
    settings = home_assistant_of(config)
    if settings is None or not settings.discovery:
        return []
    return [f"Home Assistant discovery on {settings.prefix}/"]


CONFIG_SECTIONS: Final = (
    ConfigSection(
        SECTION_KEY,
        read_home_assistant,
        summary=_summary,
        doc="Home Assistant MQTT discovery (opt-in); see docs/home-assistant.md",
    ),
)


def home_assistant_of(config: Config) -> HomeAssistantSettings | None:
    """The section's value; None when no loaded plugin contributes it."""
    return config.section(SECTION_KEY, HomeAssistantSettings)
