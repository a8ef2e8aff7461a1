"""The shop configuration: valid files load into typed values, and every mistake in an
invalid one is reported at once as FILE:LINE:COLUMN: key.path: reason."""

from __future__ import annotations

import io
import json
import re
import shutil
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plugins.sim
from hub.config import (
    Config,
    ConfigError,
    ConfigIssue,
    MqttConfig,
    MqttTls,
    SecretStr,
    Site,
    check_config_main,
    disabled_plugins,
    load_config,
)
from hub.devices import Device, DeviceContext, DeviceType, EntryProblem, PanelZone
from hub.escalation.config import CONFIG_SECTIONS, contacts_of, escalation_of
from hub.http import HttpSettings
from hub.plugins import PluginManager
from hub.schema import Setting, SettingError, SettingProblem, validate_settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "config"
ISSUE_LINE = re.compile(r"[^\n]+:[1-9]\d*:[1-9]\d*: [^\n]+: [^\n]+")


def _never_built(ctx: DeviceContext) -> Device:
    raise AssertionError("the configuration loader must not build devices")


CATALOGUE: dict[str, DeviceType] = {
    t.name: t
    for t in (
        DeviceType(
            "sim-panel",
            _never_built,
            {
                "interval": Setting(float, default=5.0, minimum=0.05),
                "holdup_zone": Setting(int, default=1),
            },
            category="panel",
        ),
        DeviceType(
            "sim-camera",
            _never_built,
            {"period": Setting(float, default=7.0, minimum=0.05)},
            category="camera",
        ),
        DeviceType(
            "test-serial",
            _never_built,
            {
                "port": Setting(str, required=True),
                "baudrate": Setting(int, default=9600, choices=(9600, 19200, 115200)),
                "code": Setting(str, default=""),
            },
            category="panel",
        ),
    )
}

SITE = """\
site:
  name: Bijouterie Test
  address: 1 rue du Test, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {id: vitrine, name: Vitrine, risk: high}
  - {id: comptoir, name: Comptoir, risk: high}
"""  # 8 lines: snippets appended after it start at line 9


def write(directory: Path, text: str, name: str = "shop.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def issues(path: Path, catalogue: dict[str, DeviceType] = CATALOGUE) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, catalogue, CONFIG_SECTIONS)
    lines = [str(issue) for issue in caught.value.issues]
    assert lines, "a ConfigError always carries at least one issue"
    assert str(caught.value) == "\n".join(lines)
    return lines


def load(path: Path) -> Config:
    return load_config(path, CATALOGUE, CONFIG_SECTIONS)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """config/example.yaml copied with its secrets file made from the shipped example."""
    shutil.copy(REPO / "config" / "example.yaml", tmp_path / "example.yaml")
    shutil.copy(REPO / "config" / "secrets.example.yaml", tmp_path / "secrets.yaml")
    (tmp_path / "secrets.yaml").chmod(0o600)  # as an installer leaves it
    return tmp_path / "example.yaml"


# -- the example --------------------------------------------------------------------------


def test_example_is_valid_and_realistic(example: Path) -> None:
    config = load(example)
    assert config.path == example
    assert config.site.departement == "37"
    assert str(config.site.tzinfo) == "Europe/Paris"
    assert [z.id for z in config.zones] == ["entree", "vitrine", "comptoir", "coffre"]
    assert {z.risk for z in config.zones} <= {"low", "medium", "high"}
    (panel,) = config.devices
    assert panel.type == "sim-panel"
    assert panel.zone_map.zones[1] == PanelZone("comptoir", holdup=True)
    assert panel.zone_map.default_zone == "entree"
    assert all(c.type == "sim-camera" for c in config.cameras)
    assert all(1 <= c.retention_days <= 31 for c in config.cameras)
    assert any(c.placement == "outdoor" and c.views_public_road for c in config.cameras)
    assert config.mqtt is not None
    assert config.mqtt.password == "change-me-to-a-long-random-password"
    assert config.secret_values == frozenset(
        {
            "change-me-to-a-long-random-password",
            "change-me-referent-webhook-hmac-key",
            "change-me-interlocuteur-webhook-hmac-key",
        }
    )
    assert config.journal.path == example.parent / "ecrin-journal.db"
    assert [c.id for c in contacts_of(config)] == [
        "referent-37",
        "interlocuteur-37",
        "police-municipale",
        "proprietaire",
    ]
    assert escalation_of(config) is not None
    assert list(escalation_of(config).ladder[0].contacts) == ["referent-37"]
    referent = contacts_of(config)[0]
    assert referent.webhook_secret == "change-me-referent-webhook-hmac-key"
    assert "change-me-referent" not in repr(config)
    assert config.plugins.disable == ()


def test_example_is_valid_with_the_real_simulation_plugin(example: Path) -> None:
    manager = PluginManager()
    manager.register(plugins.sim, "sim")
    out, err = io.StringIO(), io.StringIO()
    assert check_config_main(example, manager.device_types(), out, err, CONFIG_SECTIONS) == 0
    assert err.getvalue() == ""
    summary = (
        "valid: 4 zones, 1 device, 4 cameras, 4 contacts, 3 escalation tiers;"
        " MQTT broker mqtt://127.0.0.1:1883, user ecrin, client id ecrin-bijouterie-marchal"
    )
    assert out.getvalue() == f"{example}: {summary}\n"


def test_example_without_its_secrets_file_points_at_the_secret(example: Path) -> None:
    (example.parent / "secrets.yaml").unlink()
    lines = example.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "!secret mqtt_password" in text)
    column = lines[line - 1].index("!secret") + 1
    secrets = example.parent / "secrets.yaml"
    shipped = example.parent / "secrets.example.yaml"
    shutil.copy(REPO / "config" / "secrets.example.yaml", shipped)
    found = issues(example)
    assert all(f"secrets file {secrets} not found" in issue for issue in found)
    assert len(found) == 3  # the MQTT password and the two webhook secrets
    # The newcomer is told how to make it: from the example shipped beside it.
    assert found[-1:] == [
        f"{example}:{line}:{column}: mqtt.password: secret 'mqtt_password':"
        f" secrets file {secrets} not found (copy the example: cp {shipped} {secrets},"
        " then fill in each value)"
    ]


