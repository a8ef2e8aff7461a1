"""The ``mqtt:`` section: the broker, or the embedded one, and every mistake reported at
its FILE:LINE:COLUMN."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hub.config import (
    EmbeddedBroker,
    MqttConfig,
    MqttTls,
    check_config_main,
    default_client_id,
)
from hub.escalation.config import CONFIG_SECTIONS
from tests.test_config import CATALOGUE, SITE, issues, load, write

# SITE is 8 lines: a snippet appended after it starts at line 9.


def test_no_section_no_broker(tmp_path: Path) -> None:
    assert load(write(tmp_path, SITE)).mqtt is None


def test_an_empty_section_is_the_embedded_broker_with_a_stable_client_id(tmp_path: Path) -> None:
    config = load(write(tmp_path, SITE + "mqtt: {}\n"))
    assert config.mqtt == MqttConfig(client_id="ecrin-bijouterie-test")
    assert config.mqtt.host is None
    assert config.mqtt.embedded == EmbeddedBroker("127.0.0.1", 1883)
    assert config.mqtt.availability_topic == "ecrin/status"


def test_every_key(tmp_path: Path) -> None:
    (tmp_path / "tls").mkdir()
    for name in ("ca.pem", "hub.pem", "hub.key"):
        (tmp_path / "tls" / name).write_text("-----BEGIN CERTIFICATE-----\n")
    path = write(
        tmp_path,
        SITE
        + """\
mqtt:
  host: broker.boutique.lan
  port: 8884
  username: ecrin
  password: !secret mqtt_password
  client_id: hub.tours-1
  keepalive: 60
  tls:
    ca: tls/ca.pem
    certfile: tls/hub.pem
    keyfile: tls/hub.key
    check_hostname: false
  base_topic: boutiques/tours/ecrin
""",
    )
    write(tmp_path, "mqtt_password: s3cr3t-pa55\n", "secrets.yaml").chmod(0o600)
    mqtt = load(path).mqtt
    assert mqtt == MqttConfig(
        host="broker.boutique.lan",
        port=8884,
        username="ecrin",
        password="s3cr3t-pa55",
        client_id="hub.tours-1",
        keepalive=60,
        tls=MqttTls(
            ca=tmp_path / "tls" / "ca.pem",
            certfile=tmp_path / "tls" / "hub.pem",
            keyfile=tmp_path / "tls" / "hub.key",
            check_hostname=False,
        ),
        base_topic="boutiques/tours/ecrin",
    )
    assert mqtt.availability_topic == "boutiques/tours/ecrin/status"
    assert "s3cr3t" not in repr(mqtt)
    assert "s3cr3t" not in mqtt.describe()
    assert mqtt.describe() == (
        "mqtts://broker.boutique.lan:8884, user ecrin, client id hub.tours-1"
    )


def test_tls_true_is_the_system_cas_on_the_tls_port(tmp_path: Path) -> None:
    mqtt = load(write(tmp_path, SITE + "mqtt: {host: broker, tls: true}\n")).mqtt
    assert mqtt is not None
    assert (mqtt.tls, mqtt.port) == (MqttTls(), 8883)
    mqtt = load(write(tmp_path, SITE + "mqtt: {host: broker, tls: false}\n")).mqtt
    assert mqtt is not None
    assert (mqtt.tls, mqtt.port) == (None, 1883)


def test_the_embedded_broker_elsewhere_with_credentials(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
mqtt:
  username: ecrin
  password: a-long-password
  embedded: {host: 0.0.0.0, port: 11883}
""",
    )
    mqtt = load(path).mqtt
    assert mqtt is not None
    assert mqtt.embedded == EmbeddedBroker("0.0.0.0", 11883)
    assert mqtt.describe() == (
        "the embedded broker on 0.0.0.0:11883, user ecrin, client id ecrin-bijouterie-test"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Bijouterie Müller & Fils", "ecrin-bijouterie-muller-fils"),
        ("  Horlogerie   du Centre — Tours ", "ecrin-horlogerie-du-centre-tours"),
        ("ÉCRIN", "ecrin-ecrin"),
        ("", "ecrin"),
        ("!!!", "ecrin"),
        ("x" * 100, "ecrin-" + "x" * 58),
    ],
)
def test_the_default_client_id_is_made_from_the_site_name(name: str, expected: str) -> None:
    assert default_client_id(name) == expected
    assert len(default_client_id(name)) <= 64


def test_mqtt_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
mqtt:
  host: ""
  port: 70000
  password: x
  client_id: "hub tours"
  keepalive: 1
  base_topic: "ecrin/+/x"
  tls: {ca: missing.pem, keyfile: key.pem, verify: true}
  embedded: {host: 127.0.0.1}
  colour: blue
