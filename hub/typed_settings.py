"""Typed device settings: one dataclass per device type, defaults stated once.

A plugin author declares the settings of a device type as a frozen, keyword-only
dataclass whose fields carry their type, their default and, through ``setting()``,
their bounds, choices and help. The hub turns that dataclass into the schema of
``hub.schema`` (``settings_schema``), so the configuration loader validates a shop
file exactly as before and reports every mistake as FILE:LINE:COLUMN; the device then
gets its settings back as an instance of the dataclass (``settings_from``, or
``DeviceContext.settings_as``) instead of reading a mapping key by key with a default
repeated at each read.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from hub.schema import Check, Setting

__all__ = ["setting", "settings_from", "settings_schema"]

T = TypeVar("T")

#: The dataclass field metadata key under which ``setting()`` keeps its rules.
_KEY = "ecrin.setting"

#: The Python types a setting may have (see ``hub.schema.Setting``).
_TYPES: frozenset[type] = frozenset({str, int, float, bool, list, dict})


@dataclass(frozen=True, slots=True)
class _Rules:
    choices: tuple[Any, ...] | None
    minimum: float | None
    maximum: float | None
    help: str
    check: Check | None


def setting(
    default: Any = dataclasses.MISSING,
    *,
    required: bool = False,
    choices: tuple[Any, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    help: str = "",
    check: Check | None = None,
) -> Any:
    """Declare one field of a settings dataclass, with the rules the loader checks.

    Args:
        default: the value when the shop file leaves the setting out. A list or a
            dict is copied for each device, never shared.
        required: the shop file must give it (no default then).
        choices: the allowed values.
        minimum: the lowest allowed number (inclusive).
        maximum: the highest allowed number (inclusive).
        help: one line for the docs and ``ecrin plugins``.
        check: returns why a value of the right type is refused, or None; for a
            ``dict`` or ``list`` setting, it may return one ``hub.schema.SettingProblem``
            per mistake inside the value, each reported at its own line and column.

    Returns:
        A ``dataclasses.field`` (typed ``Any`` so that it can stand as a default).
    """
    metadata = {_KEY: _Rules(choices, minimum, maximum, help, check)}
    if required or default is dataclasses.MISSING:
        if not required:
            raise TypeError("a setting needs a default unless it is required")
        return dataclasses.field(metadata=metadata)
    if isinstance(default, list | dict):
        frozen = copy.deepcopy(default)
        return dataclasses.field(default_factory=lambda: copy.deepcopy(frozen), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _base_type(annotation: Any, where: str) -> type:
    origin = typing.get_origin(annotation)
    base = origin if origin is not None else annotation
    if base is types.UnionType or base is typing.Union or base not in _TYPES:
        raise TypeError(
            f"{where}: settings are str, int, float, bool, list or dict; got {annotation!r}"
        )
    return typing.cast(type, base)


def _fields(cls: type) -> tuple[tuple[dataclasses.Field[Any], type], ...]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    hints = typing.get_type_hints(cls)
    return tuple(
        (f, _base_type(hints[f.name], f"{cls.__name__}.{f.name}"))
        for f in dataclasses.fields(cls)
        if f.init
    )


def settings_schema(cls: type) -> dict[str, Setting]:
    """The schema of a settings dataclass, for the configuration loader.

    Raises:
        TypeError: ``cls`` is not a dataclass, or a field's type is not one a setting
            may have.
    """
    schema: dict[str, Setting] = {}
    for f, base in _fields(cls):
        rules = f.metadata.get(_KEY) or _Rules(None, None, None, "", None)
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        schema[f.name] = Setting(
            base,
            required=required,
            default=default,
            choices=rules.choices,
            minimum=rules.minimum,
            maximum=rules.maximum,
            help=rules.help,
            check=rules.check,
        )
    return schema


def settings_from(cls: type[T], values: Mapping[str, Any]) -> T:
    """Build the settings dataclass from a device's settings mapping.

    The hub hands devices settings it validated against ``settings_schema(cls)`` (every
    key known, defaults filled in). A key left out or set to None takes the field's
    default, so that a context built by hand in a test needs only what matters to it.

    Raises:
        TypeError: a key is not a field of ``cls``, or a required one is missing.
    """
    fields = _fields(cls)
    known = {f.name for f, _ in fields}
    unknown = sorted(str(k) for k in values if k not in known)
    if unknown:
        raise TypeError(f"{cls.__name__}: unknown settings: {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    for f, base in fields:
        value = values.get(f.name)
        if value is None:
            continue
        if base is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        kwargs[f.name] = value
    return cls(**kwargs)