# -- all errors at once -------------------------------------------------------------------


def test_every_error_is_reported_in_one_pass(tmp_path: Path) -> None:
    path = tmp_path / "many-errors.yaml"
    shutil.copy(FIXTURES / "many-errors.yaml", path)
    expected = (FIXTURES / "many-errors.expected").read_text(encoding="utf-8").splitlines()
    assert issues(path) == [f"{path}:{line}" for line in expected]


def test_check_config_main_prints_each_issue_and_fails(tmp_path: Path) -> None:
    path = write(tmp_path, SITE + "http: {port: 0}\nmqtt: {port: 0}\n")
    out, err = io.StringIO(), io.StringIO()
    assert check_config_main(path, CATALOGUE, out, err, CONFIG_SECTIONS) == 1
    assert out.getvalue() == ""
    assert err.getvalue().splitlines() == [
        f"{path}:9:14: http.port: 0 is below the minimum 1",
        f"{path}:10:14: mqtt.port: 0 is below the minimum 1",
    ]


def test_issue_format() -> None:
    issue = ConfigIssue("shop.yaml", 12, 5, "devices[2].settings.baudrate", "expected int")
    assert str(issue) == "shop.yaml:12:5: devices[2].settings.baudrate: expected int"


# -- site and zones ------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["01", "19", "2A", "2b", "21", "95", "971", "974", "976"])
def test_valid_departements(tmp_path: Path, code: str) -> None:
    path = write(tmp_path, SITE.replace('"37"', f'"{code}"'))
    assert load(path).site.departement == code.upper()


@pytest.mark.parametrize("code", ["00", "1", "20", "96", "970", "977", "2C", "Paris", ""])
def test_invalid_departements(tmp_path: Path, code: str) -> None:
    path = write(tmp_path, SITE.replace('"37"', f'"{code}"'))
    (line,) = issues(path)
    assert line.startswith(f"{path}:4:16: site.departement: ")


def test_unquoted_departement_asks_for_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, SITE.replace('"37"', "010"))
    assert issues(path) == [
        f"{path}:4:16: site.departement: write the code as a quoted string,"
        ' e.g. "37" or "2A" (got an integer (010))'
    ]


@pytest.mark.parametrize("zone", ["Europe/Pariss", "Europe", "../etc/passwd", "localtime"])
def test_invalid_timezone(tmp_path: Path, zone: str) -> None:
    path = write(tmp_path, SITE.replace("Europe/Paris", zone))
    assert issues(path) == [
        f"{path}:5:13: site.timezone: unknown time zone {zone!r};"
        " use an IANA name such as Europe/Paris"
    ]


def test_overseas_timezone(tmp_path: Path) -> None:
    text = SITE.replace('"37"', '"974"').replace("Europe/Paris", "Indian/Reunion")
    assert load(write(tmp_path, text)).site.timezone == "Indian/Reunion"


def test_missing_sections_and_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "site:\n  name: X\n  address:\nhttp: {}\n")
    assert issues(path) == [
        f"{path}:1:1: zones: required key is missing",
        f"{path}:2:3: site.departement: required key is missing",
        f"{path}:2:3: site.timezone: required key is missing",
        f"{path}:3:11: site.address: required key has no value",
    ]


def test_zones_must_not_be_empty(tmp_path: Path) -> None:
    text = SITE.split("zones:", maxsplit=1)[0] + "zones: []\n"
    path = write(tmp_path, text)
    assert issues(path) == [f"{path}:6:8: zones: at least one zone is required"]


def test_zone_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
  - {id: Réserve, name: R, risk: low}
  - {id: "", name: E, risk: low}
  - {id: vitrine, name: V2, risk: low}
  - {id: coffre, name: C}
  - coffre
