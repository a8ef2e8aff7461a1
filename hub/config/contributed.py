"""Top-level sections of the shop file that plugins contribute, and their reading.

The core reads ``site``, ``zones``, ``devices``, ``cameras``, ``http``, ``mqtt``,
``plugins`` and ``journal``. Every other top-level key belongs to a feature (the
escalation's ``contacts`` and ``escalation``, the cameras', the coverage log's...),
which declares it through the ``register_config_sections`` hook as a
``ConfigSection``: its key, and a reader that gets the YAML node and a
``SectionContext`` and returns a typed value. The reader reports problems through
the context's issue log, in the same ``FILE:LINE:COLUMN: key.path: reason`` shape as
the core's, and the loader collects them with every other one, so ``ecrin
check-config`` still lists all the problems of a file at once.

The feature gets its value back with ``Config.section(key, kind)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hub.config.issues import ConfigIssue, IssueLog
from hub.yamlsource import YNode

if TYPE_CHECKING:
    from hub.config.model import CameraConfig, Config, DeviceConfig, Site, Zone

__all__ = ["ConfigSection", "SectionContext", "reading_order"]


@dataclass(frozen=True, slots=True)
class SectionContext:
    """What a contributed section's reader is given.

    Attributes:
        log: the configuration file's issues: ``log.add(node, key_path, reason)``
            reports at the node's line and column.
        config_dir: the configuration's directory (absolute), for relative paths.
        site: the shop, as read (fields are empty where the file is wrong).
        zones: the shop's zones, as read.
        devices: the devices, as read.
        cameras: the cameras, as read.
        sections: the contributed sections read before this one, by key (a section
            that names them in ``after`` finds them here).
        other_files: the problems found in other files the sections name, shared by
            every section's context; add to it with ``report_file_issues``.
    """

    log: IssueLog
    config_dir: Path
    site: Site
    zones: tuple[Zone, ...]
    devices: tuple[DeviceConfig, ...]
    cameras: tuple[CameraConfig, ...]
    sections: Mapping[str, object]
    other_files: list[ConfigIssue] = field(default_factory=list)

    def report_file_issues(self, issues: Iterable[ConfigIssue]) -> None:
        """Report problems found in another file the section names (a calendar):
        they are listed after the configuration's own, each against its file."""
        self.other_files.extend(issues)


@dataclass(frozen=True, slots=True)
class ConfigSection:
    """A top-level section of the shop file, contributed by a plugin.

    Attributes:
        key: the top-level key (``escalation``); it must not be a core section's.
        read: called with the section's node (None when the key is absent or written
            empty) and a ``SectionContext``; returns the typed value (None for "not
            configured"), after reporting every problem through ``context.log``. It
            must not raise on bad input, and should return a usable value even then,
            so that the other sections are still checked.
        after: keys of other contributed sections this one needs read first (their
            values are in ``context.sections``).
        summary: what ``ecrin check-config`` adds to its one-line summary of a valid
            file ("2 contacts"), given the configuration; None adds nothing.
        doc: one line for the list of known keys and the docs.
    """

    key: str
    read: Callable[[YNode | None, SectionContext], object]
    after: tuple[str, ...] = ()
    summary: Callable[[Config], Sequence[str]] | None = None
    doc: str = ""


def reading_order(sections: Iterable[ConfigSection]) -> list[ConfigSection]:
    """The sections in a stable order: by key, except that a section comes after
    those it names in ``after``.

    Raises:
        ValueError: a section needs one that nobody contributes, or they need each
            other.
    """
    pending: dict[str, ConfigSection] = {s.key: s for s in sections}
    for section in pending.values():
        missing = [k for k in section.after if k not in pending]
        if missing:
            raise ValueError(
                f"config section {section.key!r} needs {', '.join(map(repr, missing))},"
                " which no loaded plugin contributes"
            )
    done: list[ConfigSection] = []
    placed: set[str] = set()
    while pending:
        ready = sorted(k for k, s in pending.items() if set(s.after) <= placed)
        if not ready:
            raise ValueError(
                f"config sections {', '.join(sorted(pending))} each need another read first"
            )
        section = pending.pop(ready[0])
        done.append(section)
        placed.add(section.key)
    return done
