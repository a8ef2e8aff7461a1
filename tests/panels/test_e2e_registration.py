"""The panel plugin's device types, as the hub's plugin manager sees them."""

from __future__ import annotations

from pathlib import Path

import pytest

import plugins.panels
from hub.devices import DeviceType
from hub.schema import validate_settings

SERIAL_TYPES = ("contact-id", "dsc-it100", "ad2")


def test_every_panel_type_is_registered(panel_types: dict[str, DeviceType]) -> None:
    assert set(plugins.panels.DEVICE_TYPES) == {
        "contact-id",
        "dsc-it100",
        "envisalink",
        "ad2",
        "sia-dc09",
    }
    for name in plugins.panels.DEVICE_TYPES:
        device_type = panel_types[name]
        assert device_type.category == "panel"
        assert device_type.description
        assert all(setting.help for setting in device_type.schema.values()), name


@pytest.mark.parametrize(
    ("name", "baudrate", "supervision"),
    [("contact-id", 9600, 0.0), ("dsc-it100", 9600, 90.0), ("ad2", 115200, 90.0)],
)
def test_serial_defaults(
    panel_types: dict[str, DeviceType], name: str, baudrate: int, supervision: float
) -> None:
    values, errors = validate_settings(panel_types[name].schema, {"port": "/dev/ttyUSB0"})
    assert errors == []
    assert values["baudrate"] == baudrate
    assert values["supervision_interval"] == supervision
    assert (values["bytesize"], values["parity"], values["stopbits"]) == (8, "N", 1.0)
    assert (values["rtscts"], values["xonxoff"]) == (False, False)
    assert values["reconnect_max"] == 30.0
    assert values["bad_frame_burst"] == 5


def test_it100_poll_default(panel_types: dict[str, DeviceType]) -> None:
    values, _ = validate_settings(panel_types["dsc-it100"].schema, {"port": "/dev/ttyUSB0"})
    assert values["poll_interval"] == 30.0
    assert values["status_request"] is True


@pytest.mark.parametrize("name", SERIAL_TYPES)
def test_serial_settings_are_checked(panel_types: dict[str, DeviceType], name: str) -> None:
    _values, errors = validate_settings(
        panel_types[name].schema, {"parity": "X", "bytesize": 9, "supervision_interval": -1}
    )
    by_key = {e.key: e.reason for e in errors}
    assert by_key["port"] == "required setting is missing"
    assert "is not one of: N, E, O" in by_key["parity"]
    assert "is not one of: 5, 6, 7, 8" in by_key["bytesize"]
    assert "below the minimum" in by_key["supervision_interval"]


def test_dc09_settings(panel_types: dict[str, DeviceType]) -> None:
    schema = panel_types["sia-dc09"].schema
    values, errors = validate_settings(schema, {"port": 12128, "keys": {"1234": "k" * 16}})
    assert errors == []
    assert values["host"] == "0.0.0.0"
    assert (values["timestamp_past"], values["timestamp_future"]) == (40.0, 20.0)
    assert values["supervision_interval"] == 0.0
    _values, errors = validate_settings(schema, {"port": 70000})
    assert [e.key for e in errors] == ["port"]


DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocols"
PAGES = {
    "contact-id": "contact-id.md",
    "dsc-it100": "dsc-it100.md",
    "envisalink": "dsc-it100.md",
    "ad2": "ad2.md",
    "sia-dc09": "sia-dc09.md",
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_setting_is_documented(panel_types: dict[str, DeviceType], name: str) -> None:
    """The "Wiring and settings" section of the protocol's page lists every setting."""
    page = (DOCS / PAGES[name]).read_text(encoding="utf-8")
    section = page.split("## Wiring and settings", 1)[1]
    missing = [key for key in panel_types[name].schema if f"| `{key}` |" not in section]
    assert missing == [], f"{PAGES[name]} does not document {missing}"