""",
    )
    assert issues(path) == [
        f"{path}:9:10: zones[2].id: 'Réserve' is not a valid id:"
        " use 1 to 64 lowercase letters, digits, '-' or '_'",
        f"{path}:10:10: zones[3].id: must not be empty",
        f"{path}:11:10: zones[4].id: duplicate zone id 'vitrine' (first defined at line 7)",
        f"{path}:12:5: zones[5].risk: required key is missing",
        f"{path}:13:5: zones[6]: expected a mapping with id, name and risk,"
        " got a string ('coffre')",
    ]


# -- devices -------------------------------------------------------------------------------


def test_device_settings_are_validated_and_defaulted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
devices:
  - id: centrale
    type: test-serial
    settings: {port: /dev/ttyUSB0}
    zones:
      1: vitrine
      2: {zone: comptoir, type: holdup}
      3: {type: holdup}
    default_zone: comptoir
""",
    )
    (device,) = load(path).devices
    assert device.id == "centrale"
    assert device.line == 10
    assert dict(device.settings) == {"port": "/dev/ttyUSB0", "baudrate": 9600, "code": ""}
    assert dict(device.zone_map.zones) == {
        1: PanelZone("vitrine"),
        2: PanelZone("comptoir", holdup=True),
        3: PanelZone(None, holdup=True),
    }
    assert device.zone_map.default_zone == "comptoir"


def test_device_setting_errors_point_at_the_setting(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
devices:
  - id: a
    type: test-serial
    settings:
      baudrate: 9601
      speed: 1
  - id: b
    type: test-serial
""",
    )
    assert issues(path) == [
        f"{path}:12:5: devices[0].settings.port: required setting is missing",
        f"{path}:13:17: devices[0].settings.baudrate: 9601 is not one of: 9600, 19200, 115200",
        f"{path}:14:7: devices[0].settings.speed: unknown setting (known: baudrate, code, port)",
        f"{path}:15:5: devices[1].settings.port: required setting is missing",
    ]


def _covers(settings: Mapping[str, Any], zones: tuple[str, ...]) -> list[EntryProblem]:
    problems = [
        EntryProblem("aim", f"{zone!r} is not a zone of the camera", item=str(name))
        for name, zone in settings["aim"].items()
        if zone not in zones
    ]
    if settings["label"] == "same" and settings["aim"]:
        problems.append(EntryProblem("label", "not with aim"))
    return problems


CHECKED = {
    **CATALOGUE,
    "checked-camera": DeviceType(
        "checked-camera",
        _never_built,
        {"aim": Setting(dict, default={}), "label": Setting(str, default="")},
        category="camera",
        check=_covers,
    ),
}


def test_a_device_type_checks_its_settings_against_the_entry(tmp_path: Path) -> None:
    """``DeviceType.check`` sees the camera's zones; each problem is at its line, an
    item of a mapping at the item's own line."""
    path = write(
        tmp_path,
        SITE
        + """\
cameras:
  - id: cam
    type: checked-camera
    zones: [vitrine]
    placement: indoor
    settings:
      aim:
        a: vitrine
        b: comptoir
      label: same
""",
    )
    assert issues(path, CHECKED) == [
        f"{path}:17:12: cameras[0].settings.aim.b: 'comptoir' is not a zone of the camera",
        f"{path}:18:14: cameras[0].settings.label: not with aim",
    ]


def test_the_entry_check_waits_for_valid_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
cameras:
  - id: cam
    type: checked-camera
    zones: [vitrine]
    placement: indoor
    settings:
      aim: {b: comptoir}
      label: 3
""",
    )
    assert issues(path, CHECKED) == [
        f"{path}:16:14: cameras[0].settings.label: expected str, got int (3)"
    ]


def test_unknown_device_type_names_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, SITE + "devices:\n  - id: p\n    type: ad2\n    settings: {x: 1}\n")
    assert issues(path) == [
        f"{path}:11:11: devices[0].type: unknown device type 'ad2'"
        " (known: sim-camera, sim-panel, test-serial)"
    ]


def test_camera_types_belong_under_cameras_and_the_others_under_devices(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
devices:
  - {id: cam, type: sim-camera}
cameras:
  - {id: panel, type: sim-panel, zones: [vitrine], placement: indoor}
""",
    )
    assert issues(path) == [
        f"{path}:10:21: devices[0].type: device type 'sim-camera' is a camera:"
        " configure it under cameras:",
        f"{path}:12:23: cameras[0].type: device type 'sim-panel' is not a camera"
        " (category panel): configure it under devices:",
    ]


def test_duplicate_ids_across_devices_and_cameras(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
devices:
  - id: p1
    type: sim-panel
cameras:
  - id: p1
    type: sim-camera
    zones: [vitrine]
    placement: indoor
  - {id: p1, type: sim-camera, zones: [vitrine], placement: indoor}
""",
    )
    assert issues(path) == [
        f"{path}:13:9: cameras[0].id: duplicate id 'p1' (first defined at line 10)",
        f"{path}:17:10: cameras[1].id: duplicate id 'p1' (first defined at line 10)",
    ]


def test_zone_references_must_exist(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
devices:
  - id: p
    type: sim-panel
    zones:
      1: reserve
      2: {zone: cave, type: intrusion, wired: yes}
      three: vitrine
    default_zone: dehors
""",
    )
    known = "(known: vitrine, comptoir)"
    assert issues(path) == [
        f"{path}:13:10: devices[0].zones.1: unknown zone 'reserve' {known}",
        f"{path}:14:17: devices[0].zones.2.zone: unknown zone 'cave' {known}",
        f"{path}:14:40: devices[0].zones.2.wired: unknown key (known: zone, type)",
        f"{path}:15:7: devices[0].zones.three: a panel zone number must be a whole number"
        " from 0, got a string ('three')",
        f"{path}:16:19: devices[0].default_zone: unknown zone 'dehors' {known}",
    ]


