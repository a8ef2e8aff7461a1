"""Écrin's test kit, for the project's tests and for plugin authors.

Installed with the package and loaded by pytest through the ``pytest11`` entry point
(``hub.testing.plugin``), so that its fixtures (``recorder``, ``pty_cable``,
``message_session``, ``build_device``, ``running``, ``plugin_manager``,
``ecrin_plugins``) are there in
every test run without an import. The helpers below are for what a fixture cannot
do: several recorders, a device built by hand, waiting on a condition. Tests use real
parts: a real pseudo-terminal (``PtyCable``) for a serial line, real sockets for TCP,
a real Mosquitto broker (``Mosquitto``, the ``mosquitto`` fixture) for MQTT, whose
connection ``sever`` cuts as a pulled cable would.
"""

from __future__ import annotations

from hub.messages import MemorySession
from hub.testing.certs import CertificateAuthority, IssuedCertificate
from hub.testing.devices import build_device, cable_read_until, read_until, running
from hub.testing.mosquitto import Mosquitto, MosquittoMissing, sever
from hub.testing.recorder import EventRecorder, wait_until
from hub.transports.pty import PtyCable

__all__ = [
    "CertificateAuthority",
    "EventRecorder",
    "IssuedCertificate",
    "MemorySession",
    "Mosquitto",
    "MosquittoMissing",
    "PtyCable",
    "build_device",
    "cable_read_until",
    "read_until",
    "running",
    "sever",
    "wait_until",
]
