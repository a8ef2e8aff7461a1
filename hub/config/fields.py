"""Reading typed fields out of the positioned YAML tree, reporting every mistake.

Each reader returns a usable value even when the input is wrong (the default, or an
empty one) after recording the issue: the loader can then carry on and find every
other mistake in the same pass, and it refuses the whole file at the end if anything
was recorded. A value already reported as unreadable (``INVALID``) is skipped
silently, so one mistake is one line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

from hub.config.issues import IssueLog, describe
from hub.yamlsource import INVALID, YMap, YNode, YScalar, YSeq, join_path

__all__ = ["ID_PATTERN", "Section", "as_map", "as_sequence", "read_id", "read_string"]

#: Ids go into MQTT topics, URLs and file names: keep them plain.
ID_PATTERN: Final = re.compile(r"[a-z0-9_-]{1,64}")


def _invalid(node: YNode) -> bool:
    return isinstance(node, YScalar) and node.value is INVALID


def as_map(log: IssueLog, node: YNode, path: str, what: str = "a mapping") -> YMap | None:
    """The node as a mapping, or None (reported)."""
    if isinstance(node, YMap):
        return node
    if not _invalid(node):
        log.add(node, path, f"expected {what}, got {describe(node)}")
    return None


def as_sequence(log: IssueLog, node: YNode | None, path: str) -> tuple[YNode, ...]:
    """A list's items; empty when absent, empty or wrong (reported)."""
    if node is None or _invalid(node):
        return ()
    if isinstance(node, YSeq):
        return node.items
    log.add(node, path, f"expected a list, got {describe(node)}")
    return ()


def read_string(log: IssueLog, node: YNode, path: str, *, empty_ok: bool = False) -> str | None:
    """The node as a string, or None (reported)."""
    if _invalid(node):
        return None
    if not isinstance(node, YScalar) or not isinstance(node.value, str):
        log.add(node, path, f"expected a string, got {describe(node)}")
        return None
    if not empty_ok and not node.value.strip():
        log.add(node, path, "must not be empty")
        return None
    return node.value


def read_id(log: IssueLog, node: YNode, path: str) -> str | None:
    """The node as an id (lowercase letters, digits, ``-`` and ``_``), or None."""
    value = read_string(log, node, path)
    if value is None:
        return None
    if not ID_PATTERN.fullmatch(value):
        log.add(
            node,
            path,
            f"{value!r} is not a valid id: use 1 to 64 lowercase letters, digits, '-' or '_'",
        )
        return None
    return value


class Section:
    """One YAML mapping being read: typed getters, and unknown keys reported at once.

    Args:
        log: where issues go.
        node: the mapping.
        path: its key path ("" for the document root).
        known: the keys it may hold, in the order the docs list them.
        required: the keys it must hold (a missing one is reported at the mapping).
    """

    def __init__(
        self,
        log: IssueLog,
        node: YMap,
        path: str,
        known: Sequence[str],
        required: Iterable[str] = (),
    ) -> None:
        self.log = log
        self.node = node
        self.path = path
        known_list = ", ".join(known)
        for key, entry in node.entries.items():
            if key in known:
                continue
            close = difflib.get_close_matches(entry.key.text, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            log.add(
                entry.key,
                self.at(entry.key.text),
                f"unknown key{hint} (known: {known_list})",
            )
        for key in required:
            value = node.get(key)
            if value is None:
                log.add(node, self.at(key), "required key is missing")
            elif self.get(key) is None:
                log.add(value, self.at(key), "required key has no value")

    def at(self, key: object) -> str:
        """The key path of ``key`` in this mapping."""
        return join_path(self.path, key)

    def get(self, key: str) -> YNode | None:
        """The node of ``key``; None when absent or written empty (``key:``)."""
        node = self.node.get(key)
        if isinstance(node, YScalar) and node.value is None and node.tag is None:
            return None
        return node

    def string(self, key: str, default: str = "") -> str:
        """A non-empty string; ``default`` when absent or wrong (reported)."""
        node = self.get(key)
        if node is None:
            return default
        value = read_string(self.log, node, self.at(key))
        return default if value is None else value

    def optional_string(self, key: str) -> str | None:
        """A non-empty string, or None when absent (or wrong, reported)."""
        node = self.get(key)
        return None if node is None else read_string(self.log, node, self.at(key))

    def id(self, key: str) -> str | None:
        """An id, or None when absent or wrong (reported)."""
        node = self.get(key)
        return None if node is None else read_id(self.log, node, self.at(key))

    def integer(
        self,
        key: str,
        default: int,
        *,
        minimum: int,
        maximum: int,
        too_high: str | None = None,
    ) -> int:
        """A whole number within bounds; ``too_high`` explains an upper limit (it is
        appended to the value: "45 days is too long: ...")."""
        node = self.get(key)
        if node is None or _invalid(node):
            return default
        value: Any = node.value if isinstance(node, YScalar) else None
        if not isinstance(value, int) or isinstance(value, bool):
            self.log.add(node, self.at(key), f"expected an integer, got {describe(node)}")
            return default
        if value < minimum:
            self.log.add(node, self.at(key), f"{value} is below the minimum {minimum}")
            return default
        if value > maximum:
            reason = (
                f"{value} {too_high}" if too_high else f"{value} is above the maximum {maximum}"
            )
            self.log.add(node, self.at(key), reason)
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        """``true`` or ``false``."""
        node = self.get(key)
        if node is None or _invalid(node):
            return default
        if isinstance(node, YScalar) and isinstance(node.value, bool):
            return node.value
        self.log.add(node, self.at(key), f"expected true or false, got {describe(node)}")
        return default

    def choice(self, key: str, choices: Sequence[str], default: str | None = None) -> str:
        """One of ``choices`` (``default``, else the first, when absent or wrong)."""
        node = self.get(key)
        if node is None:
            return default or choices[0]
        value = read_string(self.log, node, self.at(key))
        if value is None:
            return default or choices[0]
        if value not in choices:
            allowed = ", ".join(choices)
            self.log.add(node, self.at(key), f"{value!r} is not one of: {allowed}")
            return default or choices[0]
        return value

    def mapping(self, key: str) -> YMap | None:
        """A nested mapping; None when absent, empty or wrong (reported)."""
        node = self.get(key)
        return None if node is None else as_map(self.log, node, self.at(key))

    def sequence(self, key: str) -> tuple[YNode, ...]:
        """A list's items; empty when absent, empty or wrong (reported)."""
        return as_sequence(self.log, self.get(key), self.at(key))
