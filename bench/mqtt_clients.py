"""The MQTT benchmark's clients: Frigate's publisher and a bare subscriber, each a process.

``bench.mqtt`` runs them beside the hub's process, on the same Mosquitto, so that each
has a process (and an interpreter lock) of its own, as a Frigate server and another
MQTT application of the shop would:

* ``python -m bench.mqtt_clients publish HOST PORT --cameras N --rounds R --qos Q``
  plays one Frigate NVR with N cameras. What it publishes is made by
  ``FrigateSimulator`` (Frigate's real topics and payloads, the simulator the tests
  use) and recorded before anything is sent (``frigate_setup``, ``frigate_load``), so
  that publishing costs no more than a publish per message. It reads commands on its
  standard input, one a line, and answers each with one JSON line on its standard
  output: ``setup`` (the cameras' retained states, then ``available`` ``online``, at
  QoS 1), ``load [QOS]`` (the R rounds at full speed, between two marks on
  ``MARK_TOPIC``), ``pace RATE`` (the rounds in a loop, RATE messages a second, until
  ``stop``).
* ``python -m bench.mqtt_clients subscribe HOST PORT --cameras N`` is a plain aiomqtt
  client that subscribes to the topics the hub's Frigate cameras subscribe to, at the
  same QoS (1), with the same session settings (MQTT 3.1.1, a persistent session,
  TCP_NODELAY), and only counts what it receives between the two marks: the yardstick
  the hub's rate is compared with.

Times are ``time.monotonic()`` (``CLOCK_MONOTONIC``, one clock for every process of the
machine), so that the benchmark can compare them with its own. ``ClientProcess`` is
the benchmark's side: it starts a client and speaks its protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiomqtt

from plugins.cameras.frigate_decoder import frigate_topics
from plugins.cameras.frigate_sim import FrigateSimulator

__all__ = [
    "MARK_TOPIC",
    "ClientProcess",
    "Publish",
    "camera_entries",
    "camera_names",
    "frigate_load",
    "frigate_setup",
    "subscription_filters",
]

#: The publisher's marks around a load: only the bare subscriber listens to them.
MARK_TOPIC: Final = "bench/mark"
#: Frigate's topic prefix (its default).
PREFIX: Final = "frigate"
#: Messages a camera publishes in one round of the load (see ``frigate_load``).
PER_ROUND: Final = 4
#: QoS 1 publishes in flight at once from the publisher.
WINDOW: Final = 100
#: Seconds between two bursts of the paced load.
BURST_PERIOD: Final = 0.01
#: The simulated clock of Frigate's ids and times (epoch seconds): a fixed start and a
#: fixed step, so that every run publishes the same bytes.
_EPOCH: Final = 1_767_000_000.0
_NODELAY: Final = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
_ROOT: Final = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Publish:
    """One message the publisher sends."""

    topic: str
    payload: bytes
    retain: bool = False


@dataclass
class _Tape:
    """A ``MessageSession`` that only records what is published on it, in order."""

    messages: list[Publish] = field(default_factory=list)
    connected: bool = True

    def add_connection_listener(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        return lambda: None

    async def subscribe(self, topic: str, handler: Callable[[Any], None], *, qos: int = 0) -> None:
        raise NotImplementedError("the tape only records what is published")

    async def unsubscribe(self, topic: str, handler: Callable[[Any], None]) -> None:
        return None

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        self.messages.append(Publish(topic, bytes(payload), retain))


def _clock() -> Callable[[], float]:
    ticks = iter(range(1 << 62))
    return lambda: _EPOCH + next(ticks) * 0.05


def camera_names(cameras: int) -> list[str]:
    """The Frigate names of the benchmark's cameras (also their ids in the hub)."""
    return [f"cam-{n:03d}" for n in range(1, cameras + 1)]


def subscription_filters(cameras: int) -> list[str]:
    """Every filter the hub's Frigate cameras subscribe to, each once."""
    return list(dict.fromkeys(t for c in camera_names(cameras) for t in frigate_topics(PREFIX, c)))


def _simulator(tape: _Tape, cameras: int) -> FrigateSimulator:
    return FrigateSimulator(tape, camera_names(cameras), prefix=PREFIX, clock=_clock(), seed=1)


async def frigate_setup(cameras: int) -> list[Publish]:
    """What Frigate publishes when it connects: each camera's retained states and a
    ``motion`` ``OFF``, then ``available`` ``online`` (every camera online)."""
    tape = _Tape()
    await _simulator(tape, cameras).start()
    return tape.messages


async def frigate_load(cameras: int, rounds: int) -> list[Publish]:
    """``rounds`` rounds of every camera in turn, four messages each: ``motion`` (``ON``
    in even rounds, ``OFF`` in odd ones, so each one changes the camera's state), then a
    person tracked on ``<prefix>/events`` (``new``, ``update`` with a better score,
    ``end``), each a detection. Every message is an event for the hub: the decoder
    drops nothing of it."""
    tape = _Tape()
    sim = _simulator(tape, cameras)
    names = camera_names(cameras)
    for r in range(rounds):
        for name in names:
            await sim.motion(name, r % 2 == 0)
            ident = await sim.track(name, "person", zones=("salle",), score=0.71)
            await sim.update(ident, score=0.93)
            await sim.end(ident)
    return tape.messages


def camera_entries(cameras: int, zones: Sequence[str]) -> str:
    """The ``cameras:`` entries of the hub's configuration (YAML, indented for the
    section): Frigate cameras ``cam-001``..., each covering one of ``zones`` in turn."""
    return "\n".join(
        f"  - {{id: {name}, type: frigate, zones: [{zones[n % len(zones)]}], placement: indoor}}"
        for n, name in enumerate(camera_names(cameras))
    )


