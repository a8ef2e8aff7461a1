"""The test kit's broker: ``mosquitto`` and ``mqtt_session`` as an outside plugin's tests
get them (through ``pytest11``, in a pytest run of their own), and a missing
Mosquitto failing loudly."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hub.testing import Mosquitto, MosquittoMissing
from hub.testing.mosquitto import find_mosquitto

OUTSIDE_TESTS = """
from hub.sdk import Message
from hub.testing import wait_until


async def test_a_camera_message_through_a_real_broker(mosquitto, mqtt_session):
    broker = mosquitto(users={"hub": "pa55-word-long"})
    got = []
    async with mqtt_session(broker, username="hub", password="pa55-word-long") as session:
        await session.subscribe("cams/+/available", got.append, qos=1)
        async with broker.client() as camera:
            await camera.publish("cams/vitrine/available", b"online", qos=1, retain=True)
        await wait_until(lambda: len(got) == 1)
        broker.stop()
        await wait_until(lambda: not session.connected)
        broker.start()
        await wait_until(lambda: session.connected)
    assert got[0] == Message("cams/vitrine/available", b"online", retain=False, qos=1)
    assert broker.subscriptions("ecrin-test") == [(1, "cams/+/available")] * 2
"""


def test_an_outside_plugin_gets_a_broker_and_a_session(tmp_path: Path) -> None:
    (tmp_path / "test_camera.py").write_text(textwrap.dedent(OUTSIDE_TESTS))
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_a_missing_mosquitto_is_an_error_never_a_skip(tmp_path: Path) -> None:
    with pytest.raises(MosquittoMissing, match="apt-get install mosquitto"):
        find_mosquitto([None, str(tmp_path / "mosquitto")])


def test_the_broker_restarts_on_the_same_port_with_its_persistence(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, max_queued_messages=5000)
    try:
        broker.start()
        port = broker.port
        broker.stop()
        assert not broker.running
        assert (tmp_path / "mosquitto.db").is_file()  # saved on a clean stop
        broker.start()
        assert broker.running
        assert broker.port == port
        config = broker.config_path.read_text()
        assert "max_queued_messages 5000" in config
        assert "persistence true" in config
    finally:
        broker.kill()
    assert not broker.running
