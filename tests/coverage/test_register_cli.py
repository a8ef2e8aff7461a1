"""``ecrin register``: show, export and hand-over, on real files (the shop file, the
journal, the escalation outbox, the register), through the real command line where
the coverage log is not needed, and with an in-memory reader where it is."""

from __future__ import annotations

import argparse
import asyncio
import io
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hub.cli import build_parser, main
from hub.commands import CommandContext
from hub.config import load_config
from hub.coverage.model import Interval
from hub.coverage.register_cli import REGISTER_COMMAND, register_main
from hub.coverage.register_export import CSV_COLUMNS
from hub.coverage.register_store import read_handovers
from hub.escalation.outbox import Outbox, OutboxBatch, SceneRecord
from hub.events import HubStarted, RecordingsHandedOver, event_from_dict, utcnow
from hub.journal import Journal, read_entries
from hub.plugins import PluginManager
from tests.coverage.register_support import Intervals, shop, utc

#: A fixed "now" for the commands that take a clock.
NOW = utc(2026, 3, 20, 12)


def journal_with_one_row(path: Path) -> None:
    async def write() -> None:
        async with Journal(path, verify_on_open=False) as journal:
            await journal.append([HubStarted(time=utc(2026, 3, 1), site="Bijouterie Marchal")])

    asyncio.run(write())


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    shop(tmp_path)
    journal_with_one_row(tmp_path / "ecrin-journal.db")
    return tmp_path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def parse(*argv: str) -> argparse.Namespace:
    return build_parser({"register": REGISTER_COMMAND}).parse_args(["register", *argv])


class Kept:
    """Records what the command asked the camera plugins to keep."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime, datetime, str]] = []

    def __call__(self, camera: str, start: datetime, end: datetime, incident: str) -> None:
        self.calls.append((camera, start, end, incident))


def context(out: io.StringIO, err: io.StringIO, kept: Kept | None = None) -> CommandContext:
    def read(path: Path):  # type: ignore[no-untyped-def]
        manager = PluginManager.from_environment()
        return load_config(path, manager.device_types(), manager.config_sections())

    async def no_hub(*_a: object, **_k: object) -> int:
        raise AssertionError("the register never runs the hub")

    return CommandContext(
        out=out,
        err=err,
        stdin=io.BytesIO(),
        run_hub=no_hub,
        load_config=read,
        keep_recordings=kept,
    )


def handover_args(directory: Path, **over: str) -> list[str]:
    values = {
        "--camera": "cam-comptoir",
        "--from": "2026-03-10T10:00",
        "--to": "2026-03-10T10:40",
        "--to-whom": "Parquet de Tours",
        "--reference": "PV 2026/123",
    } | over
    return ["handover", "-c", str(directory / "shop.yaml")] + [
        item for pair in values.items() for item in pair
    ]


# -- hand-over ------------------------------------------------------------------------------------


def test_a_handover_is_registered_journaled_and_kept(shop_dir: Path) -> None:
    out, err, kept = io.StringIO(), io.StringIO(), Kept()
    code = register_main(parse(*handover_args(shop_dir)), context(out, err, kept), now=lambda: NOW)
    assert code == 0, err.getvalue()
    # 10:00 and 10:40 in Paris (UTC+1 on 10 March).
    start, end = utc(2026, 3, 10, 9), utc(2026, 3, 10, 9, 40)
    (handover,) = read_handovers(shop_dir / "register.sqlite")
    assert (handover.id, handover.camera, handover.start, handover.end) == (
        1,
        "cam-comptoir",
        start,
        end,
    )
    assert (handover.to_whom, handover.reference, handover.recorded_at) == (
        "Parquet de Tours",
        "PV 2026/123",
        NOW,
    )
    assert stat.S_IMODE((shop_dir / "register.sqlite").stat().st_mode) == 0o600
    last = read_entries(shop_dir / "ecrin-journal.db")[-1]
    event = event_from_dict(__import__("json").loads(last.payload))
    assert event == RecordingsHandedOver(
        time=NOW, camera="cam-comptoir", start=start, end=end, reference="PV 2026/123"
    )
    assert "Parquet" not in last.payload  # whom to stays in the register's own file
    assert kept.calls == [("cam-comptoir", start, end, "hand-over PV 2026/123")]
    assert "hand-over #1 recorded: cam-comptoir 2026-03-10 10:00 to 2026-03-10 10:40" in (
        out.getvalue()
    )


def test_the_real_command_line_records_a_handover(shop_dir: Path) -> None:
    start = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    code, out, err = run(
        "register",
        *handover_args(
            shop_dir,
            **{"--from": start.isoformat(), "--to": (start + timedelta(hours=1)).isoformat()},
        ),
    )
    assert code == 0, err
    assert "hand-over #1 recorded" in out
    assert [h.start for h in read_handovers(shop_dir / "register.sqlite")] == [start]


@pytest.fixture
def hub_holding_the_journal(shop_dir: Path) -> Iterator[None]:
    """A real other process with the journal open for appending, as a running hub."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from pathlib import Path
        from hub.journal import Journal

        async def hold():
            async with Journal(Path(sys.argv[1]), verify_on_open=False):
                print("holding", flush=True)
                await asyncio.to_thread(sys.stdin.readline)

        asyncio.run(hold())
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(shop_dir / "ecrin-journal.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "holding"
        yield
    finally:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.close()
        proc.wait(timeout=30)


@pytest.mark.usefixtures("hub_holding_the_journal")
def test_a_handover_while_the_hub_runs_is_refused_and_records_nothing(shop_dir: Path) -> None:
    out, err, kept = io.StringIO(), io.StringIO(), Kept()
    code = register_main(parse(*handover_args(shop_dir)), context(out, err, kept), now=lambda: NOW)
    assert code == 2
    assert "another process appends to it (a running hub)" in err.getvalue()
    assert "add --hub http://127.0.0.1:8765 --token-file FILE" in err.getvalue()
    assert read_handovers(shop_dir / "register.sqlite") == []
    assert [e.type for e in read_entries(shop_dir / "ecrin-journal.db")] == ["HubStarted"]
    assert kept.calls == []


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        (
            {"--camera": "cam-nowhere"},
            "camera 'cam-nowhere' is not configured (cameras: cam-vitrine, cam-comptoir)",
        ),
        ({"--from": "2026-03-10T11:00"}, "must be before --to"),
        ({"--to": "2026-03-20T13:30"}, "is in the future"),
        ({"--to": "2026-03-20"}, "is in the future"),  # a date: its whole day
        ({"--from": "le 10 mars"}, "is not a date"),
        ({"--to-whom": "   "}, "--to-whom cannot be empty"),
        ({"--reference": "x" * 201}, "--reference is longer than 200"),
    ],
)
def test_a_bad_handover_is_refused_clearly(
    shop_dir: Path, over: dict[str, str], reason: str
) -> None:
    out, err, kept = io.StringIO(), io.StringIO(), Kept()
    code = register_main(
        parse(*handover_args(shop_dir, **over)), context(out, err, kept), now=lambda: NOW
    )
    assert code == 2
    assert reason in err.getvalue()
    assert err.getvalue().startswith("ecrin register handover: ")
    assert read_handovers(shop_dir / "register.sqlite") == []
    assert kept.calls == []


