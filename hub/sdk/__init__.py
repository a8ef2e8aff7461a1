"""The public SDK: the only supported surface for plugin authors.

A plugin imports from ``hub.sdk`` and nothing else of Écrin: what is here keeps its
name and meaning from release to release (a change is announced and deprecated
first); everything else in ``hub`` may move. The built-in plugins (panels, sim,
escalation) use only this surface, so that what they can do, a third-party plugin can
do too. docs/plugins.md is the guide; the test kit is ``hub.testing``.

What it holds:

* the hook marker and the declarations plugins make: ``hookimpl``, ``DeviceType``,
  ``Command`` (with ``CommandContext``) and ``HubInfo``;
* the device protocol and its context: ``Device``, ``DeviceContext``, ``ZoneMap``,
  ``PanelZone``;
* typed settings: a frozen, keyword-only dataclass per device type, its fields
  declared with ``setting()``; ``DeviceType(settings=...)`` turns it into the schema
  the configuration loader validates (``Setting``, ``Schema`` underneath); a check of
  a mapping or a list setting reports each mistake inside it as a ``SettingProblem``,
  and ``DeviceType(check=...)`` checks them against the rest of the entry
  (``EntryCheck``, ``EntryProblem``);
* stream devices: ``StreamDevice`` (link → decoder → events, with counters, line
  quality, supervision and reconnection), its settings (``StreamSettings``,
  ``SerialSettings``, ``SerialStreamSettings``) and the links it may be given
  (``SerialLink``, ``TcpLink``, ``TcpServer``, ``PtyCable``...);
* decoders: ``Decoder``, ``DecodeStats``, ``Rejected``, and the line framing
  ``LineDecoder``, ``LineSplitter``, ``Line``;
* message devices: ``MessageDevice``, ``MessageSession``, ``Message``,
  ``MessageDecoder``, ``MemorySession``;
* one log line per kind of bad input and per window, however often it repeats:
  ``LogThrottle`` (the MQTT session's own, for devices fed a stream of bad messages);
* simulators: ``PanelSimulator`` and ``SimulatorFactory``, declared with
  ``DeviceType(simulator=...)`` for the demo and walk tests, and
  ``BrokerSimulatorFactory``, declared with ``DeviceType(broker_simulator=...)``: a
  camera type's cameras played on a broker, for the demo;
* the events plugins emit: ``AlarmSignal``, ``PanelState``, ``CameraAvailability``...
* the escalation rule contract (``register_escalation_rules``): ``Rule``, ``Match``,
  ``Priority``, ``RuleContext``, and ``CameraStatus`` (what ``RuleContext.camera``
  answers);
* configuration sections a plugin contributes (``register_config_sections``):
  ``ConfigSection``, ``SectionContext``, and ``Config`` to read one back.
"""

from __future__ import annotations

from hub.cameras import CameraStatus
from hub.commands import Command, CommandContext, HubRunner
from hub.config import Config, ConfigSection, SectionContext
from hub.decoding import Decoder, DecodeStats, Rejected
from hub.devices import (
    Device,
    DeviceContext,
    DeviceFactory,
    DeviceType,
    EntryCheck,
    EntryProblem,
    PanelZone,
    ZoneMap,
)
from hub.events import (
    CAMERA_STATES,
    LIFE_SAFETY_KINDS,
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraDetection,
    CameraMotion,
    CameraRecording,
    DeviceFault,
    Event,
    LinkLost,
    LinkRestored,
    PanelState,
    RetentionChecked,
    utcnow,
)
from hub.hookspecs import HubInfo, hookimpl
from hub.rules import Match, Priority, Rule, RuleContext
from hub.schema import Schema, Setting, SettingError, SettingProblem, validate_settings
from hub.sdk.framing import Line, LineDecoder, LineSplitter, Overflow
from hub.sdk.messages import (
    ConnectionListener,
    MemorySession,
    Message,
    MessageDecoder,
    MessageDevice,
    MessageHandler,
    MessageSession,
    topic_matches,
)
from hub.sdk.stream import (
    LINE_QUALITY_CODE,
    DecoderCounters,
    SerialSettings,
    SerialStreamSettings,
    StreamCounters,
    StreamDevice,
    StreamSettings,
    redefault,
    serial_link,
)
from hub.simulation import BrokerSimulatorFactory, PanelSimulator, SimulatorFactory
from hub.transports.link import LinkDown, StreamLink
from hub.transports.pty import PtyCable
from hub.transports.serial import PARITIES, SerialConfig, SerialLink
from hub.transports.supervision import LineQuality, LinkHealth
from hub.transports.tcp import ConnectionHandler, TcpLink, TcpServer
from hub.transports.throttle import LogThrottle
from hub.typed_settings import setting, settings_from, settings_schema

__all__ = [
    "CAMERA_STATES",
    "LIFE_SAFETY_KINDS",
    "LINE_QUALITY_CODE",
    "PARITIES",
    "AlarmKind",
    "AlarmSignal",
    "BrokerSimulatorFactory",
    "CameraAvailability",
    "CameraDetection",
    "CameraMotion",
    "CameraRecording",
    "CameraStatus",
    "Command",
    "CommandContext",
    "Config",
    "ConfigSection",
    "ConnectionHandler",
    "ConnectionListener",
    "DecodeStats",
    "Decoder",
    "DecoderCounters",
    "Device",
    "DeviceContext",
    "DeviceFactory",
    "DeviceFault",
    "DeviceType",
    "EntryCheck",
    "EntryProblem",
    "Event",
    "HubInfo",
    "HubRunner",
    "Line",
    "LineDecoder",
    "LineQuality",
    "LineSplitter",
    "LinkDown",
    "LinkHealth",
    "LinkLost",
    "LinkRestored",
    "LogThrottle",
    "Match",
    "MemorySession",
    "Message",
    "MessageDecoder",
    "MessageDevice",
    "MessageHandler",
    "MessageSession",
    "Overflow",
    "PanelSimulator",
    "PanelState",
    "PanelZone",
    "Priority",
    "PtyCable",
    "Rejected",
    "RetentionChecked",
    "Rule",
    "RuleContext",
    "Schema",
    "SectionContext",
    "SerialConfig",
    "SerialLink",
    "SerialSettings",
    "SerialStreamSettings",
    "Setting",
    "SettingError",
    "SettingProblem",
    "SimulatorFactory",
    "StreamCounters",
    "StreamDevice",
    "StreamLink",
    "StreamSettings",
    "TcpLink",
    "TcpServer",
    "ZoneMap",
    "hookimpl",
    "redefault",
    "serial_link",
    "setting",
    "settings_from",
    "settings_schema",
    "topic_matches",
    "utcnow",
    "validate_settings",
]