# -- cameras -------------------------------------------------------------------------------


CAMERA = """\
cameras:
  - id: cam
    type: sim-camera
    zones: [vitrine, comptoir]
    placement: outdoor
    views_public_road: true
"""  # starts at line 9


def test_camera_defaults(tmp_path: Path) -> None:
    (camera,) = load(write(tmp_path, SITE + CAMERA)).cameras
    assert camera.zones == ("vitrine", "comptoir")
    assert camera.placement == "outdoor"
    assert camera.views_public_road is True
    assert camera.retention_days == 30
    assert dict(camera.settings) == {"period": 7.0}
    assert camera.line == 10


@pytest.mark.parametrize(
    ("days", "reason"),
    [
        (
            "32",
            "32 days is too long: French law (CSI L252-5) limits video retention"
            " to one month, at most 31 days",
        ),
        (
            "365",
            "365 days is too long: French law (CSI L252-5) limits video retention"
            " to one month, at most 31 days",
        ),
        ("0", "0 is below the minimum 1"),
        ("true", "expected an integer, got a boolean (true)"),
        ("7.5", "expected an integer, got a number (7.5)"),
    ],
)
def test_retention_is_at_most_one_month(tmp_path: Path, days: str, reason: str) -> None:
    path = write(tmp_path, SITE + CAMERA + f"    retention_days: {days}\n")
    assert issues(path) == [f"{path}:15:21: cameras[0].retention_days: {reason}"]


@given(days=st.integers(min_value=-5, max_value=400))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_retention_bounds(tmp_path: Path, days: int) -> None:
    path = write(tmp_path, SITE + CAMERA + f"    retention_days: {days}\n")
    if 1 <= days <= 31:
        assert load(path).cameras[0].retention_days == days
    else:
        with pytest.raises(ConfigError):
            load(path)


def test_camera_zone_list(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
cameras:
  - {id: a, type: sim-camera, zones: [], placement: indoor}
  - {id: b, type: sim-camera, zones: [vitrine, vitrine, 3], placement: sideways}
  - {id: c, type: sim-camera}
""",
    )
    assert issues(path) == [
        f"{path}:10:38: cameras[0].zones: a camera must cover at least one zone",
        f"{path}:11:48: cameras[1].zones[1]: zone 'vitrine' is listed twice",
        f"{path}:11:57: cameras[1].zones[2]: expected a string, got an integer (3)",
        f"{path}:11:72: cameras[1].placement: 'sideways' is not one of: indoor, outdoor",
        f"{path}:12:5: cameras[2].zones: required key is missing",
        f"{path}:12:5: cameras[2].placement: required key is missing",
    ]


# -- services ------------------------------------------------------------------------------


def test_service_defaults(tmp_path: Path) -> None:
    config = load(write(tmp_path, SITE))
    assert config.http.host == "127.0.0.1"
    assert config.http.port == 8765
    assert config.mqtt is None
    assert config.plugins.disable == ()
    assert config.journal.path == tmp_path / "ecrin-journal.db"
    assert config.devices == ()
    assert config.cameras == ()
    assert config.secret_values == frozenset()


def test_services(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "journal.db"
    path = write(
        tmp_path,
        SITE
        + f"""\
http: {{host: 0.0.0.0, port: 8080}}
mqtt: {{host: broker.local, username: ecrin, password: plain, tls: true, client_id: shop}}
plugins: {{disable: [ad2, sia-dc09]}}
journal: {{path: {other}}}
contacts:
  - {{id: referent-37, name: Référent sûreté, role: local_referent}}
escalation: {{ladder: [{{contacts: [referent-37], ack_deadline: 60}}]}}
""",
    )
    config = load(path)
    assert (config.http.host, config.http.port) == ("0.0.0.0", 8080)
    assert config.mqtt == MqttConfig(
        host="broker.local",
        port=8883,  # the MQTT-over-TLS port when TLS is on and no port is given
        username="ecrin",
        password="plain",
        client_id="shop",
        tls=MqttTls(),
    )
    assert config.plugins.disable == ("ad2", "sia-dc09")
    assert config.journal.path == other
    assert [(c.id, c.name, c.role.value) for c in contacts_of(config)] == [
        ("referent-37", "Référent sûreté", "local_referent")
    ]
    assert escalation_of(config) is not None
    assert [(t.contacts, t.ack_deadline) for t in escalation_of(config).ladder] == [
        (("referent-37",), 60.0)
    ]
    assert escalation_of(config).outbox_path == tmp_path / "ecrin-outbox.db"


def test_http_limits(tmp_path: Path) -> None:
    config = load(write(tmp_path, SITE))
    assert HttpSettings.from_config(config.http) == HttpSettings()
    path = write(
        tmp_path,
        SITE
        + """\
http:
  max_connections: 1000
  max_connections_per_address: 8
  fd_reserve: 200
  header_timeout: 5
  body_timeout: 20
  keepalive_timeout: 30
""",
    )
    settings = HttpSettings.from_config(load(path).http)
    assert (
        settings.max_connections,
        settings.max_connections_per_address,
        settings.fd_reserve,
        settings.header_timeout,
        settings.body_timeout,
        settings.keepalive_timeout,
    ) == (1000, 8, 200, 5, 20, 30)


def test_http_limit_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
http:
  max_connections: 0
  max_connections_per_address: many
  fd_reserve: 4
  header_timeout: 0
  body_timeout: 1.5
  keepalive_timeout: 7200
""",
    )
    assert issues(path) == [
        f"{path}:10:20: http.max_connections: 0 is below the minimum 1",
        f"{path}:11:32: http.max_connections_per_address: expected an integer,"
        " got a string ('many')",
        f"{path}:12:15: http.fd_reserve: 4 is below the minimum 16",
        f"{path}:13:19: http.header_timeout: 0 is below the minimum 1",
        f"{path}:14:17: http.body_timeout: expected an integer, got a number (1.5)",
        f"{path}:15:22: http.keepalive_timeout: 7200 is above the maximum 3600",
    ]


