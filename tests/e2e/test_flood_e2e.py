"""A flood of idle connections against a real ``ecrin run`` limited to 1,024 open files:
the hold-up still reaches the referent, the log stays small, and the API answers again.

The hub runs as a service manager would start it (``prlimit --nofile=1024:1024``, so it
cannot raise its own limit), with its DSC panel on a pseudo-terminal and the contacts'
webhook receivers on loopback. The connections send half a request head and wait: in
this shop the header and keep-alive deadlines are ten minutes and the connection caps
are far above the flood, so what protects the hold-up here is the listener's descriptor
reserve (the caps and deadlines have their own tests in tests/http/test_listener.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from hub.http import HttpSettings
from hub.transports.pty import PtyCable
from plugins.panels.simulators import It100Simulator
from tests.e2e.conftest import REFERENT, write_shop
from tests.escalation.conftest import Receiver, Request, free_port

#: Half-open connections of the flood: more than the hub's 1,024 descriptors.
FLOOD = 1100
#: The hub's limit of open files, as a service manager commonly sets it.
LIMIT = 1024
#: The listener's default descriptor reserve.
RESERVE = HttpSettings().fd_reserve
#: What the hub may write to its log during the whole test (start, flood, hold-up).
LOG_BUDGET = 32 * 1024

pytestmark = pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs prlimit")


def created(request: Request) -> bool:
    return request.event == "escalation.created"


@contextlib.asynccontextmanager
async def ecrin_run(config: Path, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """``ecrin run`` under a hard limit of 1,024 open files, until SIGTERM."""
    env = dict(os.environ, ECRIN_LOAD_PLUGINS="panels", PYTHONUNBUFFERED="1")
    with log.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            "prlimit",
            f"--nofile={LIMIT}:{LIMIT}",
            "--",
            sys.executable,
            "-m",
            "hub.cli",
            "run",
            "-c",
            str(config),
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=config.parent,
        )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(60):
            line = await proc.stdout.readline()
        assert b"running for" in line, log.read_text(errors="replace")
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await proc.communicate()
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def api_answers(base: str, token: str, timeout: float = 20.0) -> None:
    """Wait until the referent API serves the referent again."""
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session, asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(f"{base}/api/v1/me", headers=headers) as reply:
                    if reply.status == 200:
                        return
            await asyncio.sleep(0.1)


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def descriptors_at_ceiling(pid: int, timeout: float = 30.0) -> None:
    """Wait until the flood has taken every descriptor the hub will give it: all but
    the reserve (the ceiling with the reserve) or all of them (without one)."""
    async with asyncio.timeout(timeout):
        while open_descriptors(pid) < LIMIT - RESERVE:
            await asyncio.sleep(0.05)


async def half_open(host: str, port: int) -> asyncio.StreamWriter | None:
    """A connection that sends half a request head and then nothing."""
    try:
        async with asyncio.timeout(5):
            _, writer = await asyncio.open_connection(host, port)
            writer.write(b"GET /api/v1/me HTTP/1.1\r\nHost: hub\r\n")
            await writer.drain()
    except (TimeoutError, OSError):
        return None
    return writer


async def test_a_holdup_gets_through_a_flood_of_idle_connections(
    tmp_path: Path, pty_cable: PtyCable, receivers: dict[str, Receiver]
) -> None:
    for receiver in receivers.values():
        receiver.keep_alive = False  # the hold-up's delivery needs a fresh descriptor
        await receiver.start()
    referent = receivers[REFERENT]
    config, tokens = write_shop(tmp_path, pty_cable.path, referent, receivers["interlocuteur-37"])
    port = free_port()
    with config.open("a", encoding="utf-8") as text:
        text.write(
            f"http: {{port: {port}, header_timeout: 600, keepalive_timeout: 600,"
            " max_connections: 5000, max_connections_per_address: 5000}\n"
        )
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "hub.log"

    async with It100Simulator(pty_cable) as panel, ecrin_run(config, log) as hub:
        await panel.wait_command("001")
        await api_answers(base, tokens[REFERENT])

        writers = await asyncio.gather(*(half_open("127.0.0.1", port) for _ in range(FLOOD)))
        try:
            await descriptors_at_ceiling(hub.pid)
            await panel.zone_alarm(zone=5)
            (delivery,) = await referent.wait_for(created, timeout=10)
            assert delivery.verified
            assert delivery.data["kind"] == "holdup"
        finally:
            for writer in writers:
                if writer is not None:
                    writer.close()

        await api_answers(base, tokens[REFERENT])
        assert log.stat().st_size < LOG_BUDGET, log.read_text(errors="replace")[-2000:]
