"""Hand-overs recorded while the hub runs: ``POST /api/v1/register/handovers`` on a real
hub (its journal, its register file, HTTP on loopback, its plugin manager with a camera
plugin that keeps recordings), and ``ecrin register handover --hub`` against it."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.app import Hub
from hub.cli import build_parser
from hub.commands import CommandContext
from hub.config import load_config
from hub.coverage.handover_client import HubUnreachable, read_token
from hub.coverage.register_cli import REGISTER_COMMAND, register_main
from hub.coverage.register_store import read_handovers
from hub.escalation.clock import ManualClock
from hub.events import RecordingsHandedOver, event_from_dict
from hub.hookspecs import hookimpl
from hub.http.tokens import hash_token, new_token
from hub.journal import read_entries
from hub.plugins import PluginManager
from tests.coverage.register_support import SHOP, shop, utc

#: The hub's clock: a hand-over's window must end before it.
NOW = utc(2026, 3, 20, 12)
ROUTE = "/api/v1/register/handovers"
#: 10:00 to 10:40 in Paris on 10 March (UTC+1).
GOOD = {
    "camera": "cam-comptoir",
    "from": "2026-03-10T10:00:00+01:00",
    "to": "2026-03-10T10:40:00+01:00",
    "to_whom": "Parquet de Tours",
    "reference": "PV 2026/123",
}
START, END = utc(2026, 3, 10, 9), utc(2026, 3, 10, 9, 40)


class KeepSpy:
    """A camera plugin's ``keep_recordings``: what the hub asked it to keep."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime, datetime, str]] = []

    @hookimpl
    def keep_recordings(self, camera: str, start: datetime, end: datetime, incident: str) -> None:
        self.calls.append((camera, start, end, incident))


