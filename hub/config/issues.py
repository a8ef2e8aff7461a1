"""Configuration problems, each one line that an editor or CI can jump to.

Every problem, from a YAML syntax error to a zone that does not exist, comes out in
the same shape, ``FILE:LINE:COLUMN: key.path: reason``, the format compilers and
linters use, so that installers' editors link it to the spot and scripts can parse it.
A warning (something that works but should be mended, such as a secret written in the
shop file) reads ``FILE:LINE:COLUMN: warning: key.path: reason`` and does not make the
configuration invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from hub.yamlsource import Mark, YMap, YNode, YSeq

__all__ = ["ERROR", "WARNING", "ConfigError", "ConfigIssue", "IssueLog", "describe"]

#: The severities of an issue: an error makes the configuration invalid; a warning
#: is reported and the configuration is used.
ERROR: Final = "error"
WARNING: Final = "warning"


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a configuration file.

    Attributes:
        file: the file as the user named it (the configuration or its secrets file).
        line: 1-based line.
        column: 1-based column.
        key_path: where in the document, e.g. ``devices[2].settings.baudrate``
            (list indexes count from 0), or ``<file>``, ``<yaml>``, ``<root>`` for
            problems with the file, its syntax or the document as a whole.
        reason: what is wrong, and what is allowed.
        severity: ``ERROR`` or ``WARNING``.
    """

    file: str
    line: int
    column: int
    key_path: str
    reason: str
    severity: str = ERROR

    def __str__(self) -> str:
        mark = "warning: " if self.severity == WARNING else ""
        return f"{self.file}:{self.line}:{self.column}: {mark}{self.key_path}: {self.reason}"


class ConfigError(Exception):
    """The configuration is invalid; ``issues`` holds every problem found, in file order.

    ``partial`` is the configuration as far as it could be read (None when the file
    could not be parsed at all). ``ecrin run`` uses it to keep running the devices
    that are fine when only some devices are wrong; ``check-config`` ignores it.
    ``warnings`` are the warnings found alongside, reported with the errors.
    """

    def __init__(
        self,
        issues: list[ConfigIssue],
        partial: Any = None,
        warnings: Sequence[ConfigIssue] = (),
    ) -> None:
        super().__init__("\n".join(map(str, issues)))
        self.issues = issues
        self.partial = partial
        self.warnings = tuple(warnings)


class IssueLog:
    """Collects the issues of one file while the loader walks it."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[ConfigIssue] = []

    def add(self, where: YNode | Mark, path: str, reason: str, *, severity: str = ERROR) -> None:
        """Record a problem (or, with ``severity=WARNING``, a warning) at a node (or a
        mark) under ``path``."""
        mark = where if isinstance(where, Mark) else where.mark
        self.issues.append(ConfigIssue(self.file, mark.line, mark.column, path, reason, severity))


def describe(node: YNode) -> str:
    """What a value is, for messages ("a list", "an integer (8)"); never shows a secret."""
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    text = node.text if len(node.text) <= 40 else node.text[:37] + "..."
    if not text.isprintable():
        text = repr(text)
    if node.tag is not None:
        return f"{node.tag} {text}"
    value = node.value
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({text})"
    if isinstance(value, int):
        return f"an integer ({text})"
    if isinstance(value, float):
        return f"a number ({text})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    return f"a {type(value).__name__} ({text})"
