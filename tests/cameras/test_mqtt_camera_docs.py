"""The examples of docs/mqtt-camera.md are valid settings: each rule they show reads."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import yaml

from plugins.cameras.payload_rules import AVAILABILITY, MOTION, RECORDING, parse_rule

DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt-camera.md"
SPECS = {spec.what: spec for spec in (AVAILABILITY, RECORDING, MOTION)}


def rules_in(node: Any) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SPECS and isinstance(value, dict):
                found.append((key, value))
            else:
                found += rules_in(value)
    elif isinstance(node, list):
        for item in node:
            found += rules_in(item)
    return found


def test_every_rule_the_guide_shows_is_valid() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    rules = [rule for block in blocks for rule in rules_in(yaml.safe_load(textwrap.dedent(block)))]
    assert len(rules) >= 10
    for what, mapping in rules:
        made, problems = parse_rule(SPECS[what], mapping)
        assert problems == [], (what, mapping)
        assert made is not None