@dataclass
class RunningShop:
    directory: Path
    url: str
    tokens: dict[str, str]
    kept: KeepSpy
    session: aiohttp.ClientSession
    token_files: dict[str, Path] = field(default_factory=dict)

    async def post(self, body: Any, who: str | None = "installer", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
        headers.update(kwargs.pop("headers", {}))
        async with self.session.post(self.url + ROUTE, data=data, headers=headers) as response:
            return response.status, await response.json()

    def journaled(self) -> list[RecordingsHandedOver]:
        entries = read_entries(self.directory / "ecrin-journal.db")
        return [
            e
            for e in (event_from_dict(json.loads(entry.payload)) for entry in entries)
            if isinstance(e, RecordingsHandedOver)
        ]


def shop_text(installer: str, referent: str) -> str:
    contacts = f"""\
contacts:
  - id: installer
    name: Installateur
    role: installer
    scopes: [installer]
    token_sha256: {hash_token(installer)}
  - id: referent-37
    name: Référent sûreté
    role: local_referent
    scopes: [referent]
    token_sha256: {hash_token(referent)}
escalation:
  ladder:
    - contacts: [referent-37]
"""
    head, _contacts, tail = SHOP.partition("contacts:")
    tail = tail[tail.index("      ack_deadline") :]
    return head + contacts + tail + "http: {host: 127.0.0.1}\n"


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[RunningShop]:
    tokens = {"installer": new_token(), "referent": new_token()}
    path = shop(tmp_path, shop_text(tokens["installer"], tokens["referent"]))
    manager = PluginManager()
    manager.load_entry_points()
    kept = KeepSpy()
    manager.register(kept, "keep-spy")
    assert not manager.errors, manager.errors
    config = load_config(path, manager.device_types(), manager.config_sections())
    async with (
        Hub(config, manager, http_port=0, clock=ManualClock(NOW)) as hub,
        aiohttp.ClientSession() as session,
    ):
        assert hub.http_url is not None
        files = {}
        for who, token in tokens.items():
            files[who] = tmp_path / f"{who}.token"
            files[who].write_text(token + "\n", encoding="utf-8")
            files[who].chmod(0o600)
        yield RunningShop(tmp_path, hub.http_url, tokens, kept, session, files)


async def test_the_running_hub_registers_journals_and_keeps_a_handover(
    running: RunningShop,
) -> None:
    status, body = await running.post(GOOD)
    assert status == 201, body
    assert body == {
        "number": 1,
        "camera": "cam-comptoir",
        "from": "2026-03-10T09:00:00Z",
        "to": "2026-03-10T09:40:00Z",
        "to_whom": "Parquet de Tours",
        "reference": "PV 2026/123",
        "recorded_at": "2026-03-20T12:00:00Z",
        "journal_row": body["journal_row"],
    }
    (handover,) = read_handovers(running.directory / "register.sqlite")
    assert (handover.id, handover.camera, handover.start, handover.end) == (
        1,
        "cam-comptoir",
        START,
        END,
    )
    assert (handover.to_whom, handover.reference, handover.recorded_at) == (
        "Parquet de Tours",
        "PV 2026/123",
        NOW,
    )
    entries = read_entries(running.directory / "ecrin-journal.db")
    (row,) = [e for e in entries if e.type == "RecordingsHandedOver"]
    assert row.seq == body["journal_row"]
    assert event_from_dict(json.loads(row.payload)) == RecordingsHandedOver(
        time=NOW, camera="cam-comptoir", start=START, end=END, reference="PV 2026/123"
    )
    assert "Parquet" not in row.payload  # whom to stays in the register's own file
    assert running.kept.calls == [("cam-comptoir", START, END, "hand-over PV 2026/123")]


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (
            {**GOOD, "camera": "cam-nowhere"},
            400,
            "camera 'cam-nowhere' is not configured (cameras: cam-vitrine, cam-comptoir)",
        ),
        ({**GOOD, "from": GOOD["to"]}, 400, "from (2026-03-10 10:40) must be before to"),
        ({**GOOD, "to": "2026-03-20T13:30:00+01:00"}, 400, "is in the future"),
        ({**GOOD, "to_whom": "  "}, 400, "to_whom cannot be empty"),
        ({**GOOD, "reference": "x" * 201}, 400, "reference is longer than 200"),
        ({**GOOD, "reference": "x" * 1001}, 400, "field 'reference' is too long"),
        ({**GOOD, "from": "2026-03-10T10:00"}, 400, "field 'from' has no offset"),
        ({**GOOD, "to": "le 10 mars"}, 400, "field 'to' is not an ISO 8601 instant"),
        ({**GOOD, "from": "0001-01-01T00:00:00+05:00"}, 400, "field 'from' is out of range"),
        ({k: v for k, v in GOOD.items() if k != "reference"}, 400, "'reference' is required"),
        ({**GOOD, "to_whom": 3}, 400, "field 'to_whom' must be a string"),
        ({**GOOD, "note": "x"}, 400, 'unknown field "note"'),
        ([GOOD], 400, "must be a JSON object"),
        (b"{not json", 400, "not valid UTF-8 JSON"),
        (b"x" * 70_000, 413, "too large"),
    ],
)
async def test_a_bad_handover_is_refused_with_its_reason_and_records_nothing(
    running: RunningShop, body: Any, status: int, reason: str
) -> None:
    got, answer = await running.post(body)
    assert (got, answer["error"] != "internal_error") == (status, True)
    assert reason in answer["reason"]
    assert read_handovers(running.directory / "register.sqlite") == []
    assert running.journaled() == []
    assert running.kept.calls == []


@pytest.mark.parametrize(
    ("who", "headers", "status"),
    [
        ("referent", {}, 403),
        (None, {}, 401),
        ("installer", {"Content-Type": "text/plain"}, 415),
    ],
)
async def test_only_an_installer_may_record_a_handover(
    running: RunningShop, who: str | None, headers: dict[str, str], status: int
) -> None:
    got, _answer = await running.post(GOOD, who=who, headers=headers)
    assert got == status
    assert read_handovers(running.directory / "register.sqlite") == []
    assert running.kept.calls == []


# -- the command line, sent to the running hub ------------------------------------------
def parse(*argv: str) -> argparse.Namespace:
    return build_parser({"register": REGISTER_COMMAND}).parse_args(["register", *argv])


