"""Readers for each section of a shop's configuration file.

Every reader takes the section's node and the shared ``Context`` (the issue log, the
device-type catalogue, the zones and ids seen so far) and returns the typed value,
recording each problem rather than stopping at it.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, cast

from hub.config.fields import Section, as_map, read_id, read_string
from hub.config.issues import IssueLog, describe
from hub.config.model import (
    CameraConfig,
    DeviceConfig,
    EmbeddedBroker,
    HttpConfig,
    JournalConfig,
    MqttConfig,
    MqttTls,
    Placement,
    PluginsConfig,
    Risk,
    Site,
    Zone,
    default_client_id,
    is_loopback,
)
from hub.devices import DeviceType, EntryProblem, PanelZone, ZoneMap
from hub.messages import BROKER_LINK
from hub.schema import SettingError, validate_settings
from hub.yamlsource import (
    INVALID,
    YEntry,
    YMap,
    YNode,
    YScalar,
    YSeq,
    contains_invalid,
    join_path,
    to_plain,
)

__all__ = [
    "CAMERA_KEYS",
    "DEPARTEMENTS",
    "DEVICE_KEYS",
    "HTTP_KEYS",
    "JOURNAL_KEYS",
    "MAX_RETENTION_DAYS",
    "MQTT_EMBEDDED_KEYS",
    "MQTT_KEYS",
    "MQTT_TLS_KEYS",
    "PLUGINS_KEYS",
    "SITE_KEYS",
    "ZONE_KEYS",
    "Context",
    "read_cameras",
    "read_devices",
    "read_http",
    "read_journal",
    "read_mqtt",
    "read_plugins",
    "read_site",
    "read_zones",
]

SITE_KEYS: Final = ("name", "address", "departement", "timezone")
ZONE_KEYS: Final = ("id", "name", "risk")
DEVICE_KEYS: Final = ("id", "type", "settings", "zones", "default_zone")
CAMERA_KEYS: Final = (
    "id",
    "type",
    "settings",
    "zones",
    "placement",
    "views_public_road",
    "retention_days",
)
HTTP_KEYS: Final = (
    "host",
    "port",
    "max_connections",
    "max_connections_per_address",
    "fd_reserve",
    "header_timeout",
    "body_timeout",
    "keepalive_timeout",
)
MQTT_KEYS: Final = (
    "host",
    "port",
    "username",
    "password",
    "client_id",
    "keepalive",
    "tls",
    "base_topic",
    "embedded",
)
MQTT_TLS_KEYS: Final = ("ca", "certfile", "keyfile", "check_hostname")
MQTT_EMBEDDED_KEYS: Final = ("host", "port")
PLUGINS_KEYS: Final = ("disable",)
JOURNAL_KEYS: Final = ("path",)
PANEL_ZONE_KEYS: Final = ("zone", "type")

RISKS: Final = ("low", "medium", "high")
PLACEMENTS: Final = ("indoor", "outdoor")
PANEL_ZONE_TYPES: Final = ("intrusion", "holdup")

#: Video may be kept one month at most (Code de la sécurité intérieure, L252-5).
MAX_RETENTION_DAYS: Final = 31
DEFAULT_RETENTION_DAYS: Final = 30

#: Metropolitan départements (20 became 2A and 2B in 1976) and the overseas ones.
DEPARTEMENTS: Final = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"] + [str(n) for n in range(971, 977)]
)

#: Zone names that exist on some machines and not others, or mean nothing useful.
_MACHINE_ZONES: Final = frozenset({"localtime", "Factory"})

CAMERA_CATEGORY: Final = "camera"


@dataclass
class Context:
    """What the section readers share while one file is read.

    Attributes:
        log: the configuration file's issues.
        device_types: the catalogue the plugins provide.
        zone_ids: the valid zone ids, once ``zones:`` is read.
        ids: device and camera ids seen so far, with the line of each.
        config_dir: the configuration's directory (absolute).
    """

    log: IssueLog
    device_types: Mapping[str, DeviceType]
    config_dir: Path
    zone_ids: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def check_zone(self, node: YNode, path: str) -> str | None:
        """A reference to a shop zone: it must be an id of ``zones:``."""
        zone = read_id(self.log, node, path)
        if zone is None:
            return None
        if zone not in self.zone_ids:
            known = ", ".join(self.zone_ids) or "none defined"
            self.log.add(node, path, f"unknown zone {zone!r} (known: {known})")
            return None
        return zone


# -- site ----------------------------------------------------------------------------


def _departement(log: IssueLog, node: YNode | None, path: str) -> str:
    if node is None or (isinstance(node, YScalar) and node.value is INVALID):
        return ""
    if isinstance(node, YScalar) and isinstance(node.value, int | float):
        log.add(
            node,
            path,
            f'write the code as a quoted string, e.g. "37" or "2A" (got {describe(node)})',
        )
        return ""
    value = read_string(log, node, path)
    if value is None:
        return ""
    code = value.strip().upper()
    if code not in DEPARTEMENTS:
        log.add(
            node,
            path,
            f"{value!r} is not a French département code (01 to 95, 2A, 2B, 971 to 976)",
        )
        return ""
    return code


def _timezone(log: IssueLog, node: YNode | None, path: str) -> str:
    if node is None:
        return ""
    value = read_string(log, node, path)
    if value is None:
        return ""
    try:
        zoneinfo.ZoneInfo(value)
        known = value not in _MACHINE_ZONES
    except (ValueError, LookupError, OSError):
        known = False
    if not known:
        log.add(node, path, f"unknown time zone {value!r}; use an IANA name such as Europe/Paris")
        return ""
    return value


def read_site(ctx: Context, node: YNode | None) -> Site:
    """``site:``: the shop's name, address, département and time zone."""
    path = "site"
    ymap = as_map(ctx.log, node, path) if node is not None else None
    if ymap is None:
        return Site("", "", "", "")
    section = Section(ctx.log, ymap, path, SITE_KEYS, required=SITE_KEYS)
    return Site(
        name=section.string("name"),
        address=section.string("address"),
        departement=_departement(ctx.log, section.get("departement"), section.at("departement")),
        timezone=_timezone(ctx.log, section.get("timezone"), section.at("timezone")),
    )


