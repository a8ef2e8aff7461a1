"""``GET /api/v1/reports/coverage`` as the running hub serves it: each report made by a
real child process (``python -m hub.report_child``) from a real shop file, journal and
coverage log on disk, over real HTTP.

The shop and its day are those of ``tests/coverage/test_report_from_journal.py`` (12
March 2024, pinned): its journal is written by the journal's own writer and its
coverage log made from it by the hub's own code (``rebuild``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.config import load_config
from hub.coverage.report_child import (
    ChildReports,
    ReportRequest,
    read_failure_line,
)
from hub.coverage.report_runs import REASONS, ReportFailed, ReportMaker
from hub.coverage.report_source import ReportSource, coverage_path
from hub.coverage.store import rebuild
from hub.plugins import PluginManager
from hub.report_child import OOM_SCORE_ADJ, PRIORITY_DROP
from tests.coverage.scripted import write_journal
from tests.coverage.test_report_from_journal import day, shop_file_text
from tests.http.conftest import REPORT_FORMATS, Client
from tests.http.report_child_hooks import HOOK

R = "/api/v1/reports/coverage"
DAY = "from=2024-03-12&to=2024-03-12"
HOOKS = "tests.http.report_child_hooks"
CHILD_LOG = "hub.coverage.report_child"


def _shop_file(directory: Path) -> Path:
    """The scripted shop's file: the cameras' type comes from the cameras plugin."""
    path = directory / "shop.yaml"
    path.write_text(shop_file_text(directory / "journal.db"), encoding="utf-8")
    return path


@pytest.fixture
async def shop_file(tmp_path: Path) -> Path:
    """A shop file, its journal holding the scripted day, and the coverage log made
    from that journal."""
    directory = tmp_path / "shop"
    directory.mkdir()
    path = _shop_file(directory)
    manager = PluginManager.from_environment()
    config = load_config(path, manager.device_types(), manager.config_sections())
    await write_journal(config.journal.path, day())
    cameras = {c.id: c.zones for c in config.cameras}
    rebuild(config.journal.path, coverage_path(config), cameras, [z.id for z in config.zones])
    return path


@pytest.fixture(autouse=True)
def no_stray_children() -> Iterator[None]:
    """Every test ends with no report process left, running or unreaped."""
    yield
    assert _children(HOOKS) == _children("hub.report_child") == []


@pytest.fixture
def child_settings() -> dict[str, Any]:
    """``ChildReports``' keyword arguments: the hub's own, unless a test says."""
    return {}


@pytest.fixture
def report_maker(shop_file: Path, child_settings: dict[str, Any]) -> ReportMaker:
    """The running hub's reports: made by child processes (``hub.app`` does the same)."""
    return ChildReports(shop_file, **child_settings)


def _children(module: str) -> list[int]:
    """The pids of this process's children running ``python -m module``."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and module.encode() in cmdline:
            found.append(int(entry.name))
    return found


async def _child_of(module: str) -> int:
    """The pid of the one child running ``module``, once it has started."""
    async with asyncio.timeout(20):
        while not (pids := _children(module)):
            await asyncio.sleep(0.02)
    assert len(pids) == 1
    return pids[0]


def _gone(pid: int) -> bool:
    """True when the process is neither running nor a zombie left unreaped."""
    return not Path(f"/proc/{pid}").exists()


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "generated_at"}


# -- what the child makes ------------------------------------------------------------------


async def test_the_childs_json_report_is_the_hubs_own(client: Client, shop_file: Path) -> None:
    reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 200, reply.text
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    from_child = reply.body
    manager = PluginManager.from_environment()
    config = load_config(shop_file, manager.device_types(), manager.config_sections())
    here, _ = ReportSource.of(config).make("2024-03-12", "2024-03-12", "json")
    in_process = json.loads(here)
    assert _without_time(from_child) == _without_time(in_process)
    counter = next(z for z in from_child["zones"] if z["id"] == "counter")
    assert counter["covered_seconds"] == 14.5 * 3600  # the day's figure, not an empty log


@pytest.mark.parametrize(("fmt", "media_type", "start"), REPORT_FORMATS)
async def test_each_format_from_the_child(
    client: Client, fmt: str, media_type: str, start: bytes
) -> None:
    reply = await client.get(f"{R}?{DAY}&format={fmt}", who="installer")
    assert reply.status == 200, reply.text
    assert reply.headers["Content-Type"].split(";")[0] == media_type
    assert reply.raw.startswith(start)


@pytest.mark.parametrize("child_settings", [{"entry": HOOKS}])
async def test_what_a_library_prints_never_reaches_the_report(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOOK, "print")
    reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 200, reply.text
    assert "chatter" not in reply.text
    assert reply.body["period"]["seconds"] == 24 * 3600


@pytest.mark.parametrize("child_settings", [{"entry": HOOKS}])
async def test_a_child_chattering_on_its_errors_is_still_understood(
    client: Client, shop_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2.4 MB on standard error: the hub keeps its end only, which is enough for the
    report and for the failure line written last."""
    monkeypatch.setenv(HOOK, "chatter")
    reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 200, reply.text
    assert reply.body["period"]["seconds"] == 24 * 3600
    shop_file.write_text("site: [unclosed\n", encoding="utf-8")
    reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 503
    assert reply.body == {"error": "unavailable", "reason": REASONS["config"]}


# -- what a failure is answered -------------------------------------------------------------


