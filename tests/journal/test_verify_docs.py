"""Every reason ``ecrin journal verify`` can give is in docs/journal.md's table: an
installer who reads one on their screen finds what it means."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import hub.journal.verify

ROOT = Path(__file__).resolve().parents[2]


def reason_phrases() -> set[str]:
    """The fixed words of each reason: the text of every f-string after ``}: `` (up to
    the next placeholder), and every ``what`` a hash mismatch can name."""
    tree = ast.parse(Path(hub.journal.verify.__file__).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
            found.update(m.strip() for m in re.findall(r"\}: ([^{]+)", text) if m.strip())
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "what" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ):
            found.add(str(node.value.value))
    return found


def test_every_verify_reason_is_documented() -> None:
    phrases = reason_phrases()
    assert "out of order" in phrases  # the extraction finds the reasons
    table = (ROOT / "docs" / "journal.md").read_text(encoding="utf-8")
    missing = sorted(p for p in phrases if p not in table)
    assert missing == [], "reasons of `journal verify` missing from docs/journal.md"