# -- zones ---------------------------------------------------------------------------


def read_zones(ctx: Context, items: tuple[YNode, ...]) -> tuple[Zone, ...]:
    """``zones:``: the shop's zones. Fills ``ctx.zone_ids`` for the later sections."""
    zones: list[Zone] = []
    for index, item in enumerate(items):
        path = f"zones[{index}]"
        ymap = as_map(ctx.log, item, path, "a mapping with id, name and risk")
        if ymap is None:
            continue
        section = Section(ctx.log, ymap, path, ZONE_KEYS, required=ZONE_KEYS)
        zone_id = section.id("id")
        id_node = section.get("id")
        if zone_id is not None and id_node is not None:
            first = ctx.zone_ids.get(zone_id)
            if first is not None:
                ctx.log.add(
                    id_node,
                    section.at("id"),
                    f"duplicate zone id {zone_id!r} (first defined at line {first})",
                )
            else:
                ctx.zone_ids[zone_id] = id_node.mark.line
        risk = cast(Risk, section.choice("risk", RISKS, default="medium"))
        zones.append(Zone(zone_id or "", section.string("name"), risk))
    return tuple(zones)


# -- devices and cameras -------------------------------------------------------------


def _claim_id(ctx: Context, section: Section) -> str:
    """The entry's id, checked unique across devices and cameras."""
    device_id = section.id("id")
    node = section.get("id")
    if device_id is None or node is None:
        return ""
    first = ctx.ids.get(device_id)
    if device_id == BROKER_LINK:
        ctx.log.add(
            node,
            section.at("id"),
            f"the id {BROKER_LINK!r} is reserved for the hub's link to its MQTT broker:"
            " choose another",
        )
    elif first is not None:
        ctx.log.add(
            node,
            section.at("id"),
            f"duplicate id {device_id!r} (first defined at line {first})",
        )
    else:
        ctx.ids[device_id] = node.mark.line
    return device_id


