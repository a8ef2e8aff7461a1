"""The session over TLS to a real Mosquitto: the broker's certificate checked against
the configured CA and host name, a refused certificate said clearly, and the hub's
own certificate when the broker asks for one."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from hub.config.model import MqttTls
from hub.messages import Message
from hub.supervisor import Backoff
from hub.testing import CertificateAuthority, wait_until
from hub.testing.plugin import ConnectSession, StartMosquitto
from hub.transports.mqtt import MqttSession
from hub.transports.mqtt_reading import CHUNK

QUICK = 10.0


def fast() -> Backoff:
    return Backoff(initial=0.05, maximum=0.5)


async def test_tls_with_the_brokers_ca_and_host_name(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession
) -> None:
    broker = mosquitto(tls=True)
    assert broker.server is not None
    assert broker.server.keyfile.stat().st_mode & 0o777 == 0o600
    async with mqtt_session(broker, tls=True, host="localhost") as session:
        assert session.url == f"mqtts://localhost:{broker.tls_port}"
        assert session.nodelay is True
    async with mqtt_session(broker, tls=True) as session:  # by address: in the certificate
        assert session.connected


async def refused_once(
    session: MqttSession, caplog: pytest.LogCaptureFixture, expected: str
) -> str:
    with caplog.at_level(logging.WARNING, logger="hub.transports.mqtt"):
        async with session:
            await wait_until(lambda: session.counters.failed_attempts >= 3, timeout=QUICK)
            assert not session.connected
    lines = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(lines) == 1, lines
    assert expected in lines[0]
    return lines[0]


async def test_a_certificate_from_another_ca_is_refused_clearly(
    mosquitto: StartMosquitto,
    caplog: pytest.LogCaptureFixture,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    broker = mosquitto(tls=True)
    stranger = CertificateAuthority(tmp_path_factory.mktemp("stranger"), "stranger-ca")
    config = broker.mqtt_config(tls=True)
    config = dataclasses.replace(config, tls=MqttTls(ca=stranger.certfile))
    line = await refused_once(
        MqttSession(config, backoff=fast), caplog, "the broker's TLS certificate was refused"
    )
    assert "check mqtt.tls" in line


async def test_a_certificate_for_another_host_is_refused_unless_told_not_to_check(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession, caplog: pytest.LogCaptureFixture
) -> None:
    broker = mosquitto(tls=True, tls_hosts=("broker.boutique.lan",))
    assert broker.ca is not None
    config = broker.mqtt_config(tls=True)
    await refused_once(
        MqttSession(config, backoff=fast), caplog, "the broker's TLS certificate was refused"
    )
    unchecked = MqttTls(ca=broker.ca.certfile, check_hostname=False)
    async with mqtt_session(broker, tls=unchecked, port=broker.tls_port) as session:
        assert session.connected  # still checked against the CA: only the name is not


async def test_the_hubs_own_certificate_when_the_broker_asks_for_one(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession, caplog: pytest.LogCaptureFixture
) -> None:
    broker = mosquitto(tls=True, require_certificate=True)
    assert broker.ca is not None
    hub = broker.client_certificate()
    with_certificate = MqttTls(ca=broker.ca.certfile, certfile=hub.certfile, keyfile=hub.keyfile)
    async with mqtt_session(broker, tls=with_certificate, port=broker.tls_port) as session:
        assert session.connected
    without = broker.mqtt_config(tls=True)
    # TLS 1.3: the broker refuses the handshake after the client thinks it is done, so
    # the attempt ends as a connection never answered: a short answer timeout.
    session = MqttSession(without, backoff=fast, timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="hub.transports.mqtt"):
        async with session:
            await wait_until(lambda: session.counters.failed_attempts >= 2, timeout=QUICK)
    assert session.counters.connects == 0


async def test_a_missing_ca_file_is_one_line_and_retried(
    mosquitto: StartMosquitto,
    caplog: pytest.LogCaptureFixture,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    broker = mosquitto(tls=True)
    gone = tmp_path_factory.mktemp("gone") / "ca.pem"
    config = dataclasses.replace(broker.mqtt_config(tls=True), tls=MqttTls(ca=gone))
    await refused_once(MqttSession(config, backoff=fast), caplog, "No such file")


async def test_messages_over_tls_arrive_whole_and_in_order(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession
) -> None:
    """Over TLS the session's reader takes its chunks from the TLS socket (records
    decrypted, some held in its own buffer): small messages, one larger than a chunk,
    QoS 0 and 1, all arrive as sent, most parsed by the session itself."""
    broker = mosquitto(tls=True)
    got: list[Message] = []
    sent = [
        *(Message(f"cams/{i}", str(i).encode() * 60, qos=i % 2) for i in range(300)),
        Message("cams/big", bytes(range(256)) * (CHUNK // 128), qos=1),
        Message("cams/end", b"end", qos=0),
    ]
    async with mqtt_session(broker, tls=True, subscribe=[("cams/#", got.append)]) as session:
        async with broker.client() as camera:  # the plain listener: the hub's side is TLS
            for m in sent:
                await camera.publish(m.topic, m.payload, qos=m.qos)
        await wait_until(lambda: len(got) == len(sent), timeout=QUICK)
        counters = session.counters
    assert [(m.topic, m.payload, m.qos) for m in got] == [(m.topic, m.payload, m.qos) for m in sent]
    assert len(sent) // 2 < counters.read_directly < counters.received == len(sent)
