"""A real Mosquitto broker on a free loopback port, for tests of message devices.

Tests of the MQTT session and of the camera plugins run against the broker a shop
runs, not a stand-in: ``Mosquitto`` writes a configuration into a test's directory
(persistence on, in that directory; generous queue limits; optionally a password
file made with ``mosquitto_passwd`` and a TLS listener with certificates made on the
spot), starts ``mosquitto`` on it and waits until its ports accept connections.
``stop()`` and ``start()`` restart it on the same ports with the same persistence, as
a broker restarted by its service manager; ``kill()`` is a crash.

A missing ``mosquitto`` is an error, never a skip: a test suite that silently skips
its broker tests says nothing. Debian's ``mosquitto`` package has both programs
(``scripts/bootstrap.sh`` installs it); ``ECRIN_MOSQUITTO`` names another binary.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import aiomqtt

from hub.config.model import MqttConfig, MqttTls
from hub.private_files import create_private
from hub.testing.certs import CertificateAuthority, IssuedCertificate
from hub.transports.mqtt import MqttSession

__all__ = ["Mosquitto", "MosquittoMissing", "find_mosquitto", "free_port", "sever"]

HOST: Final = "127.0.0.1"
#: How long start-up and shutdown may take before the broker is declared broken.
_WAIT: Final = 15.0
#: Far above Mosquitto's default of 1000 queued messages per client, which drops
#: messages to a subscriber that falls behind (QoS 1 included).
MAX_QUEUED: Final = 100_000


class MosquittoMissing(RuntimeError):
    """``mosquitto`` (or ``mosquitto_passwd``) is not installed."""


def find_mosquitto(candidates: Sequence[str | None] | None = None) -> Path:
    """The ``mosquitto`` binary: ``$ECRIN_MOSQUITTO``, the ``PATH``, or Debian's
    ``/usr/sbin/mosquitto`` (or the first of ``candidates`` that is executable).

    Raises:
        MosquittoMissing: none is installed.
    """
    if candidates is None:
        named = os.environ.get("ECRIN_MOSQUITTO")
        candidates = (named, shutil.which("mosquitto"), "/usr/sbin/mosquitto")
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise MosquittoMissing(
        "mosquitto is not installed: the broker tests need it (Debian: apt-get install"
        " mosquitto; scripts/bootstrap.sh does), or set ECRIN_MOSQUITTO to its path"
    )


def _find_passwd(mosquitto: Path) -> Path:
    for candidate in (
        shutil.which("mosquitto_passwd"),
        str(mosquitto.parent / "mosquitto_passwd"),
        "/usr/bin/mosquitto_passwd",
    ):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise MosquittoMissing("mosquitto_passwd is not installed (Debian's mosquitto package has it)")


def sever(session: MqttSession) -> None:
    """Cut the session's connection as a pulled cable would: the socket is shut down
    with no MQTT DISCONNECT, so the broker publishes the hub's last will; the session
    sees the loss and reconnects.

    Raises:
        RuntimeError: the session is not connected.
    """
    sock = session._socket()
    if sock is None:
        raise RuntimeError("the session is not connected")
    sock.shutdown(socket.SHUT_RDWR)


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """One Mosquitto broker of a test, in ``directory``.

    Args:
        directory: where its configuration, persistence, log and certificates go.
        users: user names and passwords; none: anonymous access.
        tls: also listen with TLS (``tls_port``), with a server certificate for
            ``localhost`` and ``127.0.0.1`` signed by ``ca``.
        require_certificate: the TLS listener asks clients for a certificate signed
            by ``ca`` (``client_certificate()`` makes one).
        tls_hosts: the names and addresses the server certificate is for.
        persistence: keep sessions and retained messages across ``stop()``/``start()``.
        max_queued_messages: per client; far above Mosquitto's default.
        extra: more configuration lines, written before the listeners.
    """

    def __init__(
        self,
        directory: Path,
        *,
        users: Mapping[str, str] | None = None,
        tls: bool = False,
        require_certificate: bool = False,
        tls_hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
        persistence: bool = True,
        max_queued_messages: int = MAX_QUEUED,
        extra: str = "",
    ) -> None:
        self.executable = find_mosquitto()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.host = HOST
        self.port = free_port()
        self.users = dict(users or {})
        self.tls_port: int | None = free_port() if tls else None
        self.ca: CertificateAuthority | None = None
        self.server: IssuedCertificate | None = None
        if tls:
            self.ca = CertificateAuthority(directory / "tls")
            self.server = self.ca.issue("broker", hosts=tls_hosts)
        self.require_certificate = require_certificate
        self.persistence = persistence
        self.max_queued_messages = max_queued_messages
        self.extra = extra
        self.log_path = directory / "mosquitto.log"
        self.config_path = directory / "mosquitto.conf"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config()

    def __repr__(self) -> str:
        return f"<Mosquitto {self.host}:{self.port} running={self.running}>"

    # -- configuration -------------------------------------------------------------------
    def _write_config(self) -> None:
        lines = [
            f"user {getpass.getuser()}",
            "per_listener_settings false",
            f"allow_anonymous {'false' if self.users else 'true'}",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.directory}/",
            "persistence_file mosquitto.db",
            f"max_queued_messages {self.max_queued_messages}",
            "max_queued_bytes 0",
            "max_inflight_messages 100",
            "set_tcp_nodelay true",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "log_type subscribe",
            "log_type unsubscribe",
            "connection_messages true",
        ]
        if self.users:
            password_file = self.directory / "passwords"
            passwd = _find_passwd(self.executable)
            # Made empty and 0600 first: ``mosquitto_passwd -c`` would create it 0644.
            password_file.unlink(missing_ok=True)
            create_private(password_file, "broker passwords")
            for user, password in self.users.items():
                subprocess.run(
                    [str(passwd), "-b", str(password_file), user, password],
                    check=True,
                    capture_output=True,
                )
            lines.append(f"password_file {password_file}")
        if self.extra:
            lines.append(self.extra)
        lines.append(f"listener {self.port} {self.host}")
        if self.tls_port is not None and self.ca is not None and self.server is not None:
            lines += [
                f"listener {self.tls_port} {self.host}",
                f"cafile {self.ca.certfile}",
                f"certfile {self.server.certfile}",
                f"keyfile {self.server.keyfile}",
                f"require_certificate {'true' if self.require_certificate else 'false'}",
            ]
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def client_certificate(self, name: str = "ecrin-hub") -> IssuedCertificate:
        """A client certificate signed by the broker's CA (``tls=True`` only)."""
        if self.ca is None:
            raise RuntimeError("this broker has no TLS listener (tls=False)")
        return self.ca.issue(name, client=True)

    def mqtt_config(self, **overrides: Any) -> MqttConfig:
        """An ``MqttConfig`` for this broker (the TLS listener when ``tls`` is given as
        True: the CA is this broker's); ``overrides`` replace any other field."""
        tls = overrides.pop("tls", None)
        if tls is True:
            if self.ca is None or self.tls_port is None:
                raise RuntimeError("this broker has no TLS listener (tls=False)")
            tls = MqttTls(ca=self.ca.certfile)
        port = self.tls_port if tls is not None and self.tls_port is not None else self.port
        values: dict[str, Any] = {"host": self.host, "port": port, "tls": tls}
        values.update(overrides)
        return MqttConfig(**values)

    def client(self, **kwargs: Any) -> aiomqtt.Client:
        """A plain aiomqtt client of this broker (another client than the hub's): the
        first user's credentials unless given, a fresh client id unless given."""
        if self.users and "username" not in kwargs:
            user, password = next(iter(self.users.items()))
            kwargs.setdefault("username", user)
            kwargs.setdefault("password", password)
        return aiomqtt.Client(self.host, self.port, **kwargs)

    # -- the process -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the broker process runs now."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the broker (same ports, same persistence as before) and return once
        every port accepts connections.

        Raises:
            RuntimeError: it exited or did not listen in time (with its log's end).
        """
        if self.running:
            return
        with self.log_path.open("ab") as out:
            self._process = subprocess.Popen(
                [str(self.executable), "-c", str(self.config_path)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        ports = [self.port] + ([self.tls_port] if self.tls_port is not None else [])
        deadline = time.monotonic() + _WAIT
        for port in ports:
            while not self._accepts(port):
                if not self.running:
                    raise RuntimeError(f"mosquitto exited at start:\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"mosquitto did not listen on {port}:\n{self.log_tail()}")
                time.sleep(0.01)

    def _accepts(self, port: int) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((self.host, port), 0.5):
            return True
        return False

    def stop(self) -> None:
        """Stop the broker as its service manager does (SIGTERM): it saves its
        persistence (sessions, queued and retained messages), and its clients see
        their connection end."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_WAIT)

    def kill(self) -> None:
        """Kill the broker (SIGKILL): a crash, nothing saved since its last save."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.kill()
        process.wait(_WAIT)

    def subscriptions(self, client_id: str) -> list[tuple[int, str]]:
        """Every SUBSCRIBE the broker logged for ``client_id``, in order: ``(qos,
        filter)`` per filter (what went over the wire, not what the client meant)."""
        found: list[tuple[int, str]] = []
        for parts in self._log_lines():
            if len(parts) == 4 and parts[1] == client_id and parts[2].isdigit():
                found.append((int(parts[2]), parts[3]))
        return found

    def unsubscriptions(self, client_id: str) -> list[str]:
        """Every filter the broker logged an UNSUBSCRIBE of for ``client_id``."""
        return [p[2] for p in self._log_lines() if len(p) == 3 and p[1] == client_id]

    def _log_lines(self) -> list[list[str]]:
        """The log's lines, split after the time stamp into at most 4 parts (Mosquitto
        logs ``<time>: <client> <qos> <filter>`` for a subscription and ``<time>:
        <client> <filter>`` for an unsubscription)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line.split(" ", 3) for line in text.splitlines()]

    def log_tail(self, lines: int = 40) -> str:
        """The end of the broker's log, for failure messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