def _device_type(ctx: Context, section: Section, *, camera: bool) -> tuple[str, DeviceType | None]:
    """The entry's type name and device type, checked to exist and to belong in this
    section (the type is None when unknown)."""
    node = section.get("type")
    if node is None:
        return "", None
    name = read_string(ctx.log, node, section.at("type"))
    if name is None:
        return "", None
    device_type = ctx.device_types.get(name)
    if device_type is None:
        known = ", ".join(sorted(ctx.device_types)) or "none: no plugin provides one"
        ctx.log.add(node, section.at("type"), f"unknown device type {name!r} (known: {known})")
        return name, None
    is_camera = device_type.category == CAMERA_CATEGORY
    if is_camera and not camera:
        ctx.log.add(
            node,
            section.at("type"),
            f"device type {name!r} is a camera: configure it under cameras:",
        )
    elif camera and not is_camera:
        ctx.log.add(
            node,
            section.at("type"),
            f"device type {name!r} is not a camera (category {device_type.category}):"
            " configure it under devices:",
        )
    return name, device_type


def _settings(
    ctx: Context,
    section: Section,
    device_type: DeviceType | None,
    zones: tuple[str, ...] = (),
) -> Mapping[str, Any]:
    """The entry's settings, validated against its type's schema, each error at the
    line of the setting it is about; then, when they are valid, checked against the
    rest of the entry (``DeviceType.check``, given the entry's shop ``zones``)."""
    path = section.at("settings")
    node = section.mapping("settings")
    if device_type is None or (node is None and section.get("settings") is not None):
        return MappingProxyType({})  # nothing to check against, or already reported
    entries = node.entries if node is not None else {}
    values = {entry.key.value: to_plain(entry.value) for entry in entries.values()}
    by_name = {str(key): entry for key, entry in entries.items()}
    settings, errors = validate_settings(device_type.schema, values)
    if not errors and device_type.check is not None:
        _check_entry(ctx, section, device_type.check(MappingProxyType(settings), zones), by_name)
    for error in errors:
        entry = by_name.get(error.key)
        key_path = join_path(path, error.key)
        if entry is None:  # a required setting is missing: point at "settings:"
            settings_entry = section.node.entries.get("settings")
            where: YNode = settings_entry.key if settings_entry is not None else section.node
        elif contains_invalid(entry.value):
            continue  # already reported where the YAML went wrong
        elif error.key not in device_type.schema:
            where = entry.key
        else:
            where, key_path = _inside(entry.value, key_path, error)
        ctx.log.add(where, key_path, error.reason)
    return MappingProxyType(settings)


def _inside(node: YNode, key_path: str, error: SettingError) -> tuple[YNode, str]:
    """Where a problem inside a setting's value is (a check's ``SettingProblem``): the
    node its path leads to, and the key path down to it, keys as the file writes them.

    A path that stops existing part way (a required key that is absent) points at the
    deepest node that exists, under the full path.
    """
    where = node
    found = True
    for depth, part in enumerate(error.path):
        last = depth == len(error.path) - 1
        if isinstance(part, int) and not isinstance(part, bool):
            key_path += f"[{part}]"
            if found and isinstance(where, YSeq) and 0 <= part < len(where.items):
                where = where.items[part]
            else:
                found = False
            continue
        entry = where.entries.get(part) if found and isinstance(where, YMap) else None
        if entry is None:
            key_path = join_path(key_path, part)
            found = False
            continue
        key_path = join_path(key_path, entry.key.text)
        where = entry.key if last and error.at_key else entry.value
    return where, key_path


def _check_entry(
    ctx: Context,
    section: Section,
    problems: Sequence[EntryProblem],
    by_name: Mapping[str, YEntry],
) -> None:
    """Report what a device type's ``check`` found, each at the line of its setting
    (or of the setting's entry it names)."""
    path = section.at("settings")
    for problem in problems:
        entry = by_name.get(problem.setting)
        key_path = join_path(path, problem.setting)
        where: YNode = section.node
        if entry is not None:
            where = entry.value
            item = entry.value.get(problem.item) if isinstance(entry.value, YMap) else None
            if problem.item is not None and item is not None:
                where = item
                key_path = join_path(key_path, problem.item)
        ctx.log.add(where, key_path, problem.reason)