class ClientProcess:
    """One of this module's clients, started by a benchmark: commands in, answers out.

    Use it as ``async with await ClientProcess.start("publish", ...) as client``.
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, *args: str) -> ClientProcess:
        """Start ``python -m bench.mqtt_clients ARGS`` from the repository's root."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "bench.mqtt_clients", *args),
            cwd=_ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    @property
    def pid(self) -> int:
        """The client's process id (the benchmark pauses and resumes it)."""
        return self.process.pid

    async def send(self, line: str) -> None:
        """Send one command."""
        stdin = self.process.stdin
        if stdin is None:
            raise RuntimeError("the client's input is closed")
        stdin.write(line.encode() + b"\n")
        await stdin.drain()

    async def read(self, timeout: float = 300) -> dict[str, Any]:
        """The client's next answer.

        Raises:
            RuntimeError: the client ended without answering.
            TimeoutError: no answer in time.
        """
        stdout = self.process.stdout
        line = await asyncio.wait_for(stdout.readline(), timeout) if stdout else b""
        if not line:
            raise RuntimeError(f"the MQTT client ended (exit code {self.process.returncode})")
        return dict(json.loads(line))

    async def close(self) -> None:
        """End the client (its input closed, then SIGTERM, then SIGKILL)."""
        process = self.process
        if process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()
        process.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10)
        if process.returncode is None:
            process.kill()
            await process.wait()

    async def __aenter__(self) -> ClientProcess:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# -- the processes ------------------------------------------------------------------------
def _say(**values: Any) -> None:
    print(json.dumps(values), flush=True)


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _client(host: str, port: int, identifier: str, **kwargs: Any) -> aiomqtt.Client:
    return aiomqtt.Client(
        host,
        port,
        identifier=identifier,
        protocol=aiomqtt.ProtocolVersion.V311,
        socket_options=[_NODELAY],
        keepalive=300,
        **kwargs,
    )


async def _send(client: aiomqtt.Client, messages: Sequence[Publish], qos: int) -> None:
    """Publish at full speed: ``WINDOW`` messages handed to the client library at once,
    then waited for (written to the socket at QoS 0, acknowledged at QoS 1)."""
    for start in range(0, len(messages), WINDOW):
        await asyncio.gather(
            *(
                client.publish(m.topic, m.payload, qos=qos, retain=m.retain, timeout=60)
                for m in messages[start : start + WINDOW]
            )
        )


async def _paced(
    client: aiomqtt.Client, load: Sequence[Publish], qos: int, rate: float, stop: asyncio.Event
) -> int:
    """The load in a loop at ``rate`` messages a second, in bursts; returns how many."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = 0
    while not stop.is_set():
        due = int((loop.time() - started) * rate)
        if due > sent:
            burst = [load[(sent + k) % len(load)] for k in range(due - sent)]
            await _send(client, burst, qos)
            sent = due
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), BURST_PERIOD)
    return sent


async def publisher(host: str, port: int, cameras: int, rounds: int, qos: int) -> None:
    """Play Frigate, driven by the commands on standard input (see the module)."""
    setup = await frigate_setup(cameras)
    load = await frigate_load(cameras, rounds)
    lines = await _stdin_reader()
    client = _client(host, port, "bench-frigate", max_inflight_messages=WINDOW)
    client.pending_calls_threshold = 2 * WINDOW  # a window in flight is expected
    async with client:
        _say(ready=True, setup=len(setup), load=len(load))
        while line := (await lines.readline()).decode().strip():
            command, *args = line.split()
            if command == "setup":
                await _send(client, setup, 1)
                _say(setup=len(setup))
            elif command == "load":
                level = int(args[0]) if args else qos
                await client.publish(MARK_TOPIC, b"start", qos=level)
                started = time.monotonic()
                await _send(client, load, level)
                ended = time.monotonic()
                await client.publish(MARK_TOPIC, b"end", qos=level)
                _say(load=len(load), qos=level, started=started, ended=ended)
            elif command == "pace":
                stop = asyncio.Event()
                task = asyncio.create_task(_paced(client, load, qos, float(args[0]), stop))
                started = time.monotonic()
                await lines.readline()  # "stop", or the end of the input
                stop.set()
                sent = await task
                _say(paced=sent, seconds=time.monotonic() - started)
            else:
                _say(error=f"unknown command {command!r}")


async def subscriber(host: str, port: int, cameras: int) -> None:
    """Count the messages between the marks, as a bare aiomqtt application would."""
    filters = [(f, 1) for f in subscription_filters(cameras)]
    async with _client(host, port, "bench-bare", clean_session=False) as client:
        await client.subscribe([*filters, (MARK_TOPIC, 1)])
        _say(ready=True, filters=len(filters))
        count = 0
        first = last = 0.0
        async for message in client.messages:
            if message.topic.value == MARK_TOPIC:
                if message.payload == b"start":
                    count, first, last = 0, 0.0, 0.0
                else:
                    _say(count=count, first=first, last=last)
                continue
            last = time.monotonic()
            if count == 0:
                first = last
            count += 1


def main(argv: list[str] | None = None) -> None:
    """Run one of the clients."""
    parser = argparse.ArgumentParser(prog="python -m bench.mqtt_clients")
    parser.add_argument("role", choices=("publish", "subscribe"))
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--cameras", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--qos", type=int, choices=(0, 1), default=0)
    args = parser.parse_args(argv)
    if args.role == "publish":
        asyncio.run(publisher(args.host, args.port, args.cameras, args.rounds, args.qos))
    else:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(subscriber(args.host, args.port, args.cameras))


if __name__ == "__main__":
    main(sys.argv[1:])
