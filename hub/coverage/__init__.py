"""The coverage feature: when each camera was there and recording, and what that
means for each shop zone, kept as evidence for the video-surveillance authorisation
request (Cerfa 13806) and the register the law asks for (CSI L252-5).

``hub.coverage.model`` holds the contracts the log, the report, the register and the
HTTP side share; the modules beside it implement them.
"""

from hub.coverage.config import CoverageLayout, CoverageSettings, coverage_of
from hub.coverage.live import LiveCoverageLog
from hub.coverage.store import (
    CatchUp,
    CoverageBusy,
    CoverageError,
    CoverageLog,
    CoverageWriter,
    coverage_path,
    rebuild,
)
from hub.coverage.tracker import CoverageTracker

__all__ = [
    "CatchUp",
    "CoverageBusy",
    "CoverageError",
    "CoverageLayout",
    "CoverageLog",
    "CoverageSettings",
    "CoverageTracker",
    "CoverageWriter",
    "LiveCoverageLog",
    "coverage_of",
    "coverage_path",
    "rebuild",
]