def test_relative_journal_path_is_beside_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = tmp_path / "shop"
    shop.mkdir()
    write(shop, SITE + "journal: {path: data/journal.db}\n")
    monkeypatch.chdir(tmp_path)
    config = load(Path("shop/shop.yaml"))
    assert config.journal.path == shop / "data" / "journal.db"
    assert config.journal.path.is_absolute()


def test_service_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
http: {host: "", port: 65536, tls: true}
mqtt: {host: broker, password: x, tls: "no"}
plugins: {disable: ad2}
journal: []
contacts: [{name: a}, referent]
escalation: [1]
""",
    )
    assert issues(path) == [
        f"{path}:9:14: http.host: must not be empty",
        f"{path}:9:24: http.port: 65536 is above the maximum 65535",
        f"{path}:9:31: http.tls: unknown key (known: host, port, max_connections,"
        " max_connections_per_address, fd_reserve, header_timeout, body_timeout,"
        " keepalive_timeout)",
        f"{path}:10:32: mqtt.password: a password needs a username (MQTT rule)",
        f"{path}:10:40: mqtt.tls: expected true, false or a mapping with ca, certfile,"
        " keyfile and check_hostname, got a string ('no')",
        f"{path}:11:20: plugins.disable: expected a list, got a string ('ad2')",
        f"{path}:12:10: journal: expected a mapping, got a list",
        f"{path}:13:12: contacts[0].id: required key is missing",
        f"{path}:13:12: contacts[0].role: required key is missing",
        f"{path}:13:23: contacts[1]: expected a mapping with id, name and role,"
        " got a string ('referent')",
        f"{path}:14:13: escalation: expected a mapping, got a list",
    ]


# -- secrets -------------------------------------------------------------------------------

SECRET_CONFIG = (
    SITE
    + """\
devices:
  - id: centrale
    type: test-serial
    settings:
      port: /dev/ttyS0
      code: !secret panel_code
mqtt:
  host: broker
  username: ecrin
  password: !secret mqtt_password
