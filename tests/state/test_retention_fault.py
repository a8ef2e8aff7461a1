"""A retention the NVR does not keep as declared is the camera's technical fault in the
state, cleared by a check that finds them equal; ``ecrin status`` shows it from the
journal."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from hub.events import CameraAvailability, RetentionChecked
from hub.journal import Journal
from hub.state import StateRegistry, status_main

T0 = datetime(2026, 3, 10, 9, tzinfo=UTC)


def checked(actual: float, minute: int) -> RetentionChecked:
    return RetentionChecked(
        time=T0.replace(minute=minute),
        camera="cam-comptoir",
        declared_days=30,
        actual_days=actual,
        source="Frigate GET /api/config",
    )


def fault(registry: StateRegistry) -> str:
    (state,) = [s for s in registry.states() if s.entity_id == "camera:cam-comptoir"]
    return state.attributes.retention_fault  # type: ignore[union-attr]


def test_a_difference_is_a_fault_until_a_check_finds_them_equal() -> None:
    registry = StateRegistry(cameras=["cam-comptoir"])
    registry.apply(CameraAvailability(time=T0, camera="cam-comptoir", state="online"))
    registry.apply(checked(10, 1))
    assert fault(registry) == "NVR keeps 10 days, declared 30 (Frigate GET /api/config)"
    # Another camera event keeps the fault.
    registry.apply(
        CameraAvailability(time=T0.replace(minute=2), camera="cam-comptoir", state="offline")
    )
    assert fault(registry).startswith("NVR keeps 10 days")
    registry.apply(checked(30, 3))
    assert fault(registry) == ""


async def test_ecrin_status_shows_the_fault_from_the_journal(tmp_path: Path) -> None:
    journal = tmp_path / "journal.db"
    async with Journal(journal, verify_on_open=False) as writer:
        await writer.append(
            [CameraAvailability(time=T0, camera="cam-comptoir", state="online"), checked(7.5, 1)]
        )
    out, err = io.StringIO(), io.StringIO()
    assert status_main(journal, out, err, cameras=["cam-comptoir"]) == 0, err.getvalue()
    line = next(x for x in out.getvalue().splitlines() if x.startswith("camera:cam-comptoir"))
    assert 'retention_fault="NVR keeps 7.5 days, declared 30 (Frigate GET /api/config)"' in line