def _panel_zone(ctx: Context, node: YNode, path: str) -> PanelZone | None:
    if isinstance(node, YScalar) and isinstance(node.value, str):
        zone = ctx.check_zone(node, path)
        return PanelZone(zone) if zone is not None else None
    ymap = as_map(ctx.log, node, path, "a zone id or a mapping with zone and type")
    if ymap is None:
        return None
    section = Section(ctx.log, ymap, path, PANEL_ZONE_KEYS)
    zone_node = section.get("zone")
    zone = ctx.check_zone(zone_node, section.at("zone")) if zone_node is not None else None
    kind = section.choice("type", PANEL_ZONE_TYPES, default="intrusion")
    return PanelZone(zone, holdup=kind == "holdup")


def _zone_map(ctx: Context, section: Section) -> ZoneMap:
    """``zones:`` of a device: panel zone number -> shop zone, and ``default_zone``."""
    mapped: dict[int, PanelZone] = {}
    ymap = section.mapping("zones")
    if ymap is not None:
        for key, entry in ymap.entries.items():
            path = join_path(section.at("zones"), entry.key.text)
            if not isinstance(key, int) or isinstance(key, bool) or key < 0:
                ctx.log.add(
                    entry.key,
                    path,
                    f"a panel zone number must be a whole number from 0, got {describe(entry.key)}",
                )
                continue
            panel_zone = _panel_zone(ctx, entry.value, path)
            if panel_zone is not None:
                mapped[key] = panel_zone
    default_node = section.get("default_zone")
    default = (
        ctx.check_zone(default_node, section.at("default_zone"))
        if default_node is not None
        else None
    )
    return ZoneMap(MappingProxyType(mapped), default)


def read_devices(ctx: Context, items: tuple[YNode, ...]) -> tuple[DeviceConfig, ...]:
    """``devices:``: panels, bridges and other non-camera devices."""
    devices: list[DeviceConfig] = []
    for index, item in enumerate(items):
        path = f"devices[{index}]"
        ymap = as_map(ctx.log, item, path, "a mapping with id, type and settings")
        if ymap is None:
            continue
        section = Section(ctx.log, ymap, path, DEVICE_KEYS, required=("id", "type"))
        device_id = _claim_id(ctx, section)
        type_name, device_type = _device_type(ctx, section, camera=False)
        devices.append(
            DeviceConfig(
                id=device_id,
                type=type_name,
                settings=_settings(ctx, section, device_type),
                zone_map=_zone_map(ctx, section),
                line=ymap.mark.line,
            )
        )
    return tuple(devices)


def _camera_zones(ctx: Context, section: Section) -> tuple[str, ...]:
    zones: list[str] = []
    items = section.sequence("zones")
    node = section.get("zones")
    if isinstance(node, YSeq) and not node.items:
        ctx.log.add(node, section.at("zones"), "a camera must cover at least one zone")
    for index, item in enumerate(items):
        path = f"{section.at('zones')}[{index}]"
        zone = ctx.check_zone(item, path)
        if zone is None:
            continue
        if zone in zones:
            ctx.log.add(item, path, f"zone {zone!r} is listed twice")
            continue
        zones.append(zone)
    return tuple(zones)


def read_cameras(ctx: Context, items: tuple[YNode, ...]) -> tuple[CameraConfig, ...]:
    """``cameras:``: what each camera films, and how long its recordings are kept."""
    cameras: list[CameraConfig] = []
    for index, item in enumerate(items):
        path = f"cameras[{index}]"
        ymap = as_map(ctx.log, item, path, "a mapping with id, type, zones and placement")
        if ymap is None:
            continue
        section = Section(
            ctx.log, ymap, path, CAMERA_KEYS, required=("id", "type", "zones", "placement")
        )
        camera_id = _claim_id(ctx, section)
        type_name, device_type = _device_type(ctx, section, camera=True)
        placement = cast(Placement, section.choice("placement", PLACEMENTS))
        retention = section.integer(
            "retention_days",
            DEFAULT_RETENTION_DAYS,
            minimum=1,
            maximum=MAX_RETENTION_DAYS,
            too_high=(
                f"days is too long: French law (CSI L252-5) limits video retention to one"
                f" month, at most {MAX_RETENTION_DAYS} days"
            ),
        )
        zones = _camera_zones(ctx, section)
        cameras.append(
            CameraConfig(
                id=camera_id,
                type=type_name,
                settings=_settings(ctx, section, device_type, zones),
                zones=zones,
                placement=placement,
                views_public_road=section.boolean("views_public_road", False),
                retention_days=retention,
                line=ymap.mark.line,
            )
        )
    return tuple(cameras)