def command(running: RunningShop, *extra: str, **over: str) -> tuple[int, str, str]:
    """``ecrin register handover --hub`` in this thread (the hub's loop keeps running)."""
    values = {
        "--camera": "cam-comptoir",
        "--from": "2026-03-10T10:00",
        "--to": "2026-03-10T10:40",
        "--to-whom": "Parquet de Tours",
        "--reference": "PV 2026/123",
        "--hub": running.url,
        "--token-file": str(running.token_files["installer"]),
    } | over
    argv = ["handover", "-c", str(running.directory / "shop.yaml"), *extra]
    argv += [item for pair in values.items() for item in pair]
    out, err = io.StringIO(), io.StringIO()

    def read(path: Path):  # type: ignore[no-untyped-def]
        manager = PluginManager.from_environment()
        return load_config(path, manager.device_types(), manager.config_sections())

    async def no_hub(*_a: object, **_k: object) -> int:
        raise AssertionError("the command never runs the hub")

    def kept_here(*_args: object) -> None:
        raise AssertionError("with --hub, the hub keeps the recordings, not the command")

    ctx = CommandContext(
        out=out,
        err=err,
        stdin=io.BytesIO(),
        run_hub=no_hub,
        load_config=read,
        keep_recordings=kept_here,
    )
    code = register_main(parse(*argv), ctx, now=lambda: NOW)
    return code, out.getvalue(), err.getvalue()


async def test_the_command_sends_a_handover_to_the_running_hub(running: RunningShop) -> None:
    code, out, err = await asyncio.to_thread(command, running)
    assert code == 0, err
    assert "hand-over #1 recorded by the hub at" in out
    assert running.tokens["installer"] not in out + err
    assert [
        (h.camera, h.start, h.end) for h in read_handovers(running.directory / "register.sqlite")
    ] == [("cam-comptoir", START, END)]
    assert [e.reference for e in running.journaled()] == ["PV 2026/123"]
    assert running.kept.calls == [("cam-comptoir", START, END, "hand-over PV 2026/123")]


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"--token-file": "referent"}, "the hub refused (403)"),
        ({"--token-file": "missing"}, "cannot read the token"),
        ({"--hub": "ftp://127.0.0.1"}, "is not an http:// or https:// address"),
        ({"--hub": "http://127.0.0.1:9"}, "cannot reach the hub at http://127.0.0.1:9"),
    ],
)
async def test_the_command_says_why_the_hub_did_not_record(
    running: RunningShop, over: dict[str, str], reason: str
) -> None:
    token_file = over.get("--token-file")
    if token_file is not None:
        over = {**over, "--token-file": str(running.token_files.get(token_file, "/nonexistent"))}
    code, out, err = await asyncio.to_thread(command, running, **over)
    assert code == 2
    assert reason in err
    assert "nothing was recorded" in err
    assert running.tokens["installer"] not in out + err
    assert running.tokens["referent"] not in out + err
    assert read_handovers(running.directory / "register.sqlite") == []
    assert running.kept.calls == []


def test_a_token_file_other_accounts_may_read_is_refused(tmp_path: Path) -> None:
    token = new_token()
    path = tmp_path / "installer.token"
    path.write_text(token + "\n", encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(HubUnreachable) as refused:
        read_token(path)
    assert "chmod 600" in str(refused.value)
    assert token not in str(refused.value)
    path.chmod(0o600)
    assert read_token(path) == token


async def test_the_running_hub_makes_reports_in_a_child_from_its_shop_file(
    running: RunningShop,
) -> None:
    """The report comes from the shop file on disk, read by a child process: with the
    file gone, the hub (whose configuration is in memory) cannot make one."""
    url = f"{running.url}/api/v1/reports/coverage?from=2026-03-10&to=2026-03-10"
    headers = {"Authorization": f"Bearer {running.tokens['installer']}"}
    async with running.session.get(url, headers=headers) as response:
        assert response.status == 200, await response.text()
        report = await response.json()
    assert report["site"]["name"] == "Bijouterie Marchal"
    assert report["period"]["start"] == "2026-03-10T00:00:00+01:00"
    (running.directory / "shop.yaml").rename(running.directory / "elsewhere.yaml")
    async with running.session.get(url, headers=headers) as response:
        assert response.status == 503
        assert await response.json() == {
            "error": "unavailable",
            "reason": "the shop file cannot be read",
        }