""",
    )
    assert issues(path) == [
        f"{path}:10:9: mqtt.host: must not be empty",
        f"{path}:11:9: mqtt.port: 70000 is above the maximum 65535",
        f"{path}:12:13: mqtt.password: a password needs a username (MQTT rule)",
        f"{path}:13:14: mqtt.client_id: 'hub tours' is not a valid client id: use 1 to 64"
        " letters, digits, '.', '-' or '_'",
        f"{path}:14:14: mqtt.keepalive: 1 is below the minimum 5",
        f"{path}:15:15: mqtt.base_topic: 'ecrin/+/x' must be topic levels without '+',"
        " '#', empty levels or a leading or trailing '/'",
        f"{path}:16:13: mqtt.tls.ca: no such file: {tmp_path / 'missing.pem'}",
        f"{path}:16:35: mqtt.tls.keyfile: no such file: {tmp_path / 'key.pem'}",
        f"{path}:16:35: mqtt.tls.keyfile: a keyfile needs the certfile it belongs to",
        f"{path}:16:44: mqtt.tls.verify: unknown key (known: ca, certfile, keyfile,"
        " check_hostname)",
        f"{path}:17:3: mqtt.embedded: the hub starts a broker of its own only without"
        " mqtt.host: remove one of them",
        f"{path}:18:3: mqtt.colour: unknown key (known: host, port, username, password,"
        " client_id, keepalive, tls, base_topic, embedded)",
    ]


@pytest.mark.parametrize(
    ("base_topic", "column"),
    [("/ecrin", 15), ("ecrin/", 15), ("ecrin//tours", 15), ("$SYS/ecrin", 15), ("a/#", 15)],
)
def test_bad_base_topics(tmp_path: Path, base_topic: str, column: int) -> None:
    path = write(tmp_path, SITE + f'mqtt:\n  base_topic: "{base_topic}"\n')
    (issue,) = issues(path)
    assert issue.startswith(f"{path}:10:{column}: mqtt.base_topic: {base_topic!r} must ")


def test_tls_without_a_host_and_a_bad_tls_value(tmp_path: Path) -> None:
    path = write(tmp_path, SITE + "mqtt: {tls: true}\n")
    assert issues(path) == [
        f"{path}:9:13: mqtt.tls: TLS needs a broker host (mqtt.host): the embedded broker"
        " speaks plain MQTT",
    ]
    path = write(tmp_path, SITE + "mqtt: {host: broker, tls: [ca.pem]}\n")
    assert issues(path) == [
        f"{path}:9:27: mqtt.tls: expected true, false or a mapping with ca, certfile,"
        " keyfile and check_hostname, got a list",
    ]


def test_an_embedded_broker_open_to_the_network_needs_credentials(tmp_path: Path) -> None:
    path = write(tmp_path, SITE + "mqtt:\n  embedded: {host: 0.0.0.0, port: 0}\n")
    assert issues(path) == [
        f"{path}:10:20: mqtt.embedded.host: the embedded broker on '0.0.0.0' would be open"
        " to the network: set mqtt.username and mqtt.password (every client must then"
        " give them), or listen on 127.0.0.1",
        f"{path}:10:35: mqtt.embedded.port: 0 is below the minimum 1",
    ]
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        path = write(tmp_path, SITE + f'mqtt:\n  embedded: {{host: "{host}"}}\n')
        mqtt = load(path).mqtt
        assert mqtt is not None
        assert mqtt.embedded.host == host


def test_the_broker_link_id_is_reserved(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE + "devices:\n  - {id: mqtt, type: sim-panel}\n",
    )
    assert issues(path) == [
        f"{path}:10:10: devices[0].id: the id 'mqtt' is reserved for the hub's link to its"
        " MQTT broker: choose another",
    ]


def test_check_config_names_the_broker_never_the_password(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE + "mqtt:\n  host: broker.lan\n  username: ecrin\n  password: !secret mqtt\n",
    )
    write(tmp_path, "mqtt: hunter2-hunter2\n", "secrets.yaml").chmod(0o600)
    out, err = io.StringIO(), io.StringIO()
    assert check_config_main(path, CATALOGUE, out, err, CONFIG_SECTIONS) == 0
    assert out.getvalue() == (
        f"{path}: valid: 2 zones, 0 devices, 0 cameras;"
        " MQTT broker mqtt://broker.lan:1883, user ecrin, client id ecrin-bijouterie-test\n"
    )
    assert "hunter2" not in out.getvalue() + err.getvalue()