"""
)


def test_secrets_are_resolved_and_never_shown(tmp_path: Path) -> None:
    write(tmp_path, "mqtt_password: 's3cr3t-pa55'\npanel_code: 0123\n", "secrets.yaml")
    config = load(write(tmp_path, SECRET_CONFIG))
    assert config.mqtt is not None
    assert config.mqtt.password == "s3cr3t-pa55"
    assert isinstance(config.mqtt.password, SecretStr)
    assert config.devices[0].settings["code"] == "0123"  # as written, not octal 83
    assert f"{config.devices[0].settings['code']}" == "0123"
    assert config.secret_values == frozenset({"s3cr3t-pa55", "0123"})
    for shown in (repr(config), repr(config.mqtt), repr(config.devices[0]), str(config)):
        assert "s3cr3t-pa55" not in shown
        assert "0123" not in shown


def test_a_missing_secret_points_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "mqtt_password: x\n", "secrets.yaml")
    path = write(tmp_path, SECRET_CONFIG)
    secrets = tmp_path / "secrets.yaml"
    assert issues(path) == [
        f"{path}:14:13: devices[0].settings.code: secret 'panel_code' is not defined in {secrets}"
    ]


def test_a_missing_secrets_file_is_reported_at_each_use(tmp_path: Path) -> None:
    path = write(tmp_path, SECRET_CONFIG)
    secrets = tmp_path / "secrets.yaml"
    hint = " (create it beside the configuration, one 'name: value' line per secret)"
    assert issues(path) == [
        f"{path}:14:13: devices[0].settings.code: secret 'panel_code':"
        f" secrets file {secrets} not found{hint}",
        f"{path}:18:13: mqtt.password: secret 'mqtt_password':"
        f" secrets file {secrets} not found{hint}",
    ]


def test_secrets_file_errors_name_the_secrets_file(tmp_path: Path) -> None:
    secrets = write(
        tmp_path,
        "mqtt_password: hunter2-hunter2\nempty:\nlist: [1, 2]\npanel_code: 2024-13-45\n",
        "secrets.yaml",
    )
    write(tmp_path, SECRET_CONFIG.replace("panel_code", "list"))
    path = tmp_path / "shop.yaml"
    lines = issues(path)
    assert lines == [
        f"{path}:14:13: devices[0].settings.code: secret 'list' is not defined in {secrets}",
        f"{secrets}:2:7: empty: the secret is empty",
        f"{secrets}:3:7: list: a secret must be a single plain value",
    ]
    assert not any("hunter2" in line or "2024-13-45" in line for line in lines)


def test_a_secret_is_not_shown_in_a_setting_error(tmp_path: Path) -> None:
    write(tmp_path, "mqtt_password: x\nbaud: hunter2-hunter2\n", "secrets.yaml")
    path = write(
        tmp_path, SECRET_CONFIG.replace("code: !secret panel_code", "baudrate: !secret baud")
    )
    (line,) = issues(path)
    assert line.startswith(f"{path}:14:17: devices[0].settings.baudrate: expected int")
    assert "hunter2" not in line


def test_secret_syntax(tmp_path: Path) -> None:
    write(tmp_path, "a: b\n", "secrets.yaml")
    path = write(tmp_path, SITE + "mqtt:\n  host: !secret\n  username: !secret [a]\n")
    assert issues(path) == [
        f"{path}:10:9: mqtt.host: !secret needs a name, e.g. !secret mqtt_password",
        f"{path}:11:13: mqtt.username: !secret takes a single value, not a mapping or list",
    ]


# -- secrets kept secret: the secrets file's permissions, secrets written inline ----------


def check(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = check_config_main(path, CATALOGUE, out, err, CONFIG_SECTIONS)
    return code, out.getvalue(), err.getvalue()


def test_check_config_warns_of_a_secrets_file_others_can_read(tmp_path: Path) -> None:
    secrets = write(tmp_path, "mqtt_password: 's3cr3t-pa55'\npanel_code: 0123\n", "secrets.yaml")
    path = write(tmp_path, SECRET_CONFIG)
    secrets.chmod(0o644)
    code, out, err = check(path)
    assert code == 0
    assert out == (
        f"{path}: valid: 2 zones, 1 device, 0 cameras;"
        " MQTT broker mqtt://broker:1883, user ecrin, client id ecrin-bijouterie-test;"
        " 1 warning\n"
    )
    assert err == (
        f"{secrets}:1:1: warning: <file>: the secrets file is readable by other accounts"
        f" (mode 0644); chmod 600 {secrets}\n"
    )
    assert load(path).warnings == (
        ConfigIssue(
            str(secrets),
            1,
            1,
            "<file>",
            f"the secrets file is readable by other accounts (mode 0644); chmod 600 {secrets}",
            "warning",
        ),
    )
    secrets.chmod(0o600)
    broker = "MQTT broker mqtt://broker:1883, user ecrin, client id ecrin-bijouterie-test"
    assert check(path) == (0, f"{path}: valid: 2 zones, 1 device, 0 cameras; {broker}\n", "")


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_check_config_refuses_a_secrets_file_others_can_write(tmp_path: Path, mode: int) -> None:
    secrets = write(tmp_path, "mqtt_password: 's3cr3t-pa55'\npanel_code: 0123\n", "secrets.yaml")
    path = write(tmp_path, SECRET_CONFIG)
    secrets.chmod(mode)
    code, out, err = check(path)
    assert (code, out) == (1, "")
    assert err == (
        f"{secrets}:1:1: <file>: the secrets file is writable by other accounts"
        f" (mode {mode:04o}): refused, anyone who can change it changes the keys;"
        f" chmod 600 {secrets}\n"
    )
    assert "s3cr3t" not in err


def test_a_secret_written_inline_is_a_warning_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "panel_code: 0123\n", "secrets.yaml").chmod(0o600)
    text = SECRET_CONFIG.replace("!secret mqtt_password", "'in-the-shop-file-pa55'")
    text += textwrap.dedent(
        """\
        contacts:
          - id: referent
            name: Référent
            role: local_referent
            webhook: {url: 'https://referent.example/hook', secret: plain-hmac-key-in-the-file}
        escalation:
          ladder: [{contacts: [referent], ack_deadline: 60}]
        """
    )
    path = write(tmp_path, text)
    lines = text.splitlines()
    column = lines[22].index("plain-hmac") + 1
    code, out, err = check(path)
    assert code == 0, err
    assert out.endswith("; 2 warnings\n")
    fix = "put it in secrets.yaml and write !secret NAME here (the shop file is shared, the"
    assert err.splitlines() == [
        f"{path}:18:13: warning: mqtt.password: a secret written in the configuration"
        f" itself: {fix} secrets file is not)",
        f"{path}:23:{column}: warning: contacts[0].webhook.secret: a secret written in the"
        f" configuration itself: {fix} secrets file is not)",
    ]
    assert "pa55" not in err
    assert "plain-hmac-key" not in err


# -- YAML itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("site:\n  name: a: b\n", "2:10", "mapping values are not allowed here"),
        (
            "site:\n  name: x\n address: y\n",
            "3:2",
            "while parsing a block mapping at line 1, column 1:"
            " expected <block end>, but found '<block mapping start>'",
        ),
        (
            "zones: [a, b\n",
            "2:1",
            "while parsing a flow sequence at line 1, column 8:"
            " expected ',' or ']', but got '<stream end>'",
        ),
        (
            "site: 'open\n",
            "2:1",
            "while scanning a quoted scalar at line 1, column 7: found unexpected end of stream",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "2:1",
            "expected a single document in the stream at line 1,"
            " column 1: but found another document",
        ),
        ("a: *nowhere\n", "1:4", "found undefined alias 'nowhere'"),
        (
            "a: b\n\tc: d\n",
            "2:1",
            "while scanning for the next token: found character '\\t' that cannot start any token",
        ),
        ("site:\n  name: x\x07\n", "2:10", "character U+0007 is not allowed in YAML"),
    ],
)
def test_yaml_syntax_errors_have_positions(
    tmp_path: Path, text: str, position: str, reason: str
) -> None:
    path = write(tmp_path, text)
    assert issues(path) == [f"{path}:{position}: <yaml>: {reason}"]


def test_invalid_utf8_has_a_position(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_bytes(b"site:\n  name: Bijouterie \xe9toile\n")
    assert issues(path) == [f"{path}:2:20: <yaml>: not valid UTF-8 (byte 0xe9)"]


def test_missing_file_is_one_issue(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert issues(path) == [f"{path}:1:1: <file>: file not found"]


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    (line,) = issues(tmp_path)
    assert line.startswith(f"{tmp_path}:1:1: <file>: cannot read: ")


@pytest.mark.parametrize(
    ("text", "issue"),
    [
        ("", "1:1: <root>: the file is empty: expected a mapping with site and zones"),
        ("# nothing\n", "1:1: <root>: the file is empty: expected a mapping with site and zones"),
        (
            "- a\n",
            "1:1: <root>: expected a mapping with site, zones, devices and cameras, got a list",
        ),
    ],
)
def test_document_must_be_a_mapping(tmp_path: Path, text: str, issue: str) -> None:
    path = write(tmp_path, text)
    assert issues(path) == [f"{path}:{issue}"]


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, SITE + "http: {port: 80}\nhttp: {port: 81}\n")
    assert issues(path) == [f"{path}:10:1: http: duplicate key 'http' (first at line 9)"]


def test_arbitrary_tags_are_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write(
        tmp_path,
        SITE
        + f"""\
