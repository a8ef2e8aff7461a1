"""A hold-up end to end: a DSC panel on a real pty, the real hub, real webhooks and API.

The panel simulator presses the hold-up button on panel zone 5 (wired `type: holdup`);
the hub reads the frame through the serial transport, decodes it, journals it, the
escalation engine writes the outbox and POSTs signed webhooks to receivers on loopback
ports; a referent acknowledges through the hub's HTTP API with their bearer token.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import plugins.panels
from hub.app import Hub
from hub.config import load_config
from hub.escalation.model import Status
from hub.supervisor import Backoff
from hub.transports.pty import PtyCable
from plugins.panels.simulators import It100Simulator
from tests.escalation.conftest import Receiver, plugin_manager, write_config
from tests.escalation.support import ChangeLog

TOKEN = "ecrin_e2e_referent_token"
HOLDUP_ZONE = 5
FORBIDDEN_KEYS = {"amount", "loss", "value", "note", "comment", "text", "message"}


def panel_block(port: str) -> str:
    return f"""devices:
  - id: centrale
    type: dsc-it100
    settings: {{port: '{port}', poll_interval: 3600, supervision_interval: 0}}
    zones:
      {HOLDUP_ZONE}: {{zone: comptoir, type: holdup}}
      6: {{zone: vitrine, type: holdup}}
"""


def shop_config(
    tmp_path: Path, cable: PtyCable, receivers: dict[str, Receiver], ladder: str
) -> Path:
    path = write_config(
        tmp_path,
        {name: r.url for name, r in receivers.items()},
        ladder=ladder,
        cameras="cameras:\n  - {id: cam-comptoir, type: sim-camera, zones: [comptoir],"
        " placement: indoor, settings: {period: 3600}}\n",
        extra="fold_window: 0\n",
    )
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"devices:\n(?:  .*\n)+", panel_block(cable.path), text, count=1)
    sha = hashlib.sha256(TOKEN.encode()).hexdigest()
    text = text.replace(
        "  - id: referent-37\n", f'  - id: referent-37\n    token_sha256: "{sha}"\n', 1
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def cable(tmp_path: Path) -> AsyncIterator[PtyCable]:
    pty = PtyCable(tmp_path / "ttyS0")
    yield pty
    pty.close()


async def start_hub(path: Path) -> Hub:
    pm = plugin_manager()
    pm.register(plugins.panels, "panels")
    config = load_config(path, pm.device_types())
    return Hub(config, pm, backoff=lambda: Backoff(initial=0.02, maximum=0.1), http_port=0)


def assert_signed_holdup(request: object, tier: int) -> None:
    from tests.escalation.conftest import Request

    assert isinstance(request, Request)
    assert request.verified, "the Ecrin-Signature header does not verify"
    data = request.data
    assert data["kind"] == "holdup"
    assert data["zone"] == {"id": "comptoir", "name": "Comptoir de vente"}
    assert data["tier"] == tier
    assert not FORBIDDEN_KEYS & set(_all_keys(data)), (
        "an escalation must carry no amount or free text"
    )


def _all_keys(value: object) -> list[str]:
    if isinstance(value, dict):
        keys = list(value)
        for item in value.values():
            keys += _all_keys(item)
        return keys
    if isinstance(value, list):
        return [k for item in value for k in _all_keys(item)]
    return []


async def test_holdup_on_the_pty_reaches_the_referent_then_the_next_tier(
    tmp_path: Path, cable: PtyCable, receivers: dict[str, Receiver]
) -> None:
    ladder = (
        "[{contacts: [referent-37], ack_deadline: 0.5},"
        " {contacts: [interlocuteur-37], ack_deadline: 30}]"
    )
    hub = await start_hub(shop_config(tmp_path, cable, receivers, ladder))
    async with It100Simulator(cable) as panel, hub:
        await panel.wait_command("001")  # the hub opened the port and asked for status
        await panel.zone_alarm(HOLDUP_ZONE)
        (first,) = await receivers["referent-37"].wait_for(
            lambda r: r.event.startswith("escalation.")
        )
        assert_signed_holdup(first, tier=0)
        # Nobody acknowledges: after the deadline the interlocutor is called in.
        (second,) = await receivers["interlocuteur-37"].wait_for(
            lambda r: r.event.startswith("escalation.")
        )
        assert second.verified
        assert second.data["id"] == first.data["id"]
        assert second.data["tier"] == 1
        assert receivers["owner"].requests == []


async def test_an_acknowledgement_through_the_api_stops_the_ladder(
    tmp_path: Path, cable: PtyCable, receivers: dict[str, Receiver]
) -> None:
    ladder = (
        "[{contacts: [referent-37], ack_deadline: 1.0},"
        " {contacts: [interlocuteur-37], ack_deadline: 30}]"
    )
    hub = await start_hub(shop_config(tmp_path, cable, receivers, ladder))
    referent = receivers["referent-37"]
    interlocutor = receivers["interlocuteur-37"]
    async with It100Simulator(cable) as panel, hub, aiohttp.ClientSession() as http:
        assert hub.http_url is not None
        await panel.wait_command("001")
        await panel.zone_alarm(HOLDUP_ZONE)
        (first,) = await referent.wait_for(lambda r: r.event.startswith("escalation."))
        esc_id = first.data["id"]
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with http.post(
            f"{hub.http_url}/api/v1/escalations/{esc_id}/ack", headers=headers
        ) as resp:
            assert resp.status == 200, await resp.text()
            body = await resp.json()
        assert body["status"] == Status.ACKNOWLEDGED
        assert body["acknowledged_by"] == "referent-37"
        assert body["deadline"] is None
        # A second hold-up, elsewhere, is not acknowledged: when its deadline has passed
        # and the interlocutor got it, the first one's deadline has passed too.
        await panel.zone_alarm(6)
        (later,) = await interlocutor.wait_for(
            lambda r: r.event.startswith("escalation."), timeout=10
        )
        assert later.data["id"] != esc_id
        assert [
            r.data["id"] for r in interlocutor.requests if r.event.startswith("escalation.")
        ] == [later.data["id"]]
        async with http.get(f"{hub.http_url}/api/v1/escalations/{esc_id}", headers=headers) as resp:
            assert (await resp.json())["status"] == Status.ACKNOWLEDGED


async def test_receiver_down_is_retried_until_it_comes_back(
    tmp_path: Path, cable: PtyCable, receivers: dict[str, Receiver]
) -> None:
    ladder = "[{contacts: [referent-37], ack_deadline: 60}]"
    referent = receivers["referent-37"]
    await referent.stop()  # the referent's server is down: connection refused
    hub = await start_hub(shop_config(tmp_path, cable, receivers, ladder))
    async with It100Simulator(cable) as panel, hub:
        assert hub.escalation is not None
        installer = next(c for c in hub.escalation.contacts() if c.id == "installer")
        changes = ChangeLog(hub.escalation, installer)
        await panel.wait_command("001")
        await panel.zone_alarm(HOLDUP_ZONE)
        failed = await changes.wait_for("delivery_failed", count=2)
        assert all(c.contact == "referent-37" for c in failed)
        assert hub.escalation.pending_deliveries == 1
        await referent.start()  # back on the same port
        (got,) = await referent.wait_for(lambda r: r.event.startswith("escalation."), timeout=10)
        assert_signed_holdup(got, tier=0)
        await changes.close()