# -- services ------------------------------------------------------------------------


def read_http(ctx: Context, node: YMap | None) -> HttpConfig:
    """``http:``: where the hub's HTTP server listens, and its limits."""
    if node is None:
        return HttpConfig()
    section = Section(ctx.log, node, "http", HTTP_KEYS)
    defaults = HttpConfig()

    def count(key: str, minimum: int) -> int:
        return section.integer(key, getattr(defaults, key), minimum=minimum, maximum=100_000)

    def seconds(key: str) -> int:
        return section.integer(key, getattr(defaults, key), minimum=1, maximum=3600)

    return HttpConfig(
        host=section.string("host", defaults.host),
        port=section.integer("port", defaults.port, minimum=1, maximum=65535),
        max_connections=count("max_connections", 1),
        max_connections_per_address=count("max_connections_per_address", 1),
        fd_reserve=count("fd_reserve", 16),
        header_timeout=seconds("header_timeout"),
        body_timeout=seconds("body_timeout"),
        keepalive_timeout=seconds("keepalive_timeout"),
    )


#: A client id: plain characters, which every broker accepts (MQTT 3.1.1 promises only
#: letters and digits; dashes, dots and underscores pass everywhere in practice).
_CLIENT_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: One level of a topic the hub publishes under: no wildcard, no NUL.
_TOPIC_LEVEL: Final = re.compile(r"[^+#\x00]+")


def _base_topic(ctx: Context, section: Section) -> str:
    node = section.get("base_topic")
    value = section.string("base_topic", "ecrin")
    if node is None or value == "ecrin":
        return value
    levels = value.split("/")
    if value.startswith("$"):
        reason = "must not start with '$' (topics the broker keeps for itself)"
    elif not all(_TOPIC_LEVEL.fullmatch(level) for level in levels):
        reason = "must be topic levels without '+', '#', empty levels or a leading or trailing '/'"
    else:
        return value
    ctx.log.add(node, section.at("base_topic"), f"{value!r} {reason}")
    return "ecrin"


def _tls_path(ctx: Context, tls: Section, key: str) -> Path | None:
    node = tls.get(key)
    raw = tls.optional_string(key)
    if node is None or raw is None:
        return None
    path = ctx.config_dir / Path(raw).expanduser()
    if not path.is_file():
        ctx.log.add(node, tls.at(key), f"no such file: {path}")
        return None
    return path


def _tls(ctx: Context, section: Section) -> MqttTls | None:
    """``tls``: ``true`` (the system's CAs), ``false``, or a mapping with ``ca``,
    ``certfile``, ``keyfile`` and ``check_hostname``; paths relative to the
    configuration's directory, checked to exist."""
    node = section.get("tls")
    if node is None:
        return None
    if isinstance(node, YScalar) and isinstance(node.value, bool):
        return MqttTls() if node.value else None
    if not isinstance(node, YMap):
        if not (isinstance(node, YScalar) and node.value is INVALID):
            ctx.log.add(
                node,
                section.at("tls"),
                f"expected true, false or a mapping with ca, certfile, keyfile and"
                f" check_hostname, got {describe(node)}",
            )
        return None
    tls = Section(ctx.log, node, section.at("tls"), MQTT_TLS_KEYS)
    certfile = _tls_path(ctx, tls, "certfile")
    keyfile = _tls_path(ctx, tls, "keyfile")
    key_node = tls.get("keyfile")
    if key_node is not None and tls.get("certfile") is None:
        ctx.log.add(key_node, tls.at("keyfile"), "a keyfile needs the certfile it belongs to")
    return MqttTls(
        ca=_tls_path(ctx, tls, "ca"),
        certfile=certfile,
        keyfile=keyfile,
        check_hostname=tls.boolean("check_hostname", True),
    )