http: !!python/object/apply:os.system ["touch {marker}"]
mqtt: {{host: !!python/name:os.system }}
journal: {{path: !include other.yaml}}
""",
    )
    assert issues(path) == [
        f"{path}:9:7: http: unsupported tag tag:yaml.org,2002:python/object/apply:os.system",
        f"{path}:10:14: mqtt.host: unsupported tag tag:yaml.org,2002:python/name:os.system",
        f"{path}:11:17: journal.path: unsupported tag !include",
    ]
    assert not marker.exists()


def test_anchors_and_merge_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SITE
        + """\
cameras:
  - &cam {id: cam-a, type: sim-camera, zones: [vitrine], placement: indoor, retention_days: 20}
  - <<: *cam
    id: cam-b
    zones: [comptoir]
""",
    )
    a, b = load(path).cameras
    assert (a.id, a.zones, a.retention_days) == ("cam-a", ("vitrine",), 20)
    assert (b.id, b.zones, b.retention_days) == ("cam-b", ("comptoir",), 20)


def test_recursive_alias_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, SITE + "devices: &e [*e]\n")
    assert issues(path) == [
        f"{path}:9:10: devices[0]: an alias refers to the mapping or list that contains it"
    ]


def test_impossible_date_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, SITE.replace("Bijouterie Test", "2024-13-45"))
    (line,) = issues(path)
    assert line.startswith(f"{path}:2:9: site.name: invalid timestamp '2024-13-45': ")


# -- plugins.disable, read before plugins load ----------------------------------------------


def test_disabled_plugins_ignores_every_other_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        site: {unknown: 1}
        devices:
          - {id: x, type: not-loaded-yet, settings: {password: !secret nope}}
        plugins:
          disable: [ad2, sia-dc09, 3]
        """,
    )
    assert disabled_plugins(path) == frozenset({"ad2", "sia-dc09"})


@pytest.mark.parametrize(
    "text", ["", "plugins: {disable: ad2}\n", "plugins: [ad2]\n", "site: [\n", "- 1\n"]
)
def test_disabled_plugins_is_empty_when_unreadable(tmp_path: Path, text: str) -> None:
    assert disabled_plugins(write(tmp_path, text)) == frozenset()


def test_disabled_plugins_of_a_missing_file(tmp_path: Path) -> None:
    assert disabled_plugins(tmp_path / "nowhere.yaml") == frozenset()


# -- anything at all -------------------------------------------------------------------------

YAMLISH = st.lists(
    st.sampled_from(
        [*"abcz019 :-[]{},'\"!&*#<>|\n\t", "site", "zones", "!secret ", "  ", "- ", ": "]
    ),
    max_size=40,
).map("".join)


def outcome(path: Path) -> Config | list[ConfigIssue]:
    try:
        return load(path)
    except ConfigError as exc:
        return exc.issues