def test_a_handover_without_a_journal_is_refused(tmp_path: Path) -> None:
    shop(tmp_path)
    code, _out, err = run("register", *handover_args(tmp_path))
    assert code == 2
    assert "no journal" in err
    assert not (tmp_path / "ecrin-journal.db").exists()


def test_an_invalid_shop_file_is_reported_with_its_line(tmp_path: Path) -> None:
    path = shop(tmp_path, "site: {name: x}\n")
    code, _out, err = run("register", "show", "-c", str(path))
    assert code == 1
    assert f"{path}:" in err


def test_show_without_a_coverage_log_says_where_it_should_be(shop_dir: Path) -> None:
    code, _out, err = run("register", "show", "-c", str(shop_dir / "shop.yaml"))
    assert code == 2
    assert f"{shop_dir / 'coverage.sqlite'}: no coverage log" in err


# -- show and export -------------------------------------------------------------------------

READER = Intervals(
    [
        Interval("cam-comptoir", "recording", "on", utc(2026, 3, 10, 8), utc(2026, 3, 10, 12)),
        Interval("cam-vitrine", "recording", "on", utc(2026, 3, 10, 22), utc(2026, 3, 11, 1)),
    ],
    (utc(2026, 3, 10), utc(2026, 3, 12)),
)


def preserved_scene(directory: Path) -> None:
    async def write() -> None:
        async with Outbox(directory / "ecrin-outbox.db") as outbox:
            await outbox.commit(
                OutboxBatch(
                    scenes=[
                        SceneRecord(
                            "esc-20260310-100000-abc123",
                            utc(2026, 3, 10, 9, 50),
                            utc(2026, 3, 10, 10, 30),
                            ("cam-comptoir",),
                        )
                    ]
                )
            )

    asyncio.run(write())


