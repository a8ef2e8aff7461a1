"""A small schema language for device settings declared by plugins.

Plugins declare the settings their device type takes as a mapping of names to
``Setting``; the configuration loader validates each device's settings against it and
reports every problem with its file, line and key path. It is deliberately tiny (types,
required, default, choices, bounds, and a check of one's own for what those cannot
say) so that a plugin author can read it in one go and the loader can point at the
exact line of a mistake.

A setting whose value is a mapping or a list (a camera's ``availability: {topic: ...,
online: ...}``) is checked by its own ``check``, which may return one
``SettingProblem`` per mistake inside the value, each with the path to it: the loader
then reports each at its own line and column (``...settings.availability.topic``)
rather than all at the setting's first line.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Check", "Schema", "Setting", "SettingError", "SettingProblem", "validate_settings"]


@dataclass(frozen=True, slots=True)
class SettingProblem:
    """One mistake inside a setting's value (a mapping or a list), found by its check.

    Attributes:
        path: the keys (as the mapping holds them) and list indexes from the setting's
            value down to what is wrong: ``("topic",)`` for the ``topic`` of a mapping,
            ``(2, "id")`` for the ``id`` of its third item, ``()`` for the value as a
            whole. A path that stops existing part way (a required key that is absent)
            is reported at the deepest part that exists, under the full path.
        reason: what is wrong, and what is allowed.
        at_key: point at the last key rather than its value (a key that is not known).
    """

    path: tuple[Hashable, ...]
    reason: str
    at_key: bool = False


#: A setting's own check: why a value of the right type is refused (one reason, or one
#: ``SettingProblem`` per mistake inside a mapping or a list), or None (or no problem).
Check = Callable[[Any], str | Sequence[SettingProblem] | None]


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting of a device type.

    Attributes:
        type: the Python type expected: ``str``, ``int``, ``float``, ``bool``, ``list``
            or ``dict`` (an ``int`` is accepted where a ``float`` is expected).
        required: the setting must be present.
        default: the value used when absent (ignored when ``required``).
        choices: the allowed values, when the setting is an enumeration.
        minimum: the lowest allowed number (inclusive).
        maximum: the highest allowed number (inclusive).
        help: one line for the docs and for ``ecrin plugins``.
        check: called with a value of the right type, once the other rules pass; it
            returns why the value is refused (reported at the setting's line), or None.
            For what types and bounds cannot say, such as the form of each item of a
            list. For a mapping or a list, it may return a sequence of
            ``SettingProblem`` instead: each is reported at its own line and column.
            It must not raise, whatever the value holds.
    """

    type: type
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    check: Check | None = None

    def describe(self) -> dict[str, Any]:
        """A JSON-able description (used by ``ecrin plugins``)."""
        out: dict[str, Any] = {"type": self.type.__name__, "required": self.required}
        if not self.required:
            out["default"] = self.default
        if self.choices is not None:
            out["choices"] = list(self.choices)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.help:
            out["help"] = self.help
        return out


Schema = Mapping[str, Setting]


@dataclass(frozen=True, slots=True)
class SettingError:
    """A problem with one setting.

    Attributes:
        key: the setting (relative to the settings).
        reason: why.
        path: where inside the setting's value, for a check's ``SettingProblem``
            (empty: the setting as a whole).
        at_key: the problem is the last key of ``path`` itself (unknown), not its value.
    """

    key: str
    reason: str
    path: tuple[Hashable, ...] = ()
    at_key: bool = False

    def where(self) -> str:
        """The key path from the settings down, for a message: ``availability.topic``,
        ``zones[2]``."""
        text = self.key
        for part in self.path:
            index = isinstance(part, int) and not isinstance(part, bool)
            text += f"[{part}]" if index else f".{part}"
        return text


def _type_ok(expected: type, value: Any) -> bool:
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def validate_settings(
    schema: Schema, values: Mapping[str, Any]
) -> tuple[dict[str, Any], list[SettingError]]:
    """Check ``values`` against ``schema``.

    Returns:
        The settings with defaults filled in, and every error found (empty when valid).
        All errors are collected, not just the first, so an installer fixes a file in
        one pass.
    """
    out: dict[str, Any] = {}
    errors: list[SettingError] = []
    for key in values:
        if key not in schema:
            known = ", ".join(sorted(schema)) or "none"
            errors.append(SettingError(str(key), f"unknown setting (known: {known})"))
    for key, setting in schema.items():
        if key not in values:
            if setting.required:
                errors.append(SettingError(key, "required setting is missing"))
            else:
                out[key] = setting.default
            continue
        value = values[key]
        if not _type_ok(setting.type, value):
            errors.append(
                SettingError(
                    key,
                    f"expected {setting.type.__name__}, got {type(value).__name__} ({value!r})",
                )
            )
            continue
        if setting.choices is not None and value not in setting.choices:
            allowed = ", ".join(map(str, setting.choices))
            errors.append(SettingError(key, f"{value!r} is not one of: {allowed}"))
            continue
        if setting.minimum is not None and value < setting.minimum:
            errors.append(SettingError(key, f"{value!r} is below the minimum {setting.minimum}"))
            continue
        if setting.maximum is not None and value > setting.maximum:
            errors.append(SettingError(key, f"{value!r} is above the maximum {setting.maximum}"))
            continue
        problems = _checked(setting.check, value) if setting.check is not None else []
        if problems:
            errors += [SettingError(key, p.reason, p.path, p.at_key) for p in problems]
            continue
        out[key] = float(value) if setting.type is float else value
    return out, errors


def _checked(check: Check, value: Any) -> list[SettingProblem]:
    """A check's verdict as a list of problems (a reason is a problem of the whole)."""
    verdict = check(value)
    if verdict is None:
        return []
    if isinstance(verdict, str):
        return [SettingProblem((), verdict)]
    return list(verdict)
