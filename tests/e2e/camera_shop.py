"""A shop with cameras on MQTT, run as a shop runs it: ``ecrin run`` in a process of its
own, on a shop file written for the test, against a real broker.

* ``write_camera_shop`` writes shop.yaml and secrets.yaml: two Frigate cameras that
  the simulated NVR plays (``cam-comptoir``, ``cam-vitrine``), one Frigate camera it
  never mentions (``cam-reserve``: never heard of), an ``mqtt-camera`` whose topics the
  test publishes itself (``cam-porte``), an installer's API token, and, as a test
  asks, a DSC panel on a pseudo-terminal, a referent's webhook, Frigate's export API,
  Home Assistant discovery, or the embedded broker instead of Mosquitto;
* ``HubProcess`` starts ``ecrin run`` on it, waits until it is ready, and reads the
  shop's state as an installer does (``GET /api/v1/state`` with the token);
* ``frigate`` connects a simulated Frigate (``FrigateSimulator``) to the broker
  through a connection of its own, with Frigate's last will (``NvrConnection``);
* ``camera_events`` reads a camera's rows back from the journal on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import aiohttp

from hub.events import Event
from hub.http.tokens import hash_token, new_token
from hub.journal import read_entries
from hub.testing.mosquitto import free_port
from plugins.cameras.frigate import FrigateSimulator, NvrConnection, SimCamera, frigate_will
from tests.escalation.conftest import SECRET_37

ROOT: Final = Path(__file__).resolve().parents[2]
HOST: Final = "127.0.0.1"
#: The hub's client id at the broker (its persistent session).
CLIENT_ID: Final = "ecrin-e2e"
#: How long a process may take to start, a state to arrive, a message to get through.
START: Final = 30.0
QUICK: Final = 15.0
#: How long the hub may take to be back on a broker that was away: its backoff, and at
#: worst the client library's 10 s wait for an attempt the broker dropped unanswered.
RECONNECT: Final = 40.0
#: How often the state is read while waiting for it.
_POLL: Final = 0.05

#: The Frigate cameras the simulated NVR has, and the camera it does not.
FRIGATE_CAMERAS: Final = ("comptoir", "vitrine")
#: The mqtt-camera's topics.
PORTE_STATUS: Final = "cams/porte/status"
PORTE_RECORD: Final = "cams/porte/record"
PORTE_MOTION: Final = "cams/porte/motion"

SHOP: Final = """\
site:
  name: Bijouterie Marchal
  address: 14 rue Nationale, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {{id: comptoir, name: Comptoir de vente, risk: high}}
  - {{id: vitrine, name: Vitrine rue, risk: high}}
  - {{id: entree, name: Entrée, risk: medium}}
  - {{id: reserve, name: Réserve, risk: medium}}
{devices}cameras:
  - id: cam-comptoir
    type: frigate
    zones: [comptoir]
    placement: indoor
    settings: {{camera: comptoir, zones: {{caisse: comptoir}}, status_topics: "yes"{api}}}
  - id: cam-vitrine
    type: frigate
    zones: [vitrine]
    placement: indoor
    settings: {{camera: vitrine, status_topics: "yes"}}
  - id: cam-reserve
    type: frigate
    zones: [reserve]
    placement: indoor
    settings: {{camera: reserve, status_topics: "yes"}}
  - id: cam-porte
    type: mqtt-camera
    zones: [entree]
    placement: indoor
    settings:
      availability: {{topic: {porte_status}, value: "$.state"}}
      recording: {{topic: {porte_record}, value: "$.recording", on: true, off: false}}
      motion: {{topic: {porte_motion}, on: "ON", off: "OFF"}}
contacts:
  - id: referent-37
    name: Référent sûreté
    role: local_referent
    scopes: [referent]
{webhook}  - id: installateur
    name: Installateur
    role: installer
    scopes: [installer]
    token_sha256: {token_sha256}