@given(text=YAMLISH)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_text_gives_a_config_or_one_line_issues(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    result = outcome(path)
    if isinstance(result, list):
        assert result
        for issue in result:
            assert ISSUE_LINE.fullmatch(str(issue)), str(issue)
    assert isinstance(disabled_plugins(path), frozenset)


SITE_VALUES = {
    "name": st.sampled_from(["Bijouterie", "", 3, None, True]),
    "address": st.sampled_from(["1 rue X", " ", 3.5, None]),
    "departement": st.sampled_from(["37", "2A", "974", "20", "96", "2C", 37, None]),
    "timezone": st.sampled_from(["Europe/Paris", "Indian/Reunion", "Mars/Olympus", "", 1]),
    "other": st.just("x"),
}
VALID = {
    "name": {"Bijouterie"},
    "address": {"1 rue X"},
    "departement": {"37", "2A", "974"},
    "timezone": {"Europe/Paris", "Indian/Reunion"},
}


@given(site=st.fixed_dictionaries({}, optional=SITE_VALUES))
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_site_is_valid_exactly_when_every_field_is(
    tmp_path: Path, site: dict[str, object]
) -> None:
    path = tmp_path / "fuzz.yaml"
    # JSON is YAML: the mapping is written as a flow mapping, types preserved.
    path.write_text(
        f"site: {json.dumps(site)}\nzones: [{{id: a, name: A, risk: low}}]\n", encoding="utf-8"
    )
    valid = set(site) == set(VALID) and all(site[k] in VALID[k] for k in VALID)
    result = outcome(path)
    if valid:
        assert isinstance(result, Config), result
        assert result.site == Site(**{k: str(v) for k, v in site.items()})
    else:
        assert isinstance(result, list)
        assert all(ISSUE_LINE.fullmatch(str(issue)) for issue in result)
        assert all(issue.key_path.startswith("site") for issue in result)


def test_a_setting_check_refuses_at_the_setting_with_its_reason() -> None:
    """``Setting.check``: for what types and bounds cannot say (here: each item)."""

    def all_even(value: list[int]) -> str | None:
        odd = [n for n in value if n % 2]
        return f"odd entries: {odd}" if odd else None

    schema = {"pairs": Setting(list, default=[], check=all_even)}
    values, errors = validate_settings(schema, {"pairs": [2, 4]})
    assert (values, errors) == ({"pairs": [2, 4]}, [])
    values, errors = validate_settings(schema, {"pairs": [2, 3, 5]})
    assert errors == [SettingError("pairs", "odd entries: [3, 5]")]
    assert "pairs" not in values
    _values, errors = validate_settings(schema, {"pairs": "2"})  # the type comes first
    assert errors == [SettingError("pairs", "expected list, got str ('2')")]


def _pair_problems(value: dict[object, object]) -> list[SettingProblem]:
    """A check of a mapping setting: ``{left: str, right: str, extra: [str...]}``."""
    problems = [
        SettingProblem((key,), "unknown key (known: extra, left, right)", at_key=True)
        for key in value
        if key not in ("left", "right", "extra")
    ]
    if "left" not in value:
        problems.append(SettingProblem(("left",), "required, missing"))
    if value.get("left") == value.get("right"):
        problems.append(SettingProblem(("right",), "must differ from left"))
    extra = value.get("extra", [])
    for index, item in enumerate(extra if isinstance(extra, list) else []):
        if not isinstance(item, str):
            problems.append(SettingProblem(("extra", index), "expected a string"))
    return problems


def test_a_check_reports_each_problem_inside_a_mapping_at_its_line_and_column(
    tmp_path: Path,
) -> None:
    """A check returning ``SettingProblem``s: each at the line and column of what is
    wrong (the value; the key when unknown; the mapping when a key is missing)."""
    catalogue = dict(CATALOGUE)
    catalogue["pair-camera"] = DeviceType(
        "pair-camera",
        _never_built,
        {"pair": Setting(dict, required=True, check=_pair_problems)},
        category="camera",
    )
    path = write(
        tmp_path,
        SITE
        + """\
cameras:
  - id: cam-a
    type: pair-camera
    zones: [vitrine]
    placement: indoor
    settings:
      pair:
        left: a
        right: a
        colour: blue
        extra: [x, 3]
  - id: cam-b
    type: pair-camera
    zones: [comptoir]
    placement: indoor
    settings:
      pair: {right: b}
""",
    )
    assert issues(path, catalogue) == [
        f"{path}:17:16: cameras[0].settings.pair.right: must differ from left",
        f"{path}:18:9: cameras[0].settings.pair.colour: unknown key (known: extra, left, right)",
        f"{path}:19:20: cameras[0].settings.pair.extra[1]: expected a string",
        f"{path}:25:13: cameras[1].settings.pair.left: required, missing",
    ]


def test_setting_problems_carry_their_path_through_validation() -> None:
    schema = {"pair": Setting(dict, default={}, check=_pair_problems)}
    _values, errors = validate_settings(schema, {"pair": {"left": "a", "extra": ["x", 3]}})
    assert errors == [SettingError("pair", "expected a string", ("extra", 1))]
    assert errors[0].where() == "pair.extra[1]"
    values, errors = validate_settings(schema, {"pair": {"left": "a", "right": "b"}})
    assert (values, errors) == ({"pair": {"left": "a", "right": "b"}}, [])
