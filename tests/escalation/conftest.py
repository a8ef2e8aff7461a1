"""Shared parts for the escalation tests: a shop configuration written to a real file,
and real webhook receivers (aiohttp on loopback ports) that check signatures."""

from __future__ import annotations

import asyncio
import json
import socket
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import plugins.escalation
import plugins.sim
from hub.config import Config, load_config
from hub.escalation.webhooks import (
    EVENT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    verify_signature,
)
from hub.plugins import PluginManager

SECRET_37 = "s3cret-for-the-referent-37"
SECRET_INTERLOCUTOR = "s3cret-for-the-interlocutor"
SECRET_OWNER = "s3cret-for-the-shop-owner"

SITE = """\
site:
  name: Bijouterie Marchal
  address: 14 rue Nationale, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {id: comptoir, name: Comptoir de vente, risk: high}
  - {id: vitrine, name: Vitrine rue, risk: high}
  - {id: coffre, name: Coffre, risk: high}
devices:
  - id: centrale
    type: sim-panel
    settings: {interval: 3600}
    zones:
      1: {zone: comptoir, type: holdup}
      2: vitrine
  - id: lecteur
    type: sim-panel
    settings: {interval: 3600}
cameras:
  - {id: cam-comptoir, type: sim-camera, zones: [comptoir, vitrine], placement: indoor}
  - {id: cam-vitrine, type: sim-camera, zones: [vitrine], placement: indoor}
  - {id: cam-coffre, type: sim-camera, zones: [coffre], placement: indoor, retention_days: 20}
"""


#: Tests that are not about high-stock periods run without the shipped calendar (it
#: covers December, early February and late May), so that today's date decides nothing.
#: Those that are about it give their own ``high_stock:`` and stand on a chosen date.
NO_CALENDAR = "  high_stock: {calendar: false}\n"
#: ``extra`` for a test about the shipped calendar (on an injected clock).
SHIPPED_CALENDAR = "high_stock: {}\n"


def free_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def plugin_manager() -> PluginManager:
    """A manager with the built-in simulation and escalation plugins, as the hub has."""
    manager = PluginManager()
    manager.register(plugins.sim, "sim")
    manager.register(plugins.escalation, "escalation", essential=True)
    return manager


def write_config(
    directory: Path,
    urls: dict[str, str | None],
    *,
    ladder: str = "[{contacts: [referent-37], ack_deadline: 120}, "
    "{contacts: [interlocuteur-37, owner], ack_deadline: 300}]",
    extra: str = "",
    cameras: str | None = None,
    journal: str = "ecrin-journal.db",
) -> Path:
    """Write shop.yaml and secrets.yaml; ``urls`` gives each contact's webhook URL
    (None: pull-only). Returns the configuration's path."""
    secrets = {
        "referent-37": SECRET_37,
        "interlocuteur-37": SECRET_INTERLOCUTOR,
        "owner": SECRET_OWNER,
    }
    roles = {
        "referent-37": "local_referent",
        "interlocuteur-37": "departmental_interlocutor",
        "owner": "owner",
    }
    lines = ["contacts:"]
    for contact, role in roles.items():
        lines.append(f"  - id: {contact}")
        lines.append(f"    name: {contact.title()}")
        lines.append(f"    role: {role}")
        scopes = "[referent, installer]" if contact == "owner" else "[referent]"
        lines.append(f"    scopes: {scopes}")
        url = urls.get(contact)
        if url is not None:
            lines.append(f"    webhook: {{url: '{url}', secret: !secret {contact}}}")
    lines.append("  - {id: installer, name: Installateur, role: installer, scopes: [installer]}")
    site = SITE if cameras is None else SITE.split("cameras:", maxsplit=1)[0] + cameras
    text = (
        site
        + "\n".join(lines)
        + f"""
escalation:
  ladder: {ladder}
  instructions: "Appeler le 17. Ne pas entrer avant l'arrivée des forces de l'ordre."
  webhook: {{timeout: 0.5, backoff_initial: 0.05, backoff_max: 0.2}}
"""
        + textwrap.indent(textwrap.dedent(extra), "  ")
        + ("" if "high_stock:" in extra else NO_CALENDAR)
        + f"journal: {{path: {journal}}}\n"
    )
    path = directory / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    (directory / "secrets.yaml").write_text(
        "".join(f"{k}: {v}\n" for k, v in secrets.items()), encoding="utf-8"
    )
    (directory / "secrets.yaml").chmod(0o600)  # as an installer leaves it
    return path


def load(path: Path) -> Config:
    return load_config(path, plugin_manager().device_types())


@dataclass(frozen=True)
class Request:
    """One POST the receiver got, with the answer it gave."""

    key: str
    event: str
    signature: str
    body: bytes
    data: dict[str, Any]
    status: int
    verified: bool


class Receiver:
    """A webhook receiver on a loopback port, as a referent's server would be.

    ``status`` is what it answers (an int, or a function of the request count);
    ``hold`` makes every request wait until the event is set (a hanging server);
    ``keep_alive = False`` closes the connection after each answer, so that every
    delivery needs a new socket (and a free descriptor) on the hub's side.
    """

    def __init__(self, secret: str, port: int | None = None) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.status: int | Callable[[int], int] = 200
        self.hold: asyncio.Event | None = None
        self.keep_alive = True
        self.requests: list[Request] = []
        self.arrived = 0
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ecrin"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.arrived += 1
        self._changed.set()
        if self.hold is not None:
            await self.hold.wait()
        status = self.status(len(self.requests)) if callable(self.status) else self.status
        self.requests.append(
            Request(
                key=request.headers.get(IDEMPOTENCY_HEADER, ""),
                event=request.headers.get(EVENT_HEADER, ""),
                signature=request.headers.get(SIGNATURE_HEADER, ""),
                body=body,
                data=json.loads(body),
                status=status,
                verified=verify_signature(
                    self.secret, request.headers.get(SIGNATURE_HEADER, ""), body, time.time()
                ),
            )
        )
        self._changed.set()
        response = web.Response(status=status, text="ok")
        if not self.keep_alive:
            response.force_close()
        return response

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/ecrin", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def delivered(self, event: str | None = None) -> list[Request]:
        """Requests answered 2xx (optionally of one ``Ecrin-Event``)."""
        return [
            r
            for r in self.requests
            if 200 <= r.status < 300 and (event is None or r.event == event)
        ]

    async def wait_for(
        self,
        predicate: Callable[[Request], bool] = lambda _r: True,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Request]:
        """Wait until ``count`` requests match; fail the test on timeout."""
        async with asyncio.timeout(timeout):
            while True:
                found = [r for r in self.requests if predicate(r)]
                if len(found) >= count:
                    return found
                self._changed.clear()
                await self._changed.wait()

    async def wait_arrived(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` requests arrived (answered or still held)."""
        async with asyncio.timeout(timeout):
            while self.arrived < count:
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def receivers() -> AsyncIterator[dict[str, Receiver]]:
    """Started receivers for the referent, the interlocutor and the owner."""
    started = {
        "referent-37": await Receiver(SECRET_37).start(),
        "interlocuteur-37": await Receiver(SECRET_INTERLOCUTOR).start(),
        "owner": await Receiver(SECRET_OWNER).start(),
    }
    yield started
    for receiver in started.values():
        await receiver.stop()
