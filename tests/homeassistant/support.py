"""A shop with everything Home Assistant must never see: webhook secrets and URLs,
contacts' names, an API token's hash, a broker password; the plugins the hub loads;
and Home Assistant's side of a real broker (``HomeAssistant``)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import textwrap
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt

import plugins.escalation
import plugins.homeassistant
import plugins.sim
from hub.config import Config, load_config
from hub.homeassistant import Discovery, HomeAssistantSettings, home_assistant_of
from hub.messages import Message
from hub.plugins import PluginManager

WEBHOOK_SECRET = "whsec-Referent-37-aa11bb22cc33"
WEBHOOK_URL = "http://127.0.0.1:9/police-37/hook-9f8e7d"  # refused at once
BROKER_PASSWORD = "broker-Pa55word-77xy"
API_TOKEN = "token-installer-5566778899"
CONTACT_NAME = "Capitaine Lefebvre"
INSTRUCTIONS = "Appeler le 17. Code porte 4821."

SHOP = """\
site:
  name: Bijouterie Marchal
  address: 14 rue Nationale, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {{id: comptoir, name: Comptoir de vente, risk: high}}
  - {{id: vitrine, name: Vitrine rue, risk: high}}
devices:
  - id: centrale
    type: sim-panel
    settings: {{interval: {interval}, holdup_zone: 1}}
    zones:
      1: {{zone: comptoir, type: holdup}}
cameras:
  - {{id: cam-comptoir, type: sim-camera, zones: [comptoir, vitrine], placement: indoor,
      settings: {{period: {period}}}}}
contacts:
  - id: referent-37
    name: {contact}
    role: local_referent
    scopes: [referent]
    webhook: {{url: '{url}', secret: !secret webhook_37}}
  - id: installer
    name: Installateur
    role: installer
    scopes: [installer]
    token_sha256: {token_sha256}
escalation:
  ladder: [{{contacts: [referent-37], ack_deadline: 120}}]
  instructions: "{instructions}"
  high_stock: {{calendar: false}}
mqtt:
  host: 127.0.0.1
  username: ecrin
  password: !secret broker
  client_id: ecrin-tours
journal:
  path: journal.db
"""


def write_shop(
    directory: Path,
    home_assistant: str = "home_assistant: {discovery: true}\n",
    *,
    interval: float = 3600,
    period: float = 3600,
    escalation: bool = True,
) -> Path:
    """Write shop.yaml (with ``home_assistant`` appended) and its secrets file."""
    text = SHOP.format(
        interval=interval,
        period=period,
        contact=CONTACT_NAME,
        url=WEBHOOK_URL,
        token_sha256=hashlib.sha256(API_TOKEN.encode()).hexdigest(),
        instructions=INSTRUCTIONS,
    )
    if not escalation:
        text = text.split("contacts:", 1)[0] + "mqtt:" + text.split("mqtt:", 1)[1]
    path = directory / "shop.yaml"
    path.write_text(text + textwrap.dedent(home_assistant), encoding="utf-8")
    secrets = directory / "secrets.yaml"
    secrets.write_text(f"webhook_37: {WEBHOOK_SECRET}\nbroker: {BROKER_PASSWORD}\n")
    secrets.chmod(0o600)
    return path


def plugin_manager() -> PluginManager:
    """The built-in plugins a shop's hub loads: simulation, escalation, Home Assistant."""
    manager = PluginManager()
    manager.register(plugins.sim, "sim")
    manager.register(plugins.escalation, "escalation", essential=True)
    manager.register(plugins.homeassistant, "homeassistant")
    return manager


def load(path: Path) -> Config:
    manager = plugin_manager()
    return load_config(path, manager.device_types(), manager.config_sections())


def settings_of(config: Config) -> HomeAssistantSettings:
    settings = home_assistant_of(config)
    assert settings is not None
    return settings


def discovery_of(config: Config, version: str = "1.2.3") -> Discovery:
    return Discovery.from_config(config, settings_of(config), version)


#: Every value of the shop that must never reach the broker.
SENSITIVE = (
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    "police-37",
    BROKER_PASSWORD,
    API_TOKEN,
    hashlib.sha256(API_TOKEN.encode()).hexdigest(),
    CONTACT_NAME,
    "Lefebvre",
    "referent-37",
    INSTRUCTIONS,
    "4821",
    "14 rue Nationale",
)


@dataclass(frozen=True)
class OpenEscalation:
    """An escalation as the engine hands it to the registry (``EscalationSnapshot``)."""

    id: str = "esc-7f3a9c"
    kind: str = "holdup"
    priority: str = "life-safety"
    status: str = "open"
    tier: int = 1
    zone: str | None = "comptoir"
    device: str = "centrale"
    updated_at: datetime = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


class HomeAssistant:
    """What a Home Assistant subscribed to discovery and the hub's topics receives, on
    a real broker (a plain aiomqtt client: Home Assistant's MQTT integration)."""

    def __init__(self, client: aiomqtt.Client, base_topic: str = "ecrin") -> None:
        self.client = client
        self.base_topic = base_topic
        self.received: list[Message] = []

    async def run(self) -> None:
        """Subscribe, then record every message until cancelled."""
        await self.client.subscribe("homeassistant/#", qos=1)
        await self.client.subscribe(f"{self.base_topic}/#", qos=1)
        async for received in self.client.messages:
            payload = received.payload
            data = bytes(payload) if isinstance(payload, bytes | bytearray) else b""
            self.received.append(Message(received.topic.value, data, received.retain))

    def got(self, topic: str, payload: bytes | None = None) -> list[Message]:
        """The messages received on ``topic`` (with ``payload``, when given)."""
        return [m for m in self.received if m.topic == topic and payload in (None, m.payload)]

    def last(self, topic: str) -> bytes | None:
        """The last payload received on ``topic`` (None: nothing yet)."""
        found = self.got(topic)
        return found[-1].payload if found else None


@contextlib.asynccontextmanager
async def running(*coroutines: Callable[[], Coroutine[Any, Any, None]]) -> AsyncIterator[None]:
    """Run each coroutine function in a task while the block runs."""
    tasks = [asyncio.ensure_future(c()) for c in coroutines]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
