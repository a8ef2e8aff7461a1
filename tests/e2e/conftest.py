"""End-to-end fixtures: a real hub built from a shop's YAML file, with its DSC panel
simulated on a pseudo-terminal and its contacts' webhook receivers on loopback.

The hub is the one ``ecrin run`` starts: the configuration goes through
``load_config``, the plugins through their entry points, and the hub serves the
referent API on a free port. The panel is an ``It100Simulator`` on the far end of the
test kit's ``pty_cable`` fixture (a ``PtyCable``); the receivers are those of the escalation tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.app import Hub
from hub.config import load_config
from hub.escalation.clock import Clock
from hub.escalation.engine import EscalationEngine
from hub.escalation.model import Contact
from hub.http.tokens import hash_token, new_token
from hub.plugins import PluginManager
from hub.transports.pty import PtyCable
from plugins.panels.simulators import It100Simulator
from tests.escalation.conftest import SECRET_37, SECRET_INTERLOCUTOR, SITE, Receiver

__all__ = [
    "ACK_DEADLINE",
    "INTERLOCUTOR",
    "REFERENT",
    "MakeShop",
    "Shop",
    "make_shop",
    "receivers",
]

#: The contacts of the ladder: the local referent first, then the departmental
#: interlocutor.
REFERENT = "referent-37"
INTERLOCUTOR = "interlocuteur-37"
#: The first tier's acknowledgement deadline: short, so that the ladder climbs within
#: the test, yet long enough for an acknowledgement sent as soon as the webhook is in.
ACK_DEADLINE = 1.0
#: Panel zones wired to hold-up buttons, and the shop's zones they are in.
HOLDUP_ZONES = {5: "comptoir", 6: "vitrine"}

#: The shop of the escalation tests (its ``site:`` section), with a DSC panel.
SHOP = (
    SITE.split("zones:", maxsplit=1)[0].replace("{", "{{").replace("}", "}}")
    + """\
zones:
  - {{id: comptoir, name: Comptoir de vente, risk: high}}
  - {{id: vitrine, name: Vitrine rue, risk: high}}
devices:
  - id: centrale
    type: dsc-it100
    settings: {{port: "{port}", poll_interval: 0}}
    zones:
{zones}
contacts:
  - id: {referent}
    name: Référent sûreté
    role: local_referent
    scopes: [referent]
    token_sha256: {referent_token}
    webhook: {{url: "{referent_url}", secret: !secret referent}}
  - id: {interlocutor}
    name: Interlocuteur départemental
    role: departmental_interlocutor
    scopes: [referent]
    token_sha256: {interlocutor_token}
    webhook: {{url: "{interlocutor_url}", secret: !secret interlocutor}}
escalation:
  ladder:
    - {{contacts: [{referent}], ack_deadline: {deadline}}}
    - {{contacts: [{interlocutor}], ack_deadline: {deadline}}}
  reminders: 0
  webhook: {{timeout: 0.5, backoff_initial: 0.05, backoff_max: 0.2}}
  high_stock: {high_stock}
journal: {{path: journal.db}}
"""
)


@dataclass
class Shop:
    """A running hub, its panel, and the people who are told of a hold-up."""

    hub: Hub
    panel: It100Simulator
    referent: Receiver
    interlocutor: Receiver
    tokens: dict[str, str]

    @property
    def engine(self) -> EscalationEngine:
        engine = self.hub.escalation
        assert engine is not None, "the configuration has an escalation section"
        return engine

    @property
    def url(self) -> str:
        assert self.hub.http_url is not None, "the hub serves its referent API"
        return self.hub.http_url

    def contact(self, contact_id: str) -> Contact:
        return next(c for c in self.engine.contacts() if c.id == contact_id)


def write_shop(
    directory: Path,
    port: str,
    referent: Receiver,
    interlocutor: Receiver,
    high_stock: str = "{calendar: false}",
) -> tuple[Path, dict[str, str]]:
    """Write shop.yaml and secrets.yaml: the panel on ``port``, the contacts' webhooks to
    the receivers, and a fresh API token per contact (only its hash in the file).

    ``high_stock`` is the escalation's ``high_stock:`` value: by default the shipped
    calendar is off, so that the day the tests run decides nothing; the calendar's own
    end-to-end tests turn it on and stand the hub's clock on the day they choose.

    Returns:
        The configuration's path, and the tokens by contact id.
    """
    tokens = {REFERENT: new_token(), INTERLOCUTOR: new_token()}
    zones = "\n".join(
        f"      {n}: {{zone: {zone}, type: holdup}}" for n, zone in HOLDUP_ZONES.items()
    )
    path = directory / "shop.yaml"
    path.write_text(
        SHOP.format(
            port=port,
            zones=zones,
            referent=REFERENT,
            interlocutor=INTERLOCUTOR,
            referent_token=hash_token(tokens[REFERENT]),
            interlocutor_token=hash_token(tokens[INTERLOCUTOR]),
            referent_url=referent.url,
            interlocutor_url=interlocutor.url,
            deadline=ACK_DEADLINE,
            high_stock=high_stock,
        ),
        encoding="utf-8",
    )
    (directory / "secrets.yaml").write_text(
        f"referent: {SECRET_37}\ninterlocutor: {SECRET_INTERLOCUTOR}\n", encoding="utf-8"
    )
    return path, tokens


@pytest.fixture
async def receivers() -> AsyncIterator[dict[str, Receiver]]:
    """The two contacts' receivers (``make_shop`` starts those that are not down)."""
    made = {REFERENT: Receiver(SECRET_37), INTERLOCUTOR: Receiver(SECRET_INTERLOCUTOR)}
    yield made
    for receiver in made.values():
        await receiver.stop()


MakeShop = Callable[..., AbstractAsyncContextManager[Shop]]


@pytest.fixture
def make_shop(tmp_path: Path, pty_cable: PtyCable, receivers: dict[str, Receiver]) -> MakeShop:
    """Start the hub of the shop on ``pty_cable``, with the panel simulator on the far end,
    and the receivers of the contacts not named in ``down`` (nothing listens on the
    others' ports). ``high_stock`` and ``clock`` are for the calendar's tests (see
    ``write_shop``). ``before_hub`` is what the panel does before the hub has opened the
    port (the hub is restarting). The shop is ready once the hub has opened the port and
    asked the panel for its status."""

    @asynccontextmanager
    async def running(
        down: Collection[str] = (),
        *,
        high_stock: str = "{calendar: false}",
        clock: Clock | None = None,
        before_hub: Callable[[It100Simulator], Awaitable[object]] | None = None,
    ) -> AsyncIterator[Shop]:
        for contact_id, receiver in receivers.items():
            if contact_id not in down:
                await receiver.start()
        referent, interlocutor = receivers[REFERENT], receivers[INTERLOCUTOR]
        path, tokens = write_shop(tmp_path, pty_cable.path, referent, interlocutor, high_stock)
        manager = PluginManager()
        manager.load_entry_points()
        assert not manager.errors, manager.errors
        config = load_config(path, manager.device_types(), manager.config_sections())
        async with It100Simulator(pty_cable) as panel:
            if before_hub is not None:
                await before_hub(panel)
            async with Hub(config, manager, http_port=0, clock=clock) as hub:
                await panel.wait_command("001")
                yield Shop(hub, panel, referent, interlocutor, tokens)

    return running
