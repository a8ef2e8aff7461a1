"""The SDK is the whole surface the built-in device plugins use."""

from __future__ import annotations

import ast
from pathlib import Path

import hub.sdk
import hub.testing

ROOT = Path(__file__).resolve().parents[2]

#: The plugins held to the SDK alone. The escalation plugin registers rules, whose
#: contract moves into the core with the escalation seams.
SDK_ONLY = ("cameras", "panels", "sim")


def _hub_imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found += [(node.lineno, n) for n in names if n == "hub" or n.startswith("hub.")]
    return found


def test_every_public_name_is_there() -> None:
    for module in (hub.sdk, hub.testing):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_built_in_plugins_import_only_the_sdk_from_the_hub() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line}: imports {name}"
        for plugin in SDK_ONLY
        for path in sorted((ROOT / "plugins" / plugin).rglob("*.py"))
        for line, name in _hub_imports(path)
        if name != "hub.sdk"
    ]
    assert offences == []