def _embedded(ctx: Context, section: Section, credentials: bool) -> EmbeddedBroker:
    """``embedded``: where the broker the hub starts itself listens (no ``host``)."""
    node = section.mapping("embedded")
    defaults = EmbeddedBroker()
    if node is None:
        return defaults
    embedded = Section(ctx.log, node, section.at("embedded"), MQTT_EMBEDDED_KEYS)
    host = embedded.string("host", defaults.host)
    host_node = embedded.get("host")
    if host_node is not None and not is_loopback(host) and not credentials:
        ctx.log.add(
            host_node,
            embedded.at("host"),
            f"the embedded broker on {host!r} would be open to the network: set"
            " mqtt.username and mqtt.password (every client must then give them), or"
            " listen on 127.0.0.1",
        )
    port = embedded.integer("port", defaults.port, minimum=1, maximum=65535)
    return EmbeddedBroker(host=host, port=port)


def read_mqtt(ctx: Context, node: YMap | None, site_name: str = "") -> MqttConfig | None:
    """``mqtt:``: the broker, or the embedded one without ``host``; None when the
    section is absent (the hub still starts the embedded broker if a device needs
    one). The client id defaults to one made from the site's name."""
    if node is None:
        return None
    section = Section(ctx.log, node, "mqtt", MQTT_KEYS)
    host = section.optional_string("host")
    host_given = section.get("host") is not None  # even if wrong (reported): no cascade
    username = section.optional_string("username")
    password = section.optional_string("password")
    password_node = section.get("password")
    if password is not None and password_node is not None and username is None:
        ctx.log.add(
            password_node, section.at("password"), "a password needs a username (MQTT rule)"
        )
    client_id = section.optional_string("client_id")
    client_node = section.get("client_id")
    if client_id is not None and client_node is not None and not _CLIENT_ID.fullmatch(client_id):
        ctx.log.add(
            client_node,
            section.at("client_id"),
            f"{client_id!r} is not a valid client id: use 1 to 64 letters, digits, '.', '-' or '_'",
        )
        client_id = None
    tls = _tls(ctx, section)
    tls_node = section.get("tls")
    if not host_given and tls is not None and tls_node is not None:
        ctx.log.add(
            tls_node,
            section.at("tls"),
            "TLS needs a broker host (mqtt.host): the embedded broker speaks plain MQTT",
        )
        tls = None
    embedded_entry = node.entries.get("embedded")
    if host_given and embedded_entry is not None:
        ctx.log.add(
            embedded_entry.key,
            section.at("embedded"),
            "the hub starts a broker of its own only without mqtt.host: remove one of them",
        )
    default_port = 8883 if tls is not None else 1883
    return MqttConfig(
        host=host,
        port=section.integer("port", default_port, minimum=1, maximum=65535),
        username=username,
        password=password,
        client_id=client_id or default_client_id(site_name),
        tls=tls,
        keepalive=section.integer("keepalive", 30, minimum=5, maximum=3600),
        base_topic=_base_topic(ctx, section),
        embedded=_embedded(ctx, section, credentials=bool(username and password)),
    )


def read_plugins(ctx: Context, node: YMap | None) -> PluginsConfig:
    """``plugins:``: the entry-point names of plugins not to load."""
    if node is None:
        return PluginsConfig()
    section = Section(ctx.log, node, "plugins", PLUGINS_KEYS)
    names: list[str] = []
    for index, item in enumerate(section.sequence("disable")):
        name = read_string(ctx.log, item, f"{section.at('disable')}[{index}]")
        if name is not None and name not in names:
            names.append(name)
    return PluginsConfig(tuple(names))


def read_journal(ctx: Context, node: YMap | None) -> JournalConfig:
    """``journal:``: the evidence journal's file, relative to the configuration's
    directory, so the hub finds the same journal whatever directory it starts in."""
    raw = "ecrin-journal.db"
    if node is not None:
        section = Section(ctx.log, node, "journal", JOURNAL_KEYS)
        raw = section.string("path", raw)
    return JournalConfig(ctx.config_dir / Path(raw).expanduser())
