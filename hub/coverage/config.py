"""The ``coverage:`` section: whether the hub keeps the coverage log, and its heartbeat.

The coverage feature owns its section: the ``coverage`` plugin contributes it to the
loader (``CONFIG_SECTIONS``, through ``register_config_sections``) and ``coverage_of``
reads it back from a loaded ``Config``. Absent, the log is kept with a heartbeat a
minute: a shop that films under a prefectoral authorisation needs the evidence
without having to ask for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.config import Config, ConfigSection, SectionContext
from hub.config.fields import Section, as_map
from hub.coverage.store import coverage_path
from hub.yamlsource import YNode

__all__ = [
    "CONFIG_SECTIONS",
    "COVERAGE_KEYS",
    "SECTION_KEY",
    "CoverageLayout",
    "CoverageSettings",
    "coverage_of",
    "read_coverage",
]

SECTION_KEY: Final = "coverage"
COVERAGE_KEYS: Final = ("enabled", "heartbeat_seconds")


@dataclass(frozen=True, slots=True)
class CoverageSettings:
    """The ``coverage:`` section.

    Attributes:
        enabled: keep the coverage log (on unless switched off).
        heartbeat_seconds: how often the hub journals that it is alive (``HubAlive``).
            After a crash, what was open is closed at the last heartbeat, and the
            time since counts as hub down: the shorter, the less of it, and the more
            journal rows (one a minute is 1,440 a day).
    """

    enabled: bool = True
    heartbeat_seconds: int = 60


@dataclass(frozen=True, slots=True)
class CoverageLayout:
    """What the coverage log is made from in a loaded configuration.

    Attributes:
        journal: the journal it follows.
        path: its own file, beside the journal.
        cameras: each configured camera and the shop zones it films.
        zones: the shop's zones.
    """

    journal: Path
    path: Path
    cameras: dict[str, tuple[str, ...]]
    zones: tuple[str, ...]

    @classmethod
    def of(cls, config: Config, journal: Path | None = None) -> CoverageLayout:
        """The layout of ``config`` (``journal`` overrides its journal path, as
        ``Hub(journal_path=...)`` does)."""
        journal = journal or config.journal.path
        return cls(
            journal=journal,
            path=coverage_path(journal),
            cameras={c.id: tuple(c.zones) for c in config.cameras},
            zones=tuple(z.id for z in config.zones),
        )


def read_coverage(node: YNode | None, ctx: SectionContext) -> CoverageSettings:
    """``coverage:``; the defaults (on, 60 s) when absent or wrong."""
    defaults = CoverageSettings()
    ymap = as_map(ctx.log, node, SECTION_KEY) if node is not None else None
    if ymap is None:
        return defaults
    section = Section(ctx.log, ymap, SECTION_KEY, COVERAGE_KEYS)
    return CoverageSettings(
        enabled=section.boolean("enabled", defaults.enabled),
        heartbeat_seconds=section.integer(
            "heartbeat_seconds",
            defaults.heartbeat_seconds,
            minimum=1,
            maximum=3600,
            too_high="seconds is too long: after a crash, up to that long before it would"
            " count as hub down",
        ),
    )


def _summary(config: Config) -> Sequence[str]:
    settings = coverage_of(config)
    if settings is None or not settings.enabled:
        return []
    return [f"coverage log (heartbeat {settings.heartbeat_seconds} s)"]


CONFIG_SECTIONS: Final = (
    ConfigSection(
        SECTION_KEY,
        read_coverage,
        summary=_summary,
        doc="the video-surveillance coverage log (on by default); see docs/coverage.md",
    ),
)


def coverage_of(config: Config) -> CoverageSettings | None:
    """The section's value; None when no loaded plugin contributes it."""
    return config.section(SECTION_KEY, CoverageSettings)