async def test_a_bad_period_is_a_400_with_its_message(client: Client) -> None:
    reply = await client.get(f"{R}?from=2024-03-13&to=2024-03-12", who="installer")
    assert reply.status == 400
    assert reply.body == {
        "error": "invalid_query",
        "reason": "from 2024-03-13 is not before to 2024-03-12: the period is empty",
    }
    assert _children(HOOKS) == _children("hub.report_child") == []


async def test_no_coverage_log_is_a_503_naming_no_file(client: Client, shop_file: Path) -> None:
    (shop_file.parent / "coverage.sqlite").unlink()
    reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 503
    assert reply.body == {"error": "unavailable", "reason": REASONS["log"]}
    assert "/" not in reply.body["reason"]


async def test_an_unreadable_shop_file_is_a_503(client: Client, shop_file: Path) -> None:
    shop_file.write_text("site: [unclosed\n", encoding="utf-8")
    reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 503
    assert reply.body == {"error": "unavailable", "reason": "the shop file cannot be read"}


@pytest.mark.parametrize("child_settings", [{"entry": HOOKS}])
async def test_a_killed_child_is_a_503_and_one_warning(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(HOOK, "die")
    with caplog.at_level(logging.WARNING, logger=CHILD_LOG):
        reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 503
    assert reply.body == {"error": "unavailable", "reason": REASONS["failed"]}
    warnings = [r.getMessage() for r in caplog.records if r.name == CHILD_LOG]
    assert warnings == [
        "coverage report not made: its process ended (killed by SIGKILL (out of memory?))"
    ]
    token = client.people.tokens["installer"]
    assert all(token not in line for line in caplog.messages)


@pytest.mark.parametrize("child_settings", [{"max_report": 1000}])
async def test_a_report_over_its_bound_is_a_503_and_its_child_stopped(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=CHILD_LOG):
        reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 503
    assert reply.body == {
        "error": "unavailable",
        "reason": "the report is too large to be sent; ask for a shorter period",
    }
    assert "coverage report over 1000 bytes" in caplog.text
    assert _children("hub.report_child") == []


# -- the child loses every competition, and never outlives its request ----------------------


@pytest.mark.parametrize("child_settings", [{"entry": HOOKS, "deadline": 1.0}])
async def test_past_its_deadline_the_child_is_killed(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(HOOK, "hold")
    with caplog.at_level(logging.WARNING, logger=CHILD_LOG):
        asking = asyncio.create_task(client.get(f"{R}?{DAY}", who="installer"))
        pid = await _child_of(HOOKS)
        async with asyncio.timeout(20):
            reply = await asking
    assert reply.status == 503
    assert reply.body == {
        "error": "unavailable",
        "reason": "the report took longer than 1 s; ask for a shorter period",
    }
    assert _gone(pid)
    assert _children(HOOKS) == []
    assert "not made within 1 s" in caplog.text


def _niceness(pid: int) -> int:
    """Field 19 of ``/proc/PID/stat``; the fields after the name start at the third."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19 - 3])


async def test_the_child_is_niced_first_to_die_and_stopped_when_cancelled(
    shop_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOOK, "hold")
    reports = ChildReports(shop_file, entry=HOOKS)
    making = asyncio.create_task(reports.make("2024-03-12", "2024-03-12", "json", ("from", "to")))
    pid = await _child_of(HOOKS)
    # Its set-up done (the out-of-memory score is its last step), held in its hook.
    oom_score = Path(f"/proc/{pid}/oom_score_adj")
    async with asyncio.timeout(20):
        while oom_score.read_text().strip() != OOM_SCORE_ADJ:
            await asyncio.sleep(0.02)
    assert _niceness(pid) == min(os.nice(0) + PRIORITY_DROP, 19)
    making.cancel()
    with pytest.raises(asyncio.CancelledError):
        await making
    assert _gone(pid)


@pytest.mark.parametrize("child_settings", [{"entry": HOOKS}])
async def test_a_client_that_goes_away_stops_its_report(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOOK, "hold")
    async with aiohttp.ClientSession() as session:
        asking = asyncio.create_task(
            session.get(f"{client.base}{R}?{DAY}", headers=client.auth("installer"))
        )
        pid = await _child_of(HOOKS)
        asking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asking
    async with asyncio.timeout(20):
        while not _gone(pid):
            await asyncio.sleep(0.05)
    # The route is free again: the next report is made.
    monkeypatch.setenv(HOOK, "")
    async with asyncio.timeout(60):
        reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 200


# -- the exchange ---------------------------------------------------------------------------


def test_a_request_goes_through_whatever_was_typed() -> None:
    request = ReportRequest(Path("/shop.yaml"), "2024\x00-03", "\udcff", "csv", ("a", "b"), 7)
    assert ReportRequest.decode(request.encode()) == request


@pytest.mark.parametrize(
    "stderr",
    [
        b"",
        b"Traceback (most recent call last):\n",
        b'{"kind": "period", "message": ""}\n',
        b'{"kind": "anything", "message": ""}\n',
        b'["period"]\n',
    ],
)
def test_a_line_that_tells_no_failure_is_none(stderr: bytes) -> None:
    assert read_failure_line(stderr) is None


def test_a_failure_line_keeps_the_period_message_only() -> None:
    period = read_failure_line(b'warning\n{"kind": "period", "message": "to: no"}\n')
    assert isinstance(period, ReportFailed)
    assert (period.kind, period.reason, period.invalid) == ("period", "to: no", True)
    log = read_failure_line(b'{"kind": "log", "message": "/var/lib/ecrin/coverage.sqlite"}')
    assert isinstance(log, ReportFailed)
    assert (log.kind, log.reason, log.invalid) == ("log", REASONS["log"], False)
