"""``ecrin report coverage``: the command's own checks and outputs, then the real
command line on a real shop file."""

from __future__ import annotations

import io
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from hub.cli import main
from hub.coverage.render_json import report_schema
from hub.coverage.report_command import report_coverage_main
from hub.coverage.report_source import COVERAGE_FILE, ReportSource, coverage_path
from tests.coverage.scripted import day_events, day_log, shop_config, write_journal

MADE = datetime(2024, 3, 14, 9, 0, tzinfo=UTC)


@pytest.fixture
async def source(tmp_path: Path) -> ReportSource:
    config = shop_config(tmp_path)
    await write_journal(config.journal.path, day_events())
    return ReportSource(config, day_log, clock=lambda: MADE)


def run(source: ReportSource, *args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    start, end, fmt, output = args
    code = report_coverage_main(source, str(start), str(end), fmt, output, out, err)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_json_to_a_private_file(source: ReportSource, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("an older report")
    target.chmod(0o644)
    code, out, err = run(source, "2024-03-12", "2024-03-12", "json", target)
    assert (code, out, err) == (0, "", "")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    document = json.loads(target.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(report_schema()).iter_errors(document)) == []
    assert document["zones"][0]["covered_percent"] == 85.29
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_text_formats_to_stdout(source: ReportSource) -> None:
    code, out, _ = run(source, "2024-03-12", "2024-03-12", "csv", None)
    assert code == 0
    assert out.startswith("subject_type,subject,kind,state,cause,start,end,seconds")
    code, out, _ = run(source, "2024-03-12", "2024-03-12", "html", None)
    assert code == 0
    assert "85.29 %" in out


def test_pdf_needs_a_file(source: ReportSource, tmp_path: Path) -> None:
    code, out, err = run(source, "2024-03-12", "2024-03-12", "pdf", None)
    assert (code, out) == (2, "")
    assert "give -o FILE.pdf" in err
    target = tmp_path / "report.pdf"
    assert run(source, "2024-03-12", "2024-03-12", "pdf", target)[0] == 0
    assert target.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2024-03-13", "2024-03-12", "--from 2024-03-13 is not before --to 2024-03-12"),
        ("2024-03-12", "soon", "--to: 'soon' is not a date"),
    ],
)
def test_a_bad_period_is_refused(source: ReportSource, start: str, end: str, message: str) -> None:
    code, out, err = run(source, start, end, "json", None)
    assert (code, out) == (2, "")
    assert message in err


async def test_without_a_log_or_a_journal_no_report(tmp_path: Path) -> None:
    config = shop_config(tmp_path)
    code, out, err = run(ReportSource.of(config), "2024-03-12", "2024-03-12", "json", None)
    assert (code, out) == (2, "")
    assert f"{tmp_path / COVERAGE_FILE}: no coverage log" in err
    assert coverage_path(config) == tmp_path / COVERAGE_FILE
    no_journal = ReportSource(config, day_log, clock=lambda: MADE)
    code, out, err = run(no_journal, "2024-03-12", "2024-03-12", "json", None)
    assert (code, out) == (2, "")
    assert "journal.db" in err
    assert "no such file" in err


# -- the command line ----------------------------------------------------------------------
SHOP = """\
site:
  name: Bijouterie Signal
  address: 5 rue de la Paix, 75002 Paris
  departement: "75"
  timezone: Europe/Paris
zones:
  - {id: comptoir, name: Comptoir, risk: high}
journal:
  path: journal.db
"""


def ecrin(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


def test_the_command_line_reads_the_shop_file_and_says_what_is_missing(tmp_path: Path) -> None:
    shop = tmp_path / "shop.yaml"
    shop.write_text(SHOP)
    base = ["report", "coverage", "-c", str(shop), "--format", "json"]
    code, out, err = ecrin(*base, "--from", "2024-03-01", "--to", "2024-03-31")
    assert (code, out) == (2, "")
    assert f"{tmp_path / COVERAGE_FILE}: no coverage log" in err
    code, _, err = ecrin(*base, "--from", "2024-03-31", "--to", "2024-03-01")
    assert code == 2
    assert "--from 2024-03-31 is not before --to 2024-03-01" in err
    code, _, err = ecrin(*base[:3], str(tmp_path / "none.yaml"), "--from", "x", "--to", "y")
    assert code == 2
    assert "none.yaml: no such file" in err
    shop.write_text(SHOP.replace("risk: high", "risk: extreme"))
    code, _, err = ecrin(*base, "--from", "2024-03-01", "--to", "2024-03-31")
    assert code == 1
    assert f"{shop}:7:" in err
