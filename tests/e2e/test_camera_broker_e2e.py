"""The broker goes away and comes back while ``ecrin run`` runs: the cameras are
``unknown`` meanwhile, the broker's link is down then up, and nothing Frigate published
while the hub could not hear it is lost.

The hub reaches Mosquitto through a relay on loopback (``tests/e2e/relay.py``), a
cable the test can pull: the broker is restarted (with its persistence, as its
service manager would), and the cable stays pulled while the simulated Frigate
reconnects to the broker and publishes, so that everything it says is, for sure,
published while the hub is not connected. The broker keeps it for the hub's
persistent session (QoS 1, Frigate's ``mqtt.qos: 1``), and the hub must hear all of it,
in order, once the cable is back: the journal on disk is read row by row.
"""

from __future__ import annotations

from pathlib import Path

from hub.events import CameraAvailability, CameraDetection, CameraMotion, CameraRecording, Event
from hub.journal import read_entries
from hub.testing.plugin import StartMosquitto
from tests.e2e.camera_shop import (
    HOST,
    RECONNECT,
    HubProcess,
    camera_events,
    frigate,
    frigate_online,
    write_camera_shop,
)
from tests.e2e.relay import TcpRelay


def happening(event: Event) -> tuple[str, object] | None:
    """What a camera's event says, for comparing with what Frigate published (None for
    its availability, compared on its own)."""
    if isinstance(event, CameraRecording):
        return ("recording", event.recording)
    if isinstance(event, CameraMotion):
        return ("motion", event.active)
    if isinstance(event, CameraDetection):
        return (f"detection {event.phase}", event.label)
    return None


def after_the_loss(events: list[Event]) -> list[Event]:
    """The events after the last one that said the broker was lost."""
    lost = [
        i
        for i, e in enumerate(events)
        if isinstance(e, CameraAvailability) and e.reason == "broker lost" and not e.role
    ]
    assert lost, f"no 'broker lost' in {events}"
    return events[lost[-1] + 1 :]


async def test_what_frigate_says_while_the_hub_is_away_is_all_heard_in_order(
    tmp_path: Path, mosquitto: StartMosquitto
) -> None:
    broker = mosquitto()  # persistence on: the hub's session outlives a restart
    async with TcpRelay(HOST, broker.port) as relay:
        shop = write_camera_shop(tmp_path, broker_port=relay.port)
        async with HubProcess(shop) as hub:
            async with frigate(broker.port, qos=1) as (sim, _link):
                await frigate_online(sim)
                await hub.wait_state("camera:cam-comptoir", "online", recording=True)
                await hub.wait_state("camera:cam-vitrine", "online", recording=True)
                # The broker stops (its service restarted): no one can tell whether the
                # cameras film, so they are unknown, never silently online.
                broker.stop()
                await hub.wait_state("camera:cam-comptoir", "unknown", reason="broker lost")
                await hub.wait_state("camera:cam-vitrine", "unknown", reason="broker lost")
                await hub.wait_state("link:mqtt", "down")
            # The broker is back, but not the hub's way to it; Frigate reconnects.
            await relay.cut()
            relayed = relay.connections
            broker.start()
            async with frigate(broker.port, qos=1) as (sim, _link):
                await frigate_online(sim)
                published = []
                await sim.set_recording("comptoir", False)
                published.append(("recording", False))
                await sim.motion("comptoir", True)
                published.append(("motion", True))
                ident = await sim.track("comptoir", "person", zones=["caisse"])
                published.append(("detection new", "person"))
                await sim.end(ident)
                published.append(("detection end", "person"))
                await sim.motion("comptoir", False)
                published.append(("motion", False))
                await sim.set_recording("comptoir", True)
                published.append(("recording", True))
                await sim.set_recording("comptoir", False)
                published.append(("recording", False))
                # All of it acknowledged by the broker while the hub was cut off.
                assert relay.connections == relayed
                link = await hub.state("link:mqtt")
                assert link is not None
                assert link["state"] == "down"
                comptoir = await hub.state("camera:cam-comptoir")
                assert comptoir is not None
                assert comptoir["state"] == "unknown"
                await relay.mend()
                await hub.wait_state("link:mqtt", "up", RECONNECT)
                await hub.wait_state("camera:cam-comptoir", "online", recording=False)
                await hub.wait_state("camera:cam-vitrine", "online", recording=True)
    events = after_the_loss(camera_events(shop.journal, "cam-comptoir"))
    said = [h for h in map(happening, events) if h is not None]
    # What Frigate said as it connected (its retained switch, its motion OFF), then
    # every transition published while the hub was away, in the order published; the
    # retained states the broker hands over again at the resubscription repeat the
    # last of them, which changes nothing.
    assert said == [("recording", True), ("motion", False), *published]
    # Between them, the camera and its roles came back online. (Before that, the NVR's
    # last will, which Mosquitto published as it stopped, may come again: it was on its
    # way to the hub when the broker stopped, and QoS 1 is at least once.)
    final = {e.role: e.state for e in events if isinstance(e, CameraAvailability)}
    assert final == {"": "online", "detect": "online", "record": "online"}
    # The broker's link: one outage, one return, journaled.
    links = [
        (entry.type, entry.data().get("device"))
        for entry in read_entries(shop.journal)
        if entry.type in ("LinkLost", "LinkRestored")
    ]
    assert links == [("LinkLost", "mqtt"), ("LinkRestored", "mqtt")]
