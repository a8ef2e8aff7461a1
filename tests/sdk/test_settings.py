"""Typed settings: one dataclass per device type, turned into the loader's schema."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

from hub.config import check_config_main
from hub.sdk import (
    DeviceContext,
    DeviceType,
    SerialStreamSettings,
    Setting,
    redefault,
    setting,
    settings_from,
    settings_schema,
    validate_settings,
)


@dataclass(frozen=True, kw_only=True)
class BoxSettings(SerialStreamSettings):
    baudrate: int = redefault(SerialStreamSettings, "baudrate", 1200)
    zones: list[int] = setting([1, 2], help="the zones wired")
    labels: dict[str, str] = setting({}, help="zone labels")
    mode: str = setting("quiet", choices=("quiet", "loud"), help="how it reports")
    code: str = setting(required=True, help="the box's code")
    gain: float = 1.0  # a plain field: a setting with a default and no rules


class Box:
    def __init__(self, ctx: DeviceContext) -> None:
        self.settings = ctx.settings_as(BoxSettings)

    async def __aenter__(self) -> Box:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def run(self) -> None:
        return None


def test_the_schema_states_each_default_once_with_its_rules() -> None:
    schema = settings_schema(BoxSettings)
    assert list(schema)[:3] == ["port", "baudrate", "bytesize"]
    assert schema["port"] == Setting(str, required=True, help=schema["port"].help)
    baud = schema["baudrate"]
    assert (baud.default, baud.minimum, baud.maximum) == (1200, 50, 4_000_000)
    assert baud.help == "bits per second"  # redefault keeps the inherited rules
    assert schema["zones"].type is list
    assert schema["zones"].default == [1, 2]
    assert schema["labels"].type is dict
    assert schema["mode"].choices == ("quiet", "loud")
    assert schema["code"].required
    assert schema["gain"] == Setting(float, default=1.0)
    assert schema["supervision_interval"].default == 0.0


def test_validated_settings_become_the_dataclass() -> None:
    values, errors = validate_settings(settings_schema(BoxSettings), {"port": "/dev/x", "code": 7})
    assert [(e.key, e.reason) for e in errors] == [("code", "expected str, got int (7)")]
    values, errors = validate_settings(
        settings_schema(BoxSettings), {"port": "/dev/x", "code": "1234", "gain": 2}
    )
    assert not errors
    box = settings_from(BoxSettings, values)
    assert box.port == "/dev/x"
    assert box.gain == 2.0
    assert isinstance(box.gain, float)
    assert box.baudrate == 1200
    assert box.zones == [1, 2]


def test_a_mutable_default_is_never_shared() -> None:
    one = settings_from(BoxSettings, {"port": "a", "code": "1"})
    two = settings_from(BoxSettings, {"port": "b", "code": "1"})
    one.zones.append(3)
    assert two.zones == [1, 2]
    assert settings_schema(BoxSettings)["zones"].default == [1, 2]


def test_a_hand_built_context_needs_only_what_matters() -> None:
    """None or an absent key takes the default; an unknown key is an error, not a typo
    silently ignored; a missing required setting is an error."""
    box = settings_from(BoxSettings, {"port": "/dev/x", "code": "1", "mode": None})
    assert box.mode == "quiet"
    with pytest.raises(TypeError, match="unknown settings: speed"):
        settings_from(BoxSettings, {"port": "/dev/x", "code": "1", "speed": 3})
    with pytest.raises(TypeError, match="code"):
        settings_from(BoxSettings, {"port": "/dev/x"})


def test_unsupported_types_and_non_dataclasses_are_refused() -> None:
    @dataclass(frozen=True, kw_only=True)
    class Bad:
        when: int | None = None

    with pytest.raises(TypeError, match=r"Bad\.when"):
        settings_schema(Bad)
    with pytest.raises(TypeError, match="not a dataclass"):
        settings_schema(int)
    with pytest.raises(TypeError, match="needs a default"):
        setting(help="no default and not required")
    with pytest.raises(TypeError, match="no setting 'nope'"):
        redefault(SerialStreamSettings, "nope", 1)


def test_a_device_type_derives_its_schema_from_its_settings() -> None:
    box = DeviceType("box", Box, settings=BoxSettings)
    assert box.schema == settings_schema(BoxSettings)
    with pytest.raises(TypeError, match="not both"):
        DeviceType("box", Box, {"port": Setting(str)}, settings=BoxSettings)


def test_the_loader_reports_typed_settings_at_their_line(tmp_path: Path) -> None:
    """The configuration's FILE:LINE:COLUMN errors work unchanged for typed settings."""
    path = tmp_path / "shop.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            site:
              name: Bijouterie Test
              address: 1 rue du Test, 37000 Tours
              departement: "37"
              timezone: Europe/Paris
            zones:
              - {id: comptoir, name: Comptoir, risk: high}
            devices:
              - id: box
                type: box
                settings:
                  port: /dev/ttyUSB0
                  mode: shouting
                  baudrate: 10
            """
        ),
        encoding="utf-8",
    )
    catalogue: dict[str, Any] = {"box": DeviceType("box", Box, settings=BoxSettings)}
    out, err = io.StringIO(), io.StringIO()
    assert check_config_main(path, catalogue, out, err) == 1
    lines = err.getvalue().splitlines()
    assert f"{path}:13:13: devices[0].settings.mode: 'shouting' is not one of: quiet, loud" in lines
    assert f"{path}:14:17: devices[0].settings.baudrate: 10 is below the minimum 50" in lines
    assert any(line.startswith(f"{path}:11:") and ".code" in line for line in lines), lines


def test_every_field_of_the_stream_settings_has_help() -> None:
    for f in fields(SerialStreamSettings):
        assert settings_schema(SerialStreamSettings)[f.name].help, f.name