escalation:
  ladder: [{{contacts: [referent-37], ack_deadline: 300}}]
  webhook: {{timeout: 0.5, backoff_initial: 0.05, backoff_max: 0.2}}
  high_stock: {{calendar: false}}  # the day the tests run must decide nothing
mqtt:
{mqtt}
http: {{host: 127.0.0.1, port: {http_port}}}
journal: {{path: journal.db}}
{extra}"""


@dataclass(frozen=True)
class ShopFile:
    """A shop file written for a test, and what the test needs to reach the hub."""

    path: Path
    http_port: int
    token: str

    @property
    def journal(self) -> Path:
        return self.path.parent / "journal.db"


def write_camera_shop(
    directory: Path,
    *,
    broker_port: int | None = None,
    embedded_port: int | None = None,
    panel: str | None = None,
    webhook: str | None = None,
    frigate_api: str | None = None,
    home_assistant: bool = False,
) -> ShopFile:
    """Write shop.yaml and secrets.yaml (see the module's docstring).

    Args:
        broker_port: Mosquitto's port on loopback (the ``mqtt.host``).
        embedded_port: no ``mqtt.host``: the hub's embedded broker, on this port.
        panel: a DSC IT-100 on this serial path, its zone 5 the counter's hold-up
            button.
        webhook: the referent's webhook URL (its secret: ``SECRET_37``).
        frigate_api: Frigate's HTTP address, for ``cam-comptoir`` to keep recordings.
        home_assistant: publish Home Assistant's discovery configs.
    """
    if (broker_port is None) == (embedded_port is None):
        raise ValueError("give the broker's port or the embedded broker's")
    token = new_token()
    http_port = free_port()
    if broker_port is not None:
        mqtt = f"  host: {HOST}\n  port: {broker_port}\n  client_id: {CLIENT_ID}"
    else:
        mqtt = f"  embedded: {{host: {HOST}, port: {embedded_port}}}\n  client_id: {CLIENT_ID}"
    devices = ""
    if panel is not None:
        devices = (
            "devices:\n"
            "  - id: centrale\n"
            "    type: dsc-it100\n"
            f'    settings: {{port: "{panel}", poll_interval: 0}}\n'
            "    zones:\n"
            "      5: {zone: comptoir, type: holdup}\n"
        )
    hook = ""
    if webhook is not None:
        hook = f"    webhook: {{url: '{webhook}', secret: !secret referent}}\n"
    api = f", api: '{frigate_api}', settle: 0" if frigate_api is not None else ""
    text = SHOP.format(
        devices=devices,
        api=api,
        porte_status=PORTE_STATUS,
        porte_record=PORTE_RECORD,
        porte_motion=PORTE_MOTION,
        webhook=hook,
        token_sha256=hash_token(token),
        mqtt=mqtt,
        http_port=http_port,
        extra="home_assistant: {discovery: true}\n" if home_assistant else "",
    )
    path = directory / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    secrets = directory / "secrets.yaml"
    secrets.write_text(f"referent: {SECRET_37}\n", encoding="utf-8")
    secrets.chmod(0o600)
    return ShopFile(path, http_port, token)


class HubProcess:
    """``ecrin run -c shop.yaml`` in a process of its own, while the block runs.

    Entering starts it and waits until it says it is ready and connected to its broker
    (``GET /healthz``); leaving stops it with SIGTERM, as a service manager does.
    ``kill()`` is a crash.
    """

    def __init__(self, shop: ShopFile) -> None:
        self.shop = shop
        self.url = f"http://{HOST}:{shop.http_port}"
        self.log_path = shop.path.parent / "hub.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._client: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECRIN_")}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                [sys.executable, "-m", "hub.cli", "run", "-c", str(self.shop.path)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        self._client = aiohttp.ClientSession()
        try:
            await self.wait(self._ready, START, "the hub to be ready, on its broker")
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, QUICK)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, QUICK)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """``kill -9``: the hub vanishes without a word to anyone."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(QUICK)

    def log(self) -> str:
        """What the hub wrote on its output and error streams."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def _get(self, path: str) -> tuple[int, Any]:
        assert self._client is not None
        headers = {"Authorization": f"Bearer {self.shop.token}"}
        try:
            async with self._client.get(self.url + path, headers=headers) as reply:
                return reply.status, await reply.json()
        except aiohttp.ClientConnectionError:
            return 0, None

    async def _ready(self) -> bool:
        """Ready, and connected to its broker: every device has subscribed its topics
        on the broker (a message published before would not reach it, unless
        retained)."""
        return await self.health() == (True, True)

    async def health(self) -> tuple[bool, bool | None]:
        """What ``/healthz`` says: ready, and whether the broker is connected."""
        status, body = await self._get("/healthz")
        if status not in (200, 503) or not isinstance(body, dict):
            return False, None
        broker = body.get("broker")
        connected = broker.get("connected") if isinstance(broker, dict) else None
        return body.get("ready") is True, connected

    async def states(self) -> dict[str, dict[str, Any]]:
        """Every entity's state now, by id, as ``GET /api/v1/state`` gives them."""
        status, body = await self._get("/api/v1/state")
        assert status == 200, (status, body)
        return {entity["entity_id"]: entity for entity in body["entities"]}

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """One entity's state now (None: the hub has none)."""
        return (await self.states()).get(entity_id)

    async def wait(self, condition: Callable[[], Any], timeout: float, what: str) -> None:
        """Wait until the awaitable ``condition()`` is true; fail with ``what`` and the
        hub's log when it is not within ``timeout`` seconds, or the hub died."""
        try:
            async with asyncio.timeout(timeout):
                while not await condition():
                    assert self.running, f"the hub exited:\n{self.log()}"
                    await asyncio.sleep(_POLL)
        except TimeoutError:
            raise AssertionError(f"waited {timeout} s for {what}; hub log:\n{self.log()}") from None

    async def wait_state(
        self,
        entity_id: str,
        state: str,
        timeout: float = QUICK,
        **attributes: Any,
    ) -> dict[str, Any]:
        """Wait until an entity has ``state`` and these attributes; returns it."""
        found: dict[str, Any] = {}

        async def holds() -> bool:
            entity = await self.state(entity_id)
            if entity is None or entity["state"] != state:
                return False
            if any(entity["attributes"].get(k) != v for k, v in attributes.items()):
                return False
            found.update(entity)
            return True

        shown = ", ".join(f"{k}={v!r}" for k, v in attributes.items())
        await self.wait(holds, timeout, f"{entity_id} {state} {shown}".rstrip())
        return found


@contextlib.asynccontextmanager
async def frigate(
    port: int,
    cameras: Sequence[str | SimCamera] = FRIGATE_CAMERAS,
    *,
    qos: int = 0,
    client_id: str | None = None,
) -> AsyncIterator[tuple[FrigateSimulator, NvrConnection]]:
    """A simulated Frigate 0.17 connected to the broker on ``port`` through its own
    connection, with Frigate's last will: ``(simulator, connection)``. Nothing is
    published yet (``simulator.start()`` is Frigate's connecting routine)."""
    async with NvrConnection(HOST, port, will=frigate_will(), client_id=client_id) as link:
        yield FrigateSimulator(link, cameras, qos=qos), link


async def frigate_online(sim: FrigateSimulator) -> None:
    """What Frigate says as it connects: its states, then its roles' status."""
    await sim.start()
    await sim.report_status()


async def ecrin(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run an ``ecrin`` command as an installer would, and wait for it."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hub.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def camera_events(journal: Path, camera: str) -> list[Event]:
    """A camera's events, in the order the journal on disk holds them."""
    events = []
    for entry in read_entries(journal):
        if entry.type.startswith("Camera") and entry.data().get("camera") == camera:
            events.append(entry.event())
    return events
