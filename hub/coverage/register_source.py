"""Where the register reads what it is built from: the seams to the other stores.

* ``open_reader``: the coverage log (``coverage.sqlite`` in the journal's directory),
  as a ``CoverageReader``.
* ``sealed_scenes``: the scenes the escalation engine preserved after a hold-up, read
  from its outbox on a read-only connection, as the register's ``Hold`` windows.
* ``register_path``: the register's own file (``register.sqlite``) beside them.

Each reads on its own, read-only, so ``ecrin register show`` runs beside a running hub.
"""

from __future__ import annotations

from pathlib import Path

from hub.config import Config
from hub.coverage.model import CoverageReader
from hub.coverage.register import SEALED_SCENE, Hold
from hub.coverage.register_store import REGISTER_FILE
from hub.coverage.report_source import coverage_path as _coverage_path
from hub.coverage.report_source import open_reader as report_open_reader
from hub.coverage.store import COVERAGE_FILE
from hub.escalation.config import EscalationSettings
from hub.escalation.outbox import OutboxError, read_scenes

__all__ = [
    "COVERAGE_FILE",
    "CoverageLogMissing",
    "SourceError",
    "coverage_path",
    "open_reader",
    "register_path",
    "sealed_scenes",
]


class SourceError(Exception):
    """What the register is built from cannot be read; one line naming the file."""


class CoverageLogMissing(SourceError):
    """There is no coverage log (yet) where the configuration puts it."""


def coverage_path(config: Config) -> Path:
    """The coverage log of a configuration: ``coverage.sqlite`` beside the journal."""
    return _coverage_path(config)


def register_path(config: Config) -> Path:
    """The register's file of a configuration: ``register.sqlite`` beside the journal."""
    return config.journal.path.parent / REGISTER_FILE


def open_reader(path: Path) -> CoverageReader:
    """The coverage log at ``path``, for reading.

    Raises:
        CoverageLogMissing: there is no file at ``path`` (the hub has not run with the
            coverage feature yet, or the journal's directory is another).
        SourceError: the log cannot be read.
    """
    if not path.is_file():
        raise CoverageLogMissing(
            f"{path}: no coverage log: the hub writes it while it runs"
            " (or rebuild it from the journal: ecrin coverage rebuild -c FILE)"
        )
    return report_open_reader(path)  # its failures: CoverageLogUnavailable


def sealed_scenes(config: Config) -> list[Hold]:
    """The recordings kept for sealed scenes, one ``Hold`` per scene and camera.

    Raises:
        SourceError: the escalation outbox exists but cannot be read (a register that
            left a sealed scene out would give a destruction date to kept recordings).
    """
    settings = config.section("escalation", EscalationSettings)
    if settings is None:
        return []
    try:
        scenes = read_scenes(settings.outbox_path)
    except OutboxError as exc:
        raise SourceError(str(exc)) from exc
    return [
        Hold(
            camera,
            scene.window_start,
            scene.window_end,
            SEALED_SCENE,
            scene.escalation_id,
            scene.released_at,
        )
        for scene in scenes
        for camera in scene.cameras
    ]