def test_show_lists_recordings_destruction_dates_scenes_and_handovers(shop_dir: Path) -> None:
    preserved_scene(shop_dir)
    assert (
        register_main(
            parse(*handover_args(shop_dir)), context(io.StringIO(), io.StringIO()), now=lambda: NOW
        )
        == 0
    )
    out, err = io.StringIO(), io.StringIO()
    code = register_main(
        parse("show", "-c", str(shop_dir / "shop.yaml")),
        context(out, err),
        reader_factory=lambda _path: READER,
        now=lambda: utc(2026, 3, 25, 9, 30),  # between two destruction dates
    )
    assert code == 0, err.getvalue()
    text = out.getvalue()
    assert "Register of recordings: Bijouterie Marchal, 14 rue Nationale, 37000 Tours" in text
    lines = [line for line in text.splitlines() if line.startswith("cam-")]
    assert lines == [
        "cam-comptoir     2026-03-10 09:00 to 2026-03-10 10:00  retention 15 d"
        "  destroyed on 2026-03-25 10:00",
        "cam-comptoir     2026-03-10 10:00 to 2026-03-10 10:40  retention 15 d"
        "  kept (handed over PV 2026/123)",
        "cam-comptoir     2026-03-10 10:40 to 2026-03-10 10:50  retention 15 d"
        "  to be destroyed on 2026-03-25 10:50",
        "cam-comptoir     2026-03-10 10:50 to 2026-03-10 11:30  retention 15 d"
        "  kept (sealed scene esc-20260310-100000-abc123)",
        "cam-comptoir     2026-03-10 11:30 to 2026-03-10 13:00  retention 15 d"
        "  to be destroyed on 2026-03-25 13:00",
        # 30 days of 24 hours after its end: summer time began meanwhile.
        "cam-vitrine      2026-03-10 23:00 to 2026-03-11 00:00  retention 30 d"
        "  to be destroyed on 2026-04-10 01:00",
        "cam-vitrine      2026-03-11 00:00 to 2026-03-11 02:00  retention 30 d"
        "  to be destroyed on 2026-04-10 03:00",
    ]
    assert "handed over: #1 PV 2026/123 to Parquet de Tours on 2026-03-20 13:00" in text
    assert "#1 cam-comptoir 2026-03-10 10:00 to 2026-03-10 10:40: PV 2026/123, to Parquet" in text


def test_show_refuses_a_period_that_ends_before_it_starts(shop_dir: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = register_main(
        parse(
            "show", "-c", str(shop_dir / "shop.yaml"), "--from", "2026-03-11", "--to", "2026-03-10"
        ),
        context(out, err),
        reader_factory=lambda _path: READER,
    )
    assert code == 2
    assert "must be before --to" in err.getvalue()
    assert out.getvalue() == ""


def test_export_csv_is_one_row_per_line_written_0600(shop_dir: Path) -> None:
    target = shop_dir / "register.csv"
    out, err = io.StringIO(), io.StringIO()
    code = register_main(
        parse(
            "export", "-c", str(shop_dir / "shop.yaml"), "--format", "csv", "-o", str(target),
            "--from", "2026-03-10", "--to", "2026-03-10",
        ),
        context(out, err),
        reader_factory=lambda _path: READER,
        now=lambda: utc(2026, 4, 1),  # after the counter's destruction, before the window's
    )  # fmt: skip
    assert code == 0, err.getvalue()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    rows = target.read_text(encoding="utf-8").splitlines()
    assert rows[0] == ",".join(CSV_COLUMNS)
    # The 10th of March, Paris time: the vitrine's stretch stops at midnight.
    assert rows[1:] == [
        "cam-comptoir,2026-03-10,2026-03-10T09:00:00+01:00,2026-03-10T13:00:00+01:00,15,"
        "2026-03-25T13:00:00+01:00,,,no,yes",
        "cam-vitrine,2026-03-10,2026-03-10T23:00:00+01:00,2026-03-11T00:00:00+01:00,30,"
        "2026-04-10T01:00:00+02:00,,,no,no",
    ]


def test_export_pdf_is_a_pdf_written_0600(shop_dir: Path) -> None:
    target = shop_dir / "register.pdf"
    target.write_bytes(b"old")
    target.chmod(0o644)
    out, err = io.StringIO(), io.StringIO()
    code = register_main(
        parse("export", "-c", str(shop_dir / "shop.yaml"), "--format", "pdf", "-o", str(target)),
        context(out, err),
        reader_factory=lambda _path: READER,
        now=lambda: NOW,
    )
    assert code == 0, err.getvalue()
    assert target.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "3 recordings (pdf)" in out.getvalue()
